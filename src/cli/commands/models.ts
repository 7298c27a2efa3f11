// `senet models`: every registry model with its parameters and multiply-accumulates at its default input,
// measured by summarizeModel on the real model (one forward pass each, so the large ImageNet models take
// a few seconds).
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import * as torch from '../../torch/index.js';
import { createModel, listModels, summarizeModel, type ModelInfo } from '../../models/index.js';
import { Progress } from '../../train/progress.js';
import { formatCount, renderTable } from '../tables.js';
import { threadsOption } from '../options.js';

export interface ModelCost {
  name: string;
  params: number;
  macs: number;
  /** The default input [C, H, W]. */
  input: [number, number, number];
}

/** Builds each model in turn and measures it. */
export function measureModels(onModel?: (done: number, total: number, name: string) => void): ModelCost[] {
  const models = listModels();
  return models.map((info, i) => {
    onModel?.(i, models.length, info.name);
    const model = createModel(info.name);
    try {
      const { params, macs } = summarizeModel(model, info.defaultInput);
      return { name: info.name, params, macs, input: info.defaultInput };
    } finally {
      model.dispose();
    }
  });
}

export function registerModels(program: Command): void {
  program
    .command('models')
    .description(
      'list the models with their parameters and MACs (multiply-accumulates per image) at their default input',
    )
    .option('--threads <n>', 'libtorch threads for measuring (default: every core)', threadsOption())
    .option('--json', 'print one JSON array of { name, params, macs, input }')
    .action((o: { json?: boolean; threads?: number }) => {
      torch.setNumThreads(o.threads ?? availableParallelism());
      const progress = new Progress();
      const costs = measureModels((done, total, name) => progress.update('Measuring models', done, total, name));
      progress.done();
      if (o.json) {
        console.log(JSON.stringify(costs));
        return;
      }
      const info = new Map<string, ModelInfo>(listModels().map((m) => [m.name, m]));
      console.log(
        renderTable(
          ['model', 'input', 'params', 'MACs', 'SE', 'description'],
          costs.map((c) => [
            c.name,
            c.input.join('×'),
            formatCount(c.params),
            formatCount(c.macs),
            info.get(c.name)!.hasSE ? 'yes' : 'no',
            info.get(c.name)!.description,
          ]),
          new Set([2, 3]),
        ),
      );
    });
}
