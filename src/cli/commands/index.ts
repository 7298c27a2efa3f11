// Every sub-command registers itself on the program; add new commands to this list.
import type { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerReport } from './report.js';
import { registerTrain } from './train.js';
import { registerEval } from './eval.js';
import { registerPredict } from './predict.js';
import { registerModels } from './models.js';
import { registerInfer } from './infer.js';
import { registerTune } from './tune.js';
import { registerAblate } from './ablate.js';
import { registerRun } from './run.js';
import { registerConvert } from './convert.js';
import { registerExport } from './export.js';
import { registerServe } from './serve.js';
import { registerQuantize } from './quantize.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerTrain,
  registerEval,
  registerPredict,
  registerModels,
  registerInfer,
  registerReport,
  registerTune,
  registerBench,
  registerAblate,
  registerRun,
  registerConvert,
  registerExport,
  registerServe,
  registerQuantize,
];
