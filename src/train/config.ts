// What a training run does, as one plain JSON-able object: the model, the data, the optimizer and its
// schedule, the augmentation, the seed. The defaults are the user's seed program (SimpleCNN with one SE
// block on CIFAR-10, ToTensor + Normalize(0.5, 0.5), batch 64 shuffled, Adam lr 1e-3, 10 epochs,
// cross-entropy). A resolved config is built from layers — defaults < config file < command-line flags —
// each checked field by field, so that a bad value is reported with where it came from; a named recipe
// (recipes.ts) is one more layer, right above the defaults: defaults < recipe < config file < flags.
import { createHash } from 'node:crypto';
import { checkAttentionConfig, type AttentionConfig } from '../se/index.js';
import { listModels, SE_PLACEMENTS, type SEPlacement } from '../models/index.js';
import { AUGMENTATIONS, DATA_MODES, NORMALIZATIONS, type Augmentation, type DataMode } from '../data/index.js';
import { RECIPES, recipeLayer, type RecipeName } from './recipes.js';
import { canonicalJson, readJsonFile } from '../util/json-files.js';
import { TTA_MODES, type TTAMode } from './tta.js';
import { MEMORY_FORMATS, type TrainingMemoryFormat } from '../models/memory-format.js';

export const OPTIMIZERS = ['adam', 'sgd', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const SCHEDULES = ['none', 'step', 'multistep', 'cosine', 'onecycle', 'linear'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export const MIXED_PRECISIONS = ['none', 'bf16'] as const;
export type MixedPrecision = (typeof MIXED_PRECISIONS)[number];

/** Datasets known by name; anything else in `data` is a folder with train/ and test/ subfolders. */
export const NAMED_DATASETS = ['cifar10', 'cifar100'] as const;

export interface TrainConfig {
  /** A registry model (`senet models`). */
  model: string;
  /** Options merged onto the model's attention unit ({ "type": "eca" }, { "reduction": 8 }, ...); null = the model's own. */
  attention: AttentionConfig | null;
  /** Where the SE unit sits in each block (CIFAR ResNets only); null = the model's default. */
  sePlacement: SEPlacement | null;
  /** 'cifar10', 'cifar100', or an image folder with train/ and test/ subfolders of class folders. */
  data: string;
  /** Image folders: resize every image to imageSize×imageSize; null = use the images' own size. */
  imageSize: number | null;
  // -- streaming data (src/data/data-mode.ts) --
  /** Image folders and tar shards: decoded into memory, streamed per batch, or chosen by the rule ('auto'). */
  dataMode: DataMode;
  /** Streamed training: ColorJitter strength for brightness, contrast and saturation (0 = none). */
  colorJitter: number;
  epochs: number;
  batchSize: number;
  /** A new order of the training images every epoch. */
  shuffle: boolean;
  optimizer: OptimizerName;
  lr: number;
  /** SGD only. */
  momentum: number;
  /** SGD only: Nesterov momentum. */
  nesterov: boolean;
  /** L2 penalty (SGD, Adam) or decoupled decay (AdamW); null = the optimizer's default (0; AdamW 0.01). */
  weightDecay: number | null;
  /** false = no weight decay on BatchNorm parameters and biases (every parameter with fewer than 2 dimensions). */
  decayBnAndBias: boolean;
  /**
   * Learning-rate multiplier for the parameters with fewer than 2 dimensions (biases, BatchNorm shifts and
   * scales), as airbench's bias scaler; their weight decay, when they are decayed, is divided by it so that
   * every parameter decays by the same fraction per step.
   */
  biasLrScale: number;
  /** BatchNorm scales (γ) fixed at 1 and not trained, leaving each BatchNorm a learned shift only. */
  freezeBnScale: boolean;
  /** How the learning rate moves, stepped after every batch; lengths below are in epochs. */
  schedule: ScheduleName;
  /** Epochs of linear warmup from lr/100 (onecycle: the fraction of the cycle spent rising). */
  warmupEpochs: number;
  /** 'step': decay by gamma every stepSize epochs; null = a third of the epochs. */
  stepSize: number | null;
  /** 'multistep': decay by gamma at these epochs; null = at 50% and 75% of the epochs. */
  milestones: number[] | null;
  /** 'step' and 'multistep': the decay factor. */
  gamma: number;
  labelSmoothing: number;
  augment: Augmentation;
  /** Per-channel normalisation of pixels scaled to [0, 1]: (x - mean) / std. */
  mean: number[];
  std: number[];
  seed: number;
  /** libtorch threads; null = every available core. */
  threads: number | null;
  /** The run directory; null = runs/<model>-<timestamp>. */
  out: string | null;
  /** Evaluate on the test split every evalEvery epochs (and always after the last). */
  evalEvery: number;
  /** The named recipe under the config file and flags (recipes.ts); its fields are defaults the others override. */
  recipe: RecipeName;
  /**
   * Keep an exponential moving average of the weights with this decay per step (ema.ts), evaluate and
   * save it instead of the raw weights; null = off.
   */
  ema: number | null;
  /** Test-time augmentation of the evaluation: none, the mean of the image's and its mirror's softmax, or that over 1-pixel shifts too. */
  tta: TTAMode;
  /** 'bf16': forward pass and loss under CPU bfloat16 autocast, in training and evaluation; 'none': float32. */
  mixedPrecision: MixedPrecision;
  /** FastNets: set the 2×2 stem to the whitening transform of the training images' patches and freeze it (whitening.ts). */
  whiten: boolean;
  /** FastNets: start each group's convolutions as partial identities (identity-init.ts). */
  identityInit: boolean;
  /** 'channelsLast': weights and batches in NHWC memory order (faster convolutions on the CPU); same numbers up to rounding. */
  memoryFormat: TrainingMemoryFormat;
}

export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  model: 'simple-cnn',
  attention: null,
  sePlacement: null,
  data: 'cifar10',
  imageSize: null,
  dataMode: 'auto',
  colorJitter: 0,
  epochs: 10,
  batchSize: 64,
  shuffle: true,
  optimizer: 'adam',
  lr: 1e-3,
  momentum: 0.9,
  nesterov: false,
  weightDecay: null,
  decayBnAndBias: true,
  biasLrScale: 1,
  freezeBnScale: false,
  schedule: 'none',
  warmupEpochs: 0,
  stepSize: null,
  milestones: null,
  gamma: 0.1,
  labelSmoothing: 0,
  augment: 'none',
  mean: [...NORMALIZATIONS.half.mean],
  std: [...NORMALIZATIONS.half.std],
  seed: 0,
  threads: null,
  out: null,
  evalEvery: 1,
  recipe: 'seed',
  ema: null,
  tta: 'none',
  mixedPrecision: 'none',
  whiten: false,
  identityInit: false,
  memoryFormat: 'contiguous',
} satisfies TrainConfig);

export type ConfigKey = keyof TrainConfig;
export const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as ConfigKey[];

/** Names a field as the user wrote it: `--lr` on the command line, `'lr' in run.json` in a file. */
export interface ConfigSource {
  describe(key: ConfigKey): string;
}

export const DEFAULTS_SOURCE: ConfigSource = { describe: (key) => `the default ${key}` };

export function fileSource(path: string): ConfigSource {
  return { describe: (key) => `'${key}' in ${path}` };
}

/** One layer of a config: some fields and where they came from. */
export interface ConfigLayer {
  values: Partial<TrainConfig>;
  source: ConfigSource;
}

// ---- field checks ----

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumberList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every(isNumber);

interface FieldRule {
  expected: string;
  ok(value: unknown): boolean;
}

const oneOf = (choices: readonly string[]): FieldRule => ({
  expected: `one of ${choices.map((c) => `'${c}'`).join(', ')}`,
  ok: (v) => typeof v === 'string' && choices.includes(v),
});
const orNull = (rule: FieldRule): FieldRule => ({ expected: `${rule.expected}, or null`, ok: (v) => v === null || rule.ok(v) });
const intAtLeast = (min: number): FieldRule => ({ expected: `an integer >= ${min}`, ok: (v) => isInt(v, min) });
const boolean: FieldRule = { expected: 'true or false', ok: (v) => typeof v === 'boolean' };
const text: FieldRule = { expected: 'a non-empty string', ok: (v) => typeof v === 'string' && v.trim() !== '' };

const FIELDS: Record<ConfigKey, FieldRule> = {
  model: { expected: `a model name (one of ${listModels().map((m) => m.name).join(', ')})`, ok: (v) => listModels().some((m) => m.name === v) },
  attention: {
    expected: 'an attention config object such as { "type": "se", "reduction": 8 }, or null',
    ok: (v) => v === null || (typeof v === 'object' && !Array.isArray(v)),
  },
  sePlacement: orNull(oneOf(SE_PLACEMENTS)),
  data: { expected: `${NAMED_DATASETS.map((d) => `'${d}'`).join(', ')} or an image folder path`, ok: text.ok },
  imageSize: orNull(intAtLeast(1)),
  dataMode: oneOf(DATA_MODES),
  colorJitter: { expected: 'a number from 0 to 1', ok: (v) => isNumber(v) && v >= 0 && v <= 1 },
  epochs: intAtLeast(1),
  batchSize: intAtLeast(1),
  shuffle: boolean,
  optimizer: oneOf(OPTIMIZERS),
  lr: { expected: 'a number > 0', ok: (v) => isNumber(v) && v > 0 },
  momentum: { expected: 'a number in [0, 1)', ok: (v) => isNumber(v) && v >= 0 && v < 1 },
  nesterov: boolean,
  weightDecay: { expected: 'a number >= 0, or null for the optimizer\'s default', ok: (v) => v === null || (isNumber(v) && v >= 0) },
  decayBnAndBias: boolean,
  biasLrScale: { expected: 'a number > 0', ok: (v) => isNumber(v) && v > 0 },
  freezeBnScale: boolean,
  schedule: oneOf(SCHEDULES),
  warmupEpochs: intAtLeast(0),
  stepSize: orNull(intAtLeast(1)),
  milestones: {
    expected: 'a list of increasing epochs >= 1, or null',
    ok: (v) => v === null || (Array.isArray(v) && v.length > 0 && v.every((m, i) => isInt(m, 1) && (i === 0 || m > v[i - 1]))),
  },
  gamma: { expected: 'a number in (0, 1]', ok: (v) => isNumber(v) && v > 0 && v <= 1 },
  labelSmoothing: { expected: 'a number in [0, 1)', ok: (v) => isNumber(v) && v >= 0 && v < 1 },
  augment: oneOf(AUGMENTATIONS),
  mean: { expected: 'a list of numbers, one per channel', ok: isNumberList },
  std: { expected: 'a list of numbers > 0, one per channel', ok: (v) => isNumberList(v) && v.every((s) => s > 0) },
  seed: { expected: 'an integer >= 0', ok: (v) => isInt(v, 0) },
  threads: orNull(intAtLeast(1)),
  out: orNull(text),
  evalEvery: intAtLeast(1),
  recipe: oneOf(RECIPES),
  ema: { expected: 'a decay in (0, 1) such as 0.99, or null for no averaging', ok: (v) => v === null || (isNumber(v) && v > 0 && v < 1) },
  tta: oneOf(TTA_MODES),
  mixedPrecision: oneOf(MIXED_PRECISIONS),
  whiten: boolean,
  identityInit: boolean,
  memoryFormat: oneOf(MEMORY_FORMATS),
};

function show(value: unknown): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}

/**
 * Checks the fields of one layer (a config file, the flags) on their own: every key must be a config
 * field, every value of the right kind. Throws one error naming the first bad field and its source.
 */
export function checkConfigLayer(raw: unknown, source: ConfigSource, what = 'config'): Partial<TrainConfig> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${what} must be a JSON object of training settings, got ${show(raw)}`);
  }
  const unknown = Object.keys(raw).filter((k) => !(CONFIG_KEYS as string[]).includes(k));
  if (unknown.length > 0) {
    throw new Error(`${what}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
      `expected some of ${CONFIG_KEYS.join(', ')}`);
  }
  for (const [key, value] of Object.entries(raw) as [ConfigKey, unknown][]) {
    const rule = FIELDS[key];
    if (!rule.ok(value)) throw new Error(`${source.describe(key)} is ${show(value)}; expected ${rule.expected}`);
    if (key === 'attention' && value !== null) checkAttentionConfig(value, source.describe(key));
  }
  return raw as Partial<TrainConfig>;
}

/** Checks that the fields of a complete config fit together (the fields themselves are checked by layer). */
function checkCombination(c: TrainConfig): void {
  if (c.mean.length !== c.std.length) {
    throw new Error(`mean ${show(c.mean)} and std ${show(c.std)} must have one value per channel each (got ${c.mean.length} and ${c.std.length})`);
  }
  if (c.warmupEpochs >= c.epochs && c.schedule !== 'none') {
    throw new Error(`warmupEpochs (${c.warmupEpochs}) must be less than epochs (${c.epochs}) for the '${c.schedule}' schedule`);
  }
  if (c.warmupEpochs > c.epochs) throw new Error(`warmupEpochs (${c.warmupEpochs}) must be at most epochs (${c.epochs})`);
  if (c.nesterov && (c.optimizer !== 'sgd' || c.momentum === 0)) {
    throw new Error(`nesterov needs the sgd optimizer with momentum > 0 (got optimizer '${c.optimizer}', momentum ${c.momentum})`);
  }
  if (c.milestones && c.milestones.some((m) => m <= c.warmupEpochs || m >= c.epochs)) {
    throw new Error(`milestones ${show(c.milestones)} must lie after the warmup (${c.warmupEpochs} epochs) and before the last epoch (${c.epochs})`);
  }
  const family = listModels().find((m) => m.name === c.model)?.family;
  if (c.whiten && family !== 'cifar-fastnet') {
    throw new Error(`whiten applies to the FastNets (fastnet, se-fastnet), whose first layer is a 2×2 whitening stem, not to '${c.model}'`);
  }
  if (c.identityInit && family !== 'cifar-fastnet') {
    throw new Error(`identityInit applies to the FastNets (fastnet, se-fastnet), not to '${c.model}'`);
  }
  if (c.sePlacement !== null && family !== 'cifar-resnet') {
    throw new Error(`sePlacement applies to the CIFAR ResNets (resnet20 ... se-resnet110), not to '${c.model}'`);
  }
}

/**
 * The config the layers make, later layers overriding earlier ones, on top of the recipe the last of them
 * to name one names (else the seed recipe) on top of DEFAULT_CONFIG; checked.
 */
export function resolveConfig(...layers: ConfigLayer[]): TrainConfig {
  for (const { values, source } of layers) checkConfigLayer(values, source);
  const recipe = layers.map((l) => l.values.recipe).filter((r) => r !== undefined).at(-1) ?? DEFAULT_CONFIG.recipe;
  const merged = structuredClone(DEFAULT_CONFIG) as TrainConfig;
  for (const { values } of [recipeLayer(recipe), ...layers]) {
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = structuredClone(value);
    }
  }
  checkCombination(merged);
  return merged;
}

/** A complete config read back (config.json of a run): every field present and valid. */
export function checkCompleteConfig(raw: unknown, path: string): TrainConfig {
  const values = checkConfigLayer(raw, fileSource(path), path);
  const missing = CONFIG_KEYS.filter((k) => !(k in values));
  if (missing.length > 0) throw new Error(`${path} lacks the field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: it is not a complete training config`);
  return resolveConfig({ values, source: fileSource(path) });
}

/** Reads a JSON config file (a layer: any subset of the fields). */
export function readConfigFile(path: string): Partial<TrainConfig> {
  return checkConfigLayer(readJsonFile(path, 'the config file'), fileSource(path), `the config file ${path}`);
}

/** The fields that do not change what is computed (where it is written, how many threads compute it). */
const NOT_HASHED: readonly ConfigKey[] = ['out', 'threads'];

/**
 * A digest of everything that determines the trained weights; a checkpoint records it, so that a run is
 * never resumed under a config other than the one it was started with.
 */
export function configHash(config: TrainConfig): string {
  const hashed = Object.fromEntries(CONFIG_KEYS.filter((k) => !NOT_HASHED.includes(k)).map((k) => [k, config[k]]));
  return createHash('sha256').update(canonicalJson(hashed)).digest('hex').slice(0, 16);
}

/** The weight decay the optimizer gets: the configured one, or the optimizer's own default. */
export function effectiveWeightDecay(config: TrainConfig): number {
  return config.weightDecay ?? (config.optimizer === 'adamw' ? 0.01 : 0);
}
