// What a training run does, as one plain JSON-able object: the model, the data, the optimizer and its
// schedule, the augmentation, the seed. The defaults are the user's seed program (SimpleCNN with one SE
// block on CIFAR-10, ToTensor + Normalize(0.5, 0.5), batch 64 shuffled, Adam lr 1e-3, 10 epochs,
// cross-entropy). A resolved config is built from layers — defaults < config file < command-line flags —
// each checked field by field, so that a bad value is reported with where it came from; a named recipe
// (recipes.ts) is one more layer, right above the defaults: defaults < recipe < config file < flags.
// The fields themselves — type, default, check, flag, tuning — are declared once, in config-schema.ts.
import { createHash } from 'node:crypto';
import { listModels } from '../models/index.js';
import { recipeLayer } from './recipes.js';
import { canonicalJson, readJsonFile } from '../util/json-files.js';
import {
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  fieldSpec,
  MAX_BATCH_INPUT_BYTES,
  NAMED_DATASETS,
  type ConfigKey,
  type TrainConfig,
} from './config-schema.js';

export {
  CONFIG_FIELDS,
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  MIXED_PRECISIONS,
  NAMED_DATASETS,
  OPTIMIZERS,
  SCHEDULES,
  fieldSpec,
  type ConfigKey,
  type FieldSpec,
  type MixedPrecision,
  type OptimizerName,
  type ScheduleName,
  type TrainConfig,
} from './config-schema.js';

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
    throw new Error(
      `${what}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
        `expected some of ${CONFIG_KEYS.join(', ')}`,
    );
  }
  for (const [key, value] of Object.entries(raw) as [ConfigKey, unknown][]) {
    const { rule } = fieldSpec(key);
    if (!rule.ok(value)) throw new Error(`${source.describe(key)} is ${show(value)}; expected ${rule.expected}`);
    if (value !== null && value !== undefined) rule.within?.(value, source.describe(key));
  }
  return raw as Partial<TrainConfig>;
}

/** Checks that the fields of a complete config fit together (the fields themselves are checked by layer). */
/**
 * Refuses a batch whose input alone (batch × 3 × side² float32) is over MAX_BATCH_INPUT_BYTES, before
 * anything is allocated; `lower` names the settings to lower.
 */
export function checkBatchInput(batchSize: number, side: number, lower: string): void {
  const bytes = batchSize * 3 * side * side * 4;
  if (bytes > MAX_BATCH_INPUT_BYTES) {
    throw new Error(
      `a batch of ${batchSize} images of 3×${side}×${side} needs ${(bytes / 2 ** 30).toFixed(1)} GiB for its input ` +
        `alone (at most ${MAX_BATCH_INPUT_BYTES / 2 ** 30} GiB); lower ${lower}`,
    );
  }
}

function checkCombination(c: TrainConfig): void {
  if (c.mean.length !== c.std.length) {
    throw new Error(
      `mean ${show(c.mean)} and std ${show(c.std)} must have one value per channel each (got ${c.mean.length} and ${c.std.length})`,
    );
  }
  if (c.warmupEpochs >= c.epochs && c.schedule !== 'none') {
    throw new Error(
      `warmupEpochs (${c.warmupEpochs}) must be less than epochs (${c.epochs}) for the '${c.schedule}' schedule`,
    );
  }
  // The input side: the image size, CIFAR's 32, or unknown (an image folder at its own size).
  const side = c.imageSize ?? ((NAMED_DATASETS as readonly string[]).includes(c.data) ? 32 : null);
  if (side !== null) checkBatchInput(c.batchSize, side, 'batchSize or imageSize');
  if (c.warmupEpochs > c.epochs)
    throw new Error(`warmupEpochs (${c.warmupEpochs}) must be at most epochs (${c.epochs})`);
  if (c.nesterov && (c.optimizer !== 'sgd' || c.momentum === 0)) {
    throw new Error(
      `nesterov needs the sgd optimizer with momentum > 0 (got optimizer '${c.optimizer}', momentum ${c.momentum})`,
    );
  }
  if (c.milestones?.some((m) => m <= c.warmupEpochs || m >= c.epochs)) {
    throw new Error(
      `milestones ${show(c.milestones)} must lie after the warmup (${c.warmupEpochs} epochs) and before the last epoch (${c.epochs})`,
    );
  }
  const family = listModels().find((m) => m.name === c.model)?.family;
  if (c.whiten && family !== 'cifar-fastnet') {
    throw new Error(
      `whiten applies to the FastNets (fastnet, se-fastnet), whose first layer is a 2×2 whitening stem, not to '${c.model}'`,
    );
  }
  if (c.identityInit && family !== 'cifar-fastnet') {
    throw new Error(`identityInit applies to the FastNets (fastnet, se-fastnet), not to '${c.model}'`);
  }
  checkAirbenchOptions(c, family);
  if (c.sePlacement !== null && family !== 'cifar-resnet') {
    throw new Error(`sePlacement applies to the CIFAR ResNets (resnet20 ... se-resnet110), not to '${c.model}'`);
  }
  checkFineTuning(c);
}

/** The options the airbench recipe brought: what each needs of the rest. */
function checkAirbenchOptions(c: TrainConfig, family: string | undefined): void {
  const fastNetOnly = [
    c.bnMomentum !== null && 'bnMomentum',
    c.bnEps !== null && 'bnEps',
    c.logitScale !== 1 && 'logitScale',
  ].filter(Boolean);
  if (fastNetOnly.length > 0 && family !== 'cifar-fastnet') {
    throw new Error(`${fastNetOnly.join(', ')} apply to the FastNets (fastnet, se-fastnet), not to '${c.model}'`);
  }
  if (c.whitenBiasEpochs !== null && !c.whiten) {
    throw new Error("whitenBiasEpochs limits the training of the whitened stem's bias: it needs whiten (--whiten)");
  }
  if (c.schedule === 'triangular' && c.warmupEpochs > 0) {
    throw new Error(
      `the triangular schedule makes its own rise (lrStartFactor, lrPeakFraction): set warmupEpochs to 0, not ${c.warmupEpochs}`,
    );
  }
  const triangleOnly = (['lrStartFactor', 'lrPeakFraction', 'lrEndFactor'] as const).filter(
    (k) => c[k] !== DEFAULT_CONFIG[k],
  );
  if (triangleOnly.length > 0 && c.schedule !== 'triangular') {
    throw new Error(`${triangleOnly.join(', ')} shape the triangular schedule, but schedule is '${c.schedule}'`);
  }
  if (c.lookahead !== null && c.ema !== null) {
    throw new Error('lookahead and ema are two weight averages: choose one (--no-ema or --no-lookahead)');
  }
}

/**
 * The pretrained weights' own fields need them; they replace what whiten and identityInit would set.
 * (freezeBackboneEpochs and backboneLrScale apply to any model: its classifier over a random backbone too.)
 */
function checkFineTuning(c: TrainConfig): void {
  if (c.freezeBackboneEpochs > c.epochs) {
    throw new Error(`freezeBackboneEpochs (${c.freezeBackboneEpochs}) must be at most epochs (${c.epochs})`);
  }
  if (c.pretrained === null) {
    const needing = [
      c.pretrainedSha256 !== null && 'pretrainedSha256',
      c.pretrainedClassifier !== 'auto' && `pretrainedClassifier '${c.pretrainedClassifier}'`,
      c.pretrainedAllowNonfinite && 'pretrainedAllowNonfinite',
      c.pretrainedKeyMap !== null && 'pretrainedKeyMap',
    ].filter(Boolean);
    if (needing.length > 0) {
      throw new Error(`${needing.join(' and ')} apply to pretrained weights: name them (--pretrained)`);
    }
    return;
  }
  if (c.whiten) {
    throw new Error(
      'whiten sets the first layer from the training images, replacing the pretrained weights: ' +
        'drop one (--no-whiten)',
    );
  }
  if (c.identityInit) {
    throw new Error(
      'identityInit initialises the convolutions, which the pretrained weights replace: ' +
        'drop one (--no-identity-init)',
    );
  }
}

/**
 * The config the layers make, later layers overriding earlier ones, on top of the recipe the last of them
 * to name one names (else the seed recipe) on top of DEFAULT_CONFIG; checked.
 */
export function resolveConfig(...layers: ConfigLayer[]): TrainConfig {
  for (const { values, source } of layers) checkConfigLayer(values, source);
  const recipe =
    layers
      .map((l) => l.values.recipe)
      .filter((r) => r !== undefined)
      .at(-1) ?? DEFAULT_CONFIG.recipe;
  const merged = structuredClone(DEFAULT_CONFIG) as TrainConfig;
  for (const { values } of [recipeLayer(recipe), ...layers]) {
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = structuredClone(value);
    }
  }
  checkCombination(merged);
  return merged;
}

/**
 * The fields added with the airbench recipe: at their defaults they change nothing, and they are left out of
 * the config hash then, so that runs started before they existed still resume.
 */
const AIRBENCH_KEYS: readonly ConfigKey[] = [
  'lrStartFactor',
  'lrPeakFraction',
  'lrEndFactor',
  'lossReduction',
  'dropLast',
  'lookahead',
  'ttaMean',
  'whitenBiasEpochs',
  'bnMomentum',
  'bnEps',
  'logitScale',
];

/** Fields that runs started before they existed lack: their default applies (it changes nothing computed). */
const ADDED_LATER: readonly ConfigKey[] = ['maxLoss', 'pretrainedKeyMap', ...AIRBENCH_KEYS];

/** A complete config read back (config.json of a run): every field present and valid. */
export function checkCompleteConfig(raw: unknown, path: string): TrainConfig {
  const values = checkConfigLayer(raw, fileSource(path), path);
  const missing = CONFIG_KEYS.filter((k) => !(k in values) && !ADDED_LATER.includes(k));
  if (missing.length > 0)
    throw new Error(
      `${path} lacks the field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: it is not a complete training config`,
    );
  return resolveConfig({ values, source: fileSource(path) });
}

/** Reads a JSON config file (a layer: any subset of the fields). */
export function readConfigFile(path: string): Partial<TrainConfig> {
  return checkConfigLayer(readJsonFile(path, 'the config file'), fileSource(path), `the config file ${path}`);
}

/**
 * The fields that do not change what is computed: where it is written, how many threads compute it, and
 * pretrainedClassifier, whose 'auto' the trainer replaces in config.json by what it did ('replace' or
 * 'keep', the same weights), so that `senet run` still recognises the config it started from; the design
 * stage's fingerprint covers it; pretrainedAllowNonfinite, which decides whether weights load at all, not
 * what they are; and maxLoss, a guard that can only stop a run, so that runs started before it existed still
 * resume.
 */
const NOT_HASHED: readonly ConfigKey[] = [
  'out',
  'threads',
  'pretrainedClassifier',
  'pretrainedAllowNonfinite',
  'maxLoss',
];

/**
 * A digest of everything that determines the trained weights; a checkpoint records it, so that a run is
 * never resumed under a config other than the one it was started with.
 */
export function configHash(config: TrainConfig): string {
  const hashed = Object.fromEntries(
    CONFIG_KEYS.filter(
      (k) =>
        !NOT_HASHED.includes(k) &&
        !(AIRBENCH_KEYS.includes(k) && canonicalJson(config[k]) === canonicalJson(DEFAULT_CONFIG[k])),
    ).map((k) => [k, config[k]]),
  );
  return createHash('sha256').update(canonicalJson(hashed)).digest('hex').slice(0, 16);
}

/** The weight decay the optimizer gets: the configured one, or the optimizer's own default. */
export function effectiveWeightDecay(config: TrainConfig): number {
  return config.weightDecay ?? (config.optimizer === 'adamw' ? 0.01 : 0);
}
