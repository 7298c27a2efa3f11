// The run config of `senet run --config FILE`: the whole workflow in one JSON file.
//
//   {
//     "out": "runs/cifar-se",                 // the run directory (required)
//     "train": { "model": "se-resnet20", ... },  // a training config as `senet train --config` takes it
//                                             //   ("recipe" allowed; or the path of such a file)
//     "tune": {                               // optional: without it, hyper-parameter tuning is skipped
//       "space": { "lr": { "type": "float", "low": 1e-4, "high": 0.1, "log": true } },
//                                             //   as `senet tune --space` (or the path of such a file)
//       "sampler": "tpe", "samplerOptions": { "startupTrials": 4 },   // default tpe
//       "pruner": "asha", "prunerOptions": { "reductionFactor": 2 },  // default asha
//       "trials": 8, "maxEpochsTotal": 12, "timeoutMinutes": 30,      // the budget: at least one (grid: none needed)
//       "seed": 0,                            // the sampler's seed (default 0)
//       "epochs": 2                           // epochs of each trial (default: the train config's)
//     },
//     "report": true                          // optional: write report.md/report.html into out at the end
//   }
//
// Relative paths (out, train and space files, a data folder) are taken from the folder of the run
// config, so the same command works from anywhere. Every field is checked; an error names the field.
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  NAMED_DATASETS,
  checkConfigLayer,
  resolveConfig,
  type ConfigSource,
  type TrainConfig,
} from '../train/config.js';
import {
  PRUNERS,
  SAMPLERS,
  checkSpaceFitsConfig,
  createPruner,
  createSampler,
  parseSpace,
  type PrunerConfig,
  type SamplerConfig,
  type SearchSpace,
} from '../tune/index.js';
import { readJsonFile } from '../util/json-files.js';

export interface TuneSpec {
  space: SearchSpace;
  sampler: SamplerConfig;
  pruner: PrunerConfig;
  /** Trials in the study in all (null: no limit). */
  trials: number | null;
  /** Epochs of all trials together (null: no limit). */
  maxEpochsTotal: number | null;
  /** Time one `senet run` may spend tuning (null: no limit); not part of the study. */
  timeoutMinutes: number | null;
  /** Epochs of each trial (null: the train config's). */
  epochs: number | null;
}

export interface RunSpec {
  /** The run directory, absolute. */
  out: string;
  /** The training config, resolved (out = the run directory). */
  train: TrainConfig;
  tune: TuneSpec | null;
  report: boolean;
}

const TOP_KEYS = ['out', 'train', 'tune', 'report'] as const;
const TUNE_KEYS = [
  'space',
  'sampler',
  'samplerOptions',
  'pruner',
  'prunerOptions',
  'trials',
  'maxEpochsTotal',
  'timeoutMinutes',
  'seed',
  'epochs',
] as const;

const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and checks a run config file. */
export function readRunSpec(path: string): RunSpec {
  return parseRunSpec(readJsonFile(path, 'the run config'), { path: resolve(path) });
}

/**
 * Checks a run config (as read from JSON) and resolves it. `path` names it in messages; relative paths
 * in it are taken from its folder (default: the current folder).
 */
export function parseRunSpec(raw: unknown, { path = 'the run config' }: { path?: string } = {}): RunSpec {
  const base = path === 'the run config' ? process.cwd() : dirname(path);
  const at = (field: string) => `'${field}' in ${path}`;
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new Error(`${at(field)} is ${show(value)}; expected ${expected}`);
  };
  if (!isObject(raw))
    throw new Error(
      `${path} must be a JSON object with 'out', 'train' and optionally 'tune' and 'report', got ${show(raw)}`,
    );
  const unknown = Object.keys(raw).filter((k) => !(TOP_KEYS as readonly string[]).includes(k));
  if (unknown.length)
    throw new Error(
      `${path}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; expected some of ${TOP_KEYS.join(', ')}`,
    );

  if (typeof raw.out !== 'string' || raw.out.trim() === '')
    fail('out', raw.out, 'the run directory (a non-empty path)');
  const out = resolve(base, raw.out as string);

  // The training config: inline, or a file as `senet train --config` reads it.
  let trainValues: unknown = raw.train;
  let trainSource: ConfigSource = { describe: (key) => at(`train.${key}`) };
  let trainWhere = at('train');
  if (typeof raw.train === 'string') {
    const file = resolve(base, raw.train);
    trainValues = readJsonFile(file, 'the training config');
    trainSource = { describe: (key) => `'${key}' in ${file}` };
    trainWhere = `the training config ${file}`;
  } else if (!isObject(raw.train)) {
    fail('train', raw.train, 'a training config object (as for senet train --config) or the path of one');
  }
  const layer = checkConfigLayer(trainValues, trainSource, trainWhere);
  if (layer.out !== undefined)
    throw new Error(
      `${trainSource.describe('out')}: the run directory is the top-level 'out' of ${path}; remove it from the training config`,
    );
  if (
    layer.data !== undefined &&
    !(NAMED_DATASETS as readonly string[]).includes(layer.data) &&
    !isAbsolute(layer.data)
  ) {
    layer.data = resolve(base, layer.data);
  }
  const train = resolveConfig({ values: { ...layer, out }, source: trainSource });

  let report = false;
  if (raw.report !== undefined) {
    if (typeof raw.report !== 'boolean') fail('report', raw.report, 'true or false');
    report = raw.report as boolean;
  }
  const tune = raw.tune === undefined || raw.tune === null ? null : parseTune(raw.tune, train, base, at, fail);
  return { out, train, tune, report };
}

function parseTune(
  raw: unknown,
  train: TrainConfig,
  base: string,
  at: (field: string) => string,
  fail: (field: string, value: unknown, expected: string) => never,
): TuneSpec {
  if (!isObject(raw))
    fail('tune', raw, 'an object with the search space and budget, e.g. { "space": {...}, "trials": 8 }');
  const tune = raw as Record<string, unknown>;
  const unknown = Object.keys(tune).filter((k) => !(TUNE_KEYS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new Error(
      `${at('tune')}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; expected some of ${TUNE_KEYS.join(', ')}`,
    );
  }
  const optionalInt = (field: string, min: number): number | null => {
    const v = tune[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`tune.${field}`, v, `an integer >= ${min}`);
    return v as number;
  };
  const options = (field: string): Record<string, unknown> => {
    const v = tune[field];
    if (v === undefined) return {};
    if (!isObject(v)) fail(`tune.${field}`, v, 'an object of options');
    return v as Record<string, unknown>;
  };

  if (tune.space === undefined)
    fail('tune.space', undefined, 'a search space object (as for senet tune --space) or the path of one');
  let space: SearchSpace;
  if (typeof tune.space === 'string') {
    const file = resolve(base, tune.space);
    space = parseSpace(readJsonFile(file, 'the search space'), file);
  } else {
    space = parseSpace(tune.space, at('tune.space'));
  }
  if (space.length === 0) fail('tune.space', tune.space, 'at least one parameter to search');

  const samplerType = tune.sampler ?? 'tpe';
  if (!(SAMPLERS as readonly unknown[]).includes(samplerType))
    fail('tune.sampler', samplerType, `one of ${SAMPLERS.join(', ')}`);
  const prunerType = tune.pruner ?? 'asha';
  if (!(PRUNERS as readonly unknown[]).includes(prunerType))
    fail('tune.pruner', prunerType, `one of ${PRUNERS.join(', ')}`);
  const seed = optionalInt('seed', 0) ?? 0;
  const sampler = { ...options('samplerOptions'), type: samplerType, seed } as SamplerConfig;
  const pruner = { ...options('prunerOptions'), type: prunerType } as PrunerConfig;
  // Built once here, so that a bad option fails before anything runs.
  try {
    createSampler(sampler, space);
  } catch (error) {
    throw new Error(`${at('tune.samplerOptions')}: ${(error as Error).message}`);
  }
  try {
    createPruner(pruner);
  } catch (error) {
    throw new Error(`${at('tune.prunerOptions')}: ${(error as Error).message}`);
  }

  const trials = optionalInt('trials', 1);
  const maxEpochsTotal = optionalInt('maxEpochsTotal', 1);
  const epochs = optionalInt('epochs', 1);
  let timeoutMinutes: number | null = null;
  if (tune.timeoutMinutes !== undefined && tune.timeoutMinutes !== null) {
    const v = tune.timeoutMinutes;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      fail('tune.timeoutMinutes', v, 'a number of minutes > 0');
    timeoutMinutes = v as number;
  }
  if (trials === null && maxEpochsTotal === null && timeoutMinutes === null && samplerType !== 'grid') {
    throw new Error(
      `${at('tune')} has no budget: give 'trials', 'maxEpochsTotal' or 'timeoutMinutes' (the ${samplerType} sampler never runs out of trials)`,
    );
  }
  if (epochs !== null && space.some((p) => p.name === 'epochs')) {
    throw new Error(
      `${at('tune.epochs')} fixes the epochs of every trial, but the search space also searches 'epochs'; give one of them`,
    );
  }
  checkSpaceFitsConfig(space, studyBaseConfig(train, epochs));
  return { space, sampler, pruner, trials, maxEpochsTotal, timeoutMinutes, epochs };
}

/** The base config of the study's trials: the training config with the trials' epochs; where they write and their threads are the study's business. */
export function studyBaseConfig(train: TrainConfig, epochs: number | null): TrainConfig {
  return resolveConfig({
    values: { ...train, epochs: epochs ?? train.epochs, out: null, threads: null },
    source: { describe: (key) => (key === 'epochs' ? "'tune.epochs'" : `the training config's ${key}`) },
  });
}
