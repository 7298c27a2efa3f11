// The training config's fields, one entry each: the value's rule (what it may be, in words for errors and as a
// test), its default, the `senet train` flag that sets it with its help text, and how a tuning study may vary
// it. Everything else is derived from this table: the TrainConfig type, DEFAULT_CONFIG, the field checks of
// config.ts, the options of `senet train` (src/cli/commands/train.ts) and the names a search space may use
// (src/tune/space.ts). Adding a training option is one entry here, plus its use in the trainer; checks
// between fields (nesterov needs SGD, whiten needs a FastNet, ...) are config.ts's checkCombination.
import { checkAttentionConfig, type AttentionConfig } from '../se/index.js';
import { listModels, SE_PLACEMENTS } from '../models/index.js';
import { AUGMENTATIONS, DATA_MODES, NORMALIZATIONS } from '../data/index.js';
import { MEMORY_FORMATS } from '../models/memory-format.js';
import { RECIPES, RECIPE_DESCRIPTIONS } from './recipes.js';
import { TTA_MEANS, TTA_MODES } from './tta.js';
import { checkThreadCount } from '../torch/index.js';

export const OPTIMIZERS = ['adam', 'sgd', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const SCHEDULES = ['none', 'step', 'multistep', 'cosine', 'onecycle', 'linear', 'triangular'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export const MIXED_PRECISIONS = ['none', 'bf16'] as const;
export type MixedPrecision = (typeof MIXED_PRECISIONS)[number];

export const LOSS_REDUCTIONS = ['mean', 'sum'] as const;
export type LossReduction = (typeof LOSS_REDUCTIONS)[number];

/** Lookahead-style weight averaging (lookahead.ts): every `every` steps, avg ← lerp(avg, w, 1 − d), w ← avg. */
export interface LookaheadConfig {
  /** Steps between updates. */
  every: number;
  /** Per-step decay: an update at step t of T uses d = decay^every × (t / T)^power. */
  decay: number;
  /** The ramp's exponent: the average starts with no memory and reaches decay^every at the end. */
  power: number;
}

/** Datasets known by name; anything else in `data` is a folder with train/ and test/ subfolders. */
export const NAMED_DATASETS = ['cifar10', 'cifar100'] as const;

/** What fine-tuning does with the pretrained classifier: replace it when its shape differs, always, or never. */
export const PRETRAINED_CLASSIFIER = ['auto', 'replace', 'keep'] as const;
export type PretrainedClassifier = (typeof PRETRAINED_CLASSIFIER)[number];

// ---- value rules ----

/** What a value is made of, which decides how a flag's text is parsed into it. */
export type ValueKind =
  | { type: 'int' }
  | { type: 'number' }
  | { type: 'boolean' }
  | { type: 'text' }
  | { type: 'int-list' }
  | { type: 'number-list' }
  | { type: 'choice'; choices: readonly string[] }
  /** A JSON object; `example` is shown when a flag's text is not one. */
  | { type: 'object'; example: string };

/** What a field's value may be: `expected` completes "... is <value>; expected <expected>". */
export interface Rule<T> {
  kind: ValueKind;
  nullable: boolean;
  expected: string;
  ok(value: unknown): value is T;
  /** Checks inside a value that `ok` accepted (non-null), throwing an error that names `where`. */
  within?(value: NonNullable<T>, where: string): void;
}

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumberList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every(isNumber);

const intAtLeast = (min: number): Rule<number> => ({
  kind: { type: 'int' },
  nullable: false,
  expected: `an integer >= ${min}`,
  ok: (v) => isInt(v, min),
});
/** An integer in [min, max]: for sizes and counts, whose huge values would ask for memory or time no machine has. */
const intIn = (min: number, max: number): Rule<number> => ({
  kind: { type: 'int' },
  nullable: false,
  expected: `an integer in [${min}, ${max}]`,
  ok: (v): v is number => isInt(v, min) && v <= max,
});

// Upper bounds: a value past them is a typo (or hostile), refused before anything is allocated or run.
/** The largest image side senet resizes to (--image-size). */
export const MAX_IMAGE_SIZE = 4096;
/** Epoch counts (--epochs, --warmup-epochs, ...): 10,000 epochs of CIFAR with the seed model take 2 days. */
export const MAX_EPOCHS = 10_000;
/** Images per batch (--batch-size). */
export const MAX_BATCH_SIZE = 65_536;
/** A training batch's input alone (batch × 3 × size² float32) above this is refused: lower the batch or the size. */
export const MAX_BATCH_INPUT_BYTES = 4 * 2 ** 30;
const numberWhere = (expected: string, test: (n: number) => boolean): Rule<number> => ({
  kind: { type: 'number' },
  nullable: false,
  expected,
  ok: (v): v is number => isNumber(v) && test(v),
});
const oneOf = <C extends string>(choices: readonly C[]): Rule<C> => ({
  kind: { type: 'choice', choices },
  nullable: false,
  expected: `one of ${choices.map((c) => `'${c}'`).join(', ')}`,
  ok: (v): v is C => typeof v === 'string' && (choices as readonly string[]).includes(v),
});
const text = (expected = 'a non-empty string'): Rule<string> => ({
  kind: { type: 'text' },
  nullable: false,
  expected,
  ok: (v): v is string => typeof v === 'string' && v.trim() !== '',
});
const boolean: Rule<boolean> = {
  kind: { type: 'boolean' },
  nullable: false,
  expected: 'true or false',
  ok: (v): v is boolean => typeof v === 'boolean',
};
/** The rule, or null (`meaning` says what null stands for, in the error). */
const orNull = <T>(rule: Rule<T>, meaning = ''): Rule<T | null> => ({
  ...rule,
  nullable: true,
  expected: `${rule.expected}, or null${meaning && ` ${meaning}`}`,
  ok: (v): v is T | null => v === null || rule.ok(v),
});

// ---- flags and tuning ----

/** How `senet train` sets the field. The help text gets " (default X)" unless it says the default itself. */
export interface FlagSpec<T> {
  /** Commander's flags: '-e, --epochs <n>'; a boolean field's '--x', or '--no-x' for one that is on by default. */
  flags: string;
  help: string;
  /** Help of the opposite flag, listed next: '--no-x' after '--x' ('--no-x' of a valued field sets null), '--x' after '--no-x'. */
  negation?: string;
  /** Flags short for one value of the field ('--bf16' for mixedPrecision 'bf16'); they win over the field's own flag. */
  shorthands?: readonly { flags: string; help: string; value: T }[];
}

/** One parameter of a search space, as its JSON reads (src/tune/space.ts parses and checks it). */
export interface ParamJson {
  type?: 'float' | 'int' | 'categorical';
  low?: number;
  high?: number;
  log?: boolean;
  step?: number;
  choices?: readonly (number | string | boolean | null)[];
}

/** How a study may vary the field, with a search-space entry that works on a recipe's config. */
export type TuneSpec =
  /** Numbers: a float or int range, or a list of choices. */
  | { how: 'range'; example: ParamJson }
  /** A list of choices only; `choices` defaults to every value the rule allows (null included when it does). */
  | { how: 'choices'; choices?: readonly (string | null)[] }
  /** An object: dotted names ('attention.reduction') vary its own fields; the whole of it takes choices only. */
  | { how: 'options'; example: Readonly<Record<string, ParamJson>> }
  /** Not tunable, and why. */
  | { how: 'fixed'; why: string };

export interface FieldSpec<T> {
  rule: Rule<T>;
  default: T;
  flag?: FlagSpec<T>;
  tune: TuneSpec;
}

const field = <T>(rule: Rule<T>, spec: Omit<FieldSpec<NoInfer<T>>, 'rule'>): FieldSpec<T> => ({ rule, ...spec });

const ATTENTION: Rule<AttentionConfig | null> = {
  kind: { type: 'object', example: '{"type":"se","reduction":8}' },
  nullable: true,
  expected: 'an attention config object such as { "type": "se", "reduction": 8 }, or null',
  ok: (v): v is AttentionConfig | null => v === null || (typeof v === 'object' && !Array.isArray(v)),
  within: (v, where) => {
    checkAttentionConfig(v, where);
  },
};

const LOOKAHEAD: Rule<LookaheadConfig | null> = {
  kind: { type: 'object', example: '{"every":5,"decay":0.95,"power":3}' },
  nullable: true,
  expected: 'a lookahead config such as { "every": 5, "decay": 0.95, "power": 3 }, or null',
  ok: (v): v is LookaheadConfig | null => v === null || (typeof v === 'object' && !Array.isArray(v)),
  within: (v, where) => {
    const keys = Object.keys(v);
    const unknown = keys.filter((k) => !['every', 'decay', 'power'].includes(k));
    if (unknown.length > 0 || keys.length !== 3)
      throw new Error(`${where} must have exactly the fields every, decay and power, got ${JSON.stringify(v)}`);
    if (!isInt(v.every, 1) || v.every > 1000)
      throw new Error(`${where}.every must be an integer in [1, 1000], got ${v.every}`);
    if (!(isNumber(v.decay) && v.decay > 0 && v.decay < 1))
      throw new Error(`${where}.decay must be a number in (0, 1), got ${v.decay}`);
    if (!(isNumber(v.power) && v.power >= 0 && v.power <= 100))
      throw new Error(`${where}.power must be a number in [0, 100], got ${v.power}`);
  },
};

const LIST_NOT_TUNABLE = 'a list cannot be a search choice; set it in the base config';

// ---- the table ----

/** Every training setting, in the order config.json lists them. */
export const CONFIG_FIELDS = {
  /** A registry model (`senet models`). */
  model: field<string>(
    {
      kind: { type: 'text' },
      nullable: false,
      expected: `a model name (one of ${listModels()
        .map((m) => m.name)
        .join(', ')})`,
      ok: (v): v is string => listModels().some((m) => m.name === v),
    },
    {
      default: 'simple-cnn',
      flag: { flags: '-m, --model <name>', help: 'model name, see `senet models`' },
      tune: { how: 'choices', choices: ['simple-cnn', 'se-resnet20'] },
    },
  ),
  /** Options merged onto the model's attention unit ({ "type": "eca" }, { "reduction": 8 }, ...); null = the model's own. */
  attention: field(ATTENTION, {
    default: null,
    flag: {
      flags: '--attention <json>',
      help: 'attention unit options, e.g. \'{"type":"eca"}\' or \'{"reduction":8}\'',
    },
    tune: {
      how: 'options',
      example: { 'attention.reduction': { choices: [4, 8, 16] }, 'attention.type': { choices: ['se', 'eca', 'none'] } },
    },
  }),
  /** Where the SE unit sits in each block (CIFAR ResNets only); null = the model's default. */
  sePlacement: field(orNull(oneOf(SE_PLACEMENTS)), {
    default: null,
    flag: {
      flags: '--se-placement <where>',
      help: `CIFAR ResNets: where SE sits in a block: ${SE_PLACEMENTS.join(', ')}`,
    },
    tune: { how: 'choices' },
  }),
  /** 'cifar10', 'cifar100', or an image folder with train/ and test/ subfolders of class folders. */
  data: field(text(`${NAMED_DATASETS.map((d) => `'${d}'`).join(', ')} or an image folder path`), {
    default: 'cifar10',
    flag: {
      flags: '-d, --data <name|dir>',
      help: 'cifar10, cifar100, or a folder with train/<class>/ and test/<class>/ images',
    },
    tune: { how: 'fixed', why: 'a study compares its trials on one data set (set it in the base config)' },
  }),
  /**
   * Image folders: resize every image to imageSize×imageSize; null = use the images' own size. Bounded: a
   * side of 100000 would ask for tens of gigabytes per image before any other check could say so.
   */
  imageSize: field(orNull(intIn(1, MAX_IMAGE_SIZE)), {
    default: null,
    flag: { flags: '--image-size <n>', help: 'image folders: resize images to n×n (default: their own size)' },
    tune: { how: 'range', example: { type: 'int', low: 24, high: 40, step: 8 } },
  }),
  // -- streaming data (src/data/data-mode.ts has the rule of 'auto') --
  /** Image folders and tar shards: decoded once into memory, streamed batch by batch, or chosen by the rule. */
  dataMode: field(oneOf(DATA_MODES), {
    default: 'auto',
    flag: {
      flags: '--data-mode <mode>',
      help: `image folders: ${DATA_MODES.join(', ')} (auto: see the README's data section)`,
    },
    tune: {
      how: 'fixed',
      why: 'how images are read is not a hyper-parameter (random-resized-crop already implies stream)',
    },
  }),
  /** Streamed training: ColorJitter strength for brightness, contrast and saturation alike (0 = none). */
  colorJitter: field(
    numberWhere('a number in [0, 1]', (n) => n >= 0 && n <= 1),
    {
      default: 0,
      flag: {
        flags: '--color-jitter <x>',
        help: 'streamed training: ColorJitter strength (brightness, contrast, saturation)',
      },
      tune: { how: 'range', example: { type: 'float', low: 0, high: 0.4, step: 0.1 } },
    },
  ),
  epochs: field(intIn(1, MAX_EPOCHS), {
    default: 10,
    flag: { flags: '-e, --epochs <n>', help: 'epochs' },
    tune: { how: 'range', example: { type: 'int', low: 2, high: 6 } },
  }),
  batchSize: field(intIn(1, MAX_BATCH_SIZE), {
    default: 64,
    flag: { flags: '-b, --batch-size <n>', help: 'batch size' },
    tune: { how: 'range', example: { type: 'categorical', choices: [64, 128] } },
  }),
  /** A new order of the training images every epoch. */
  shuffle: field(boolean, {
    default: true,
    flag: { flags: '--no-shuffle', help: 'keep the training images in dataset order' },
    tune: { how: 'choices' },
  }),
  optimizer: field(oneOf(OPTIMIZERS), {
    default: 'adam',
    flag: { flags: '--optimizer <name>', help: OPTIMIZERS.join(', ') },
    tune: { how: 'choices' },
  }),
  lr: field(
    numberWhere('a number > 0', (n) => n > 0),
    {
      default: 1e-3,
      flag: { flags: '--lr <x>', help: 'learning rate' },
      tune: { how: 'range', example: { type: 'float', low: 1e-4, high: 1e-1, log: true } },
    },
  ),
  /** SGD only. */
  momentum: field(
    numberWhere('a number in [0, 1)', (n) => n >= 0 && n < 1),
    {
      default: 0.9,
      flag: { flags: '--momentum <x>', help: 'SGD momentum' },
      tune: { how: 'range', example: { type: 'float', low: 0.8, high: 0.95 } },
    },
  ),
  /** SGD only: Nesterov momentum. */
  nesterov: field(boolean, {
    default: false,
    flag: { flags: '--nesterov', help: 'SGD with Nesterov momentum' },
    tune: { how: 'choices' },
  }),
  /** L2 penalty (SGD, Adam) or decoupled decay (AdamW); null = the optimizer's default (0; AdamW 0.01). */
  weightDecay: field(
    orNull(
      numberWhere('a number >= 0', (n) => n >= 0),
      "for the optimizer's default",
    ),
    {
      default: null,
      flag: { flags: '--weight-decay <x>', help: 'weight decay (default 0; AdamW 0.01)' },
      tune: { how: 'range', example: { type: 'float', low: 0, high: 1e-3, step: 1e-4 } },
    },
  ),
  /** false = no weight decay on BatchNorm parameters and biases (every parameter with fewer than 2 dimensions). */
  decayBnAndBias: field(boolean, {
    default: true,
    flag: {
      flags: '--no-decay-bn-bias',
      help: 'no weight decay on BatchNorm parameters and biases',
      negation: 'weight decay on BatchNorm parameters and biases too (when a recipe turns it off)',
    },
    tune: { how: 'choices' },
  }),
  /**
   * Learning-rate multiplier for the parameters with fewer than 2 dimensions (biases, BatchNorm shifts and
   * scales), as airbench's bias scaler; their weight decay, when they are decayed, is divided by it so that
   * every parameter decays by the same fraction per step.
   */
  biasLrScale: field(
    numberWhere('a number > 0', (n) => n > 0),
    {
      default: 1,
      flag: {
        flags: '--bias-lr-scale <x>',
        help: 'lr multiplier for biases and BatchNorm parameters (their decay is divided by it)',
      },
      tune: { how: 'range', example: { type: 'float', low: 1, high: 64, log: true } },
    },
  ),
  /** BatchNorm scales (γ) fixed at 1 and not trained, leaving each BatchNorm a learned shift only. */
  freezeBnScale: field(boolean, {
    default: false,
    flag: {
      flags: '--freeze-bn-scale',
      help: 'BatchNorm scales fixed at 1, not trained (a learned shift only)',
      negation: 'train the BatchNorm scales (when a recipe or config file freezes them)',
    },
    tune: { how: 'choices' },
  }),
  /** How the learning rate moves, stepped after every batch; lengths below are in epochs. */
  schedule: field(oneOf(SCHEDULES), {
    default: 'none',
    flag: { flags: '--schedule <name>', help: `learning-rate schedule, stepped every batch: ${SCHEDULES.join(', ')}` },
    tune: { how: 'choices' },
  }),
  /** Epochs of linear warmup from lr/100 (onecycle: the fraction of the cycle spent rising). */
  warmupEpochs: field(intIn(0, MAX_EPOCHS), {
    default: 0,
    flag: { flags: '--warmup-epochs <n>', help: 'epochs of linear warmup from lr/100' },
    tune: { how: 'range', example: { type: 'int', low: 0, high: 2 } },
  }),
  /** 'step': decay by gamma every stepSize epochs; null = a third of the epochs. */
  stepSize: field(orNull(intIn(1, MAX_EPOCHS)), {
    default: null,
    flag: { flags: '--step-size <n>', help: 'step schedule: epochs between decays (default: a third of the epochs)' },
    tune: { how: 'range', example: { type: 'int', low: 1, high: 5 } },
  }),
  /** 'multistep': decay by gamma at these epochs; null = at 50% and 75% of the epochs. */
  milestones: field<number[] | null>(
    {
      kind: { type: 'int-list' },
      nullable: true,
      expected: 'a list of increasing epochs >= 1, or null',
      ok: (v): v is number[] | null =>
        v === null || (Array.isArray(v) && v.length > 0 && v.every((m, i) => isInt(m, 1) && (i === 0 || m > v[i - 1]))),
    },
    {
      default: null,
      flag: {
        flags: '--milestones <list>',
        help: 'multistep schedule: epochs to decay at, e.g. 30,60,90 (default: 50% and 75%)',
      },
      tune: { how: 'fixed', why: LIST_NOT_TUNABLE },
    },
  ),
  /** 'step' and 'multistep': the decay factor. */
  gamma: field(
    numberWhere('a number in (0, 1]', (n) => n > 0 && n <= 1),
    {
      default: 0.1,
      flag: { flags: '--gamma <x>', help: 'step/multistep decay factor' },
      tune: { how: 'range', example: { type: 'float', low: 0.1, high: 0.5 } },
    },
  ),
  /**
   * 'triangular': the lr factor rises linearly from lrStartFactor to 1 at lrPeakFraction of the steps, then
   * falls linearly to lrEndFactor at the last step (airbench's schedule).
   */
  lrStartFactor: field(
    numberWhere('a number in (0, 1]', (n) => n > 0 && n <= 1),
    {
      default: 0.2,
      flag: { flags: '--lr-start-factor <x>', help: 'triangular schedule: the lr factor at the first step' },
      tune: { how: 'range', example: { type: 'float', low: 0.05, high: 0.5 } },
    },
  ),
  lrPeakFraction: field(
    numberWhere('a number in (0, 1)', (n) => n > 0 && n < 1),
    {
      default: 0.23,
      flag: {
        flags: '--lr-peak-fraction <x>',
        help: 'triangular schedule: where the lr peaks, as a fraction of the steps',
      },
      tune: { how: 'range', example: { type: 'float', low: 0.1, high: 0.4 } },
    },
  ),
  lrEndFactor: field(
    numberWhere('a number in [0, 1]', (n) => n >= 0 && n <= 1),
    {
      default: 0.07,
      flag: { flags: '--lr-end-factor <x>', help: 'triangular schedule: the lr factor at the last step' },
      tune: { how: 'range', example: { type: 'float', low: 0, high: 0.2 } },
    },
  ),
  labelSmoothing: field(
    numberWhere('a number in [0, 1)', (n) => n >= 0 && n < 1),
    {
      default: 0,
      flag: { flags: '--label-smoothing <x>', help: 'label smoothing of the training loss' },
      tune: { how: 'range', example: { type: 'float', low: 0, high: 0.2, step: 0.1 } },
    },
  ),
  /**
   * How a batch's per-image losses are combined: their mean, or their sum (airbench: the step then grows with
   * the batch, and the lr is per image). Progress and metrics report the mean either way.
   */
  lossReduction: field(oneOf(LOSS_REDUCTIONS), {
    default: 'mean',
    flag: { flags: '--loss-reduction <how>', help: "the training loss over a batch: 'mean' or 'sum'" },
    tune: { how: 'choices' },
  }),
  /** Leave out the last, short training batch of each epoch (every step then sees batchSize images). */
  dropLast: field(boolean, {
    default: false,
    flag: {
      flags: '--drop-last',
      help: 'leave out the last short training batch of each epoch',
      negation: 'train on the last short batch too (when a recipe drops it)',
    },
    tune: { how: 'choices' },
  }),
  augment: field(oneOf(AUGMENTATIONS), {
    default: 'none',
    flag: { flags: '--augment <name>', help: `training augmentation: ${AUGMENTATIONS.join(', ')}` },
    tune: { how: 'choices' },
  }),
  /** Per-channel normalisation of pixels scaled to [0, 1]: (x - mean) / std. */
  mean: field<number[]>(
    {
      kind: { type: 'number-list' },
      nullable: false,
      expected: 'a list of numbers, one per channel',
      ok: isNumberList,
    },
    {
      default: [...NORMALIZATIONS.half.mean],
      flag: { flags: '--mean <list>', help: 'per-channel mean, e.g. 0.4914,0.4822,0.4465' },
      tune: { how: 'fixed', why: LIST_NOT_TUNABLE },
    },
  ),
  std: field<number[]>(
    {
      kind: { type: 'number-list' },
      nullable: false,
      expected: 'a list of numbers > 0, one per channel',
      ok: (v): v is number[] => isNumberList(v) && v.every((s) => s > 0),
    },
    {
      default: [...NORMALIZATIONS.half.std],
      flag: { flags: '--std <list>', help: 'per-channel std, e.g. 0.2470,0.2435,0.2616' },
      tune: { how: 'fixed', why: LIST_NOT_TUNABLE },
    },
  ),
  seed: field(intAtLeast(0), {
    default: 0,
    flag: { flags: '--seed <n>', help: 'random seed' },
    tune: { how: 'range', example: { type: 'int', low: 0, high: 4 } },
  }),
  /** Divergence guard: a batch loss above this stops training with an error (NaN and infinity always do); null = no limit. */
  maxLoss: field(
    orNull(
      numberWhere('a number > 0', (n) => n > 0),
      'for no limit',
    ),
    {
      default: null,
      flag: {
        flags: '--max-loss <x>',
        help: "stop with an error when a batch's training loss exceeds x (the last good checkpoint is kept)",
      },
      tune: { how: 'fixed', why: 'a guard against divergence, not a hyper-parameter' },
    },
  ),
  /** libtorch threads; null = every available core. */
  threads: field(
    orNull({
      ...intAtLeast(1),
      within: (v: number, where: string) => {
        checkThreadCount(v, where);
      },
    }),
    {
      default: null,
      flag: { flags: '--threads <n>', help: 'libtorch threads (default: every core)' },
      tune: { how: 'fixed', why: "the study gives each trial its worker's threads (senet tune --threads)" },
    },
  ),
  /** The run directory; null = runs/<model>-<timestamp>. */
  out: field(orNull(text()), {
    default: null,
    flag: { flags: '-o, --out <dir>', help: 'run directory (default runs/<model>-<timestamp>)' },
    tune: { how: 'fixed', why: 'each trial writes its own run directory inside the study' },
  }),
  /** Evaluate on the test split every evalEvery epochs (and always after the last). */
  evalEvery: field(intIn(1, MAX_EPOCHS), {
    default: 1,
    flag: { flags: '--eval-every <n>', help: 'evaluate on the test split every n epochs, and after the last' },
    tune: { how: 'fixed', why: 'every trial is evaluated after every epoch, for the pruner' },
  }),
  /** The named recipe under the config file and flags (recipes.ts); its fields are defaults the others override. */
  recipe: field(oneOf(RECIPES), {
    default: 'seed',
    flag: {
      flags: '-r, --recipe <name>',
      help: `defaults to start from: ${RECIPES.map((r) => `${r} (${RECIPE_DESCRIPTIONS[r]})`).join('; ')}`,
    },
    tune: {
      how: 'fixed',
      why: 'the base config sets every field, so a recipe would change only its name: tune its fields',
    },
  }),
  /**
   * Keep an exponential moving average of the weights with this decay per step (ema.ts), evaluate and
   * save it instead of the raw weights; null = off.
   */
  ema: field(
    orNull(
      numberWhere('a decay in (0, 1) such as 0.99', (n) => n > 0 && n < 1),
      'for no averaging',
    ),
    {
      default: null,
      flag: {
        flags: '--ema <decay>',
        help: 'evaluate and save an exponential moving average of the weights, e.g. 0.99 (per step)',
        negation: 'no weight averaging (when a recipe or config file asks for it)',
      },
      tune: { how: 'range', example: { type: 'float', low: 0.9, high: 0.999 } },
    },
  ),
  /**
   * Lookahead-style weight averaging (airbench): every `every` steps the average moves towards the weights
   * and is copied back into the model; evaluated, saved and left in the model as the EMA is; null = off.
   */
  lookahead: field(LOOKAHEAD, {
    default: null,
    flag: {
      flags: '--lookahead <json>',
      help: 'Lookahead weight averaging, e.g. \'{"every":5,"decay":0.95,"power":3}\'',
      negation: 'no Lookahead averaging (when a recipe asks for it)',
    },
    tune: {
      how: 'options',
      example: {
        'lookahead.every': { choices: [3, 5, 10] },
        'lookahead.decay': { type: 'float', low: 0.9, high: 0.99 },
      },
    },
  }),
  /** Test-time augmentation of the evaluation: none, the mean of the image's and its mirror's softmax, or that over 1-pixel shifts too. */
  tta: field(oneOf(TTA_MODES), {
    default: 'none',
    flag: { flags: '--tta <mode>', help: `test-time augmentation of the evaluation: ${TTA_MODES.join(', ')}` },
    tune: { how: 'choices' },
  }),
  /** What test-time augmentation averages over the views: softmax probabilities, or logits (as airbench). */
  ttaMean: field(oneOf(TTA_MEANS), {
    default: 'probabilities',
    flag: { flags: '--tta-mean <what>', help: `what TTA averages over the views: ${TTA_MEANS.join(', ')}` },
    tune: { how: 'choices' },
  }),
  /** 'bf16': forward pass and loss under CPU bfloat16 autocast, in training and evaluation; 'none': float32. */
  mixedPrecision: field(oneOf(MIXED_PRECISIONS), {
    default: 'none',
    flag: {
      flags: '--mixed-precision <mode>',
      help: `${MIXED_PRECISIONS.join(', ')}: bf16 runs forward and loss under CPU bfloat16 autocast`,
      shorthands: [{ flags: '--bf16', help: 'short for --mixed-precision bf16', value: 'bf16' }],
    },
    tune: { how: 'choices' },
  }),
  /** FastNets: set the 2×2 stem to the whitening transform of the training images' patches and freeze it (whitening.ts). */
  whiten: field(boolean, {
    default: false,
    flag: {
      flags: '--whiten',
      help: "FastNets: whiten and freeze the 2×2 stem from the training images' patch statistics",
      negation: 'FastNets: train the stem from its default initialisation',
    },
    tune: { how: 'choices' },
  }),
  /** FastNets whitened stem: its bias trains in the first this many epochs only; null = throughout. */
  whitenBiasEpochs: field(orNull(intIn(0, MAX_EPOCHS), 'for every epoch'), {
    default: null,
    flag: {
      flags: '--whiten-bias-epochs <n>',
      help: "FastNets with --whiten: train the stem's bias in the first n epochs only (airbench: 3)",
    },
    tune: { how: 'range', example: { type: 'int', low: 1, high: 5 } },
  }),
  /** FastNets: BatchNorm momentum, in PyTorch's convention (the new batch's weight); null = 0.1. */
  bnMomentum: field(
    orNull(
      numberWhere('a number in (0, 1]', (n) => n > 0 && n <= 1),
      'for 0.1',
    ),
    {
      default: null,
      flag: { flags: '--bn-momentum <x>', help: "FastNets: BatchNorm momentum (PyTorch's convention; default 0.1)" },
      tune: { how: 'range', example: { type: 'float', low: 0.1, high: 0.6 } },
    },
  ),
  /** FastNets: BatchNorm's epsilon; null = 1e-5. */
  bnEps: field(
    orNull(
      numberWhere('a number in (0, 1)', (n) => n > 0 && n < 1),
      'for 1e-5',
    ),
    {
      default: null,
      flag: { flags: '--bn-eps <x>', help: "FastNets: BatchNorm's epsilon (default 1e-5)" },
      tune: { how: 'range', example: { type: 'float', low: 1e-12, high: 1e-5, log: true } },
    },
  ),
  /** FastNets: the logits multiplied by this (airbench: 1/9), in training and inference. */
  logitScale: field(
    numberWhere('a number > 0', (n) => n > 0),
    {
      default: 1,
      flag: { flags: '--logit-scale <x>', help: 'FastNets: multiply the logits by x (airbench: 1/9)' },
      tune: { how: 'range', example: { type: 'float', low: 0.05, high: 1, log: true } },
    },
  ),
  /** FastNets: start each group's convolutions as partial identities (identity-init.ts). */
  identityInit: field(boolean, {
    default: false,
    flag: {
      flags: '--identity-init',
      help: "FastNets: start each group's convolutions as partial identities (airbench)",
      negation: 'FastNets: keep the default random initialisation of the convolutions',
    },
    tune: { how: 'choices' },
  }),
  /** 'channelsLast': weights and batches in NHWC memory order (faster convolutions on the CPU); same numbers up to rounding. */
  memoryFormat: field(oneOf(MEMORY_FORMATS), {
    default: 'contiguous',
    flag: {
      flags: '--memory-format <format>',
      help: `${MEMORY_FORMATS.join(', ')}: the memory order of weights and batches`,
      shorthands: [
        {
          flags: '--channels-last',
          help: 'short for --memory-format channelsLast (faster convolutions on the CPU)',
          value: 'channelsLast',
        },
      ],
    },
    tune: { how: 'choices' },
  }),
  // ---- fine-tuning (pretrained.ts) ----
  /**
   * Start from these weights: a weights file, a run directory (its best, else last, checkpoint) or an http(s)
   * URL downloaded once into the data cache; null = a random initialisation.
   */
  pretrained: field(orNull(text('a weights file, a run directory or an http(s) URL'), 'for a random initialisation'), {
    default: null,
    flag: {
      flags: '--pretrained <file|run|url>',
      help: 'fine-tune: start from these weights (a weights file, a run directory, or an http(s) URL downloaded once)',
    },
    tune: { how: 'fixed', why: 'a study fine-tunes one set of weights: set it in the base config' },
  }),
  /** The SHA-256 (hex) the pretrained weights file must have; null = not checked (a URL may end in '#sha256=HEX'). */
  pretrainedSha256: field(
    orNull({
      kind: { type: 'text' },
      nullable: false,
      expected: 'a SHA-256 as 64 hex digits',
      ok: (v): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/i.test(v),
    }),
    {
      default: null,
      flag: {
        flags: '--pretrained-sha256 <hex>',
        help: 'the SHA-256 the pretrained weights must have (or end the URL in #sha256=HEX)',
      },
      tune: { how: 'fixed', why: "it checks the base config's pretrained weights" },
    },
  ),
  /**
   * The pretrained classifier: 'replace' it with a freshly initialised one, 'keep' it (the file's must fit),
   * or 'auto': replace it when its shape differs (another class count) or the file has none. The trainer
   * writes the decision it took into the run's config.json, so that the config reproduces the run.
   */
  pretrainedClassifier: field(oneOf(PRETRAINED_CLASSIFIER), {
    default: 'auto',
    flag: {
      flags: '--pretrained-classifier <how>',
      help: 'with --pretrained: replace the classifier, keep it, or auto: replace it when its shape differs',
    },
    tune: { how: 'fixed', why: 'it follows from the pretrained weights and the data: set it in the base config' },
  }),
  /**
   * A JSON file of key-renaming rules for pretrained weights named otherwise (src/models/key-map.ts), applied
   * before the known naming schemes'; null = the known schemes only.
   */
  pretrainedKeyMap: field(orNull(text('the path of a key-map JSON file'), 'for the known naming schemes only'), {
    default: null,
    flag: {
      flags: '--key-map <file>',
      help: 'with --pretrained: a JSON file of key renaming rules ({ "rename": [[regex, to]...], "drop": [regex...] })',
    },
    tune: { how: 'fixed', why: "it names the base config's pretrained weights" },
  }),
  /** Load pretrained weights holding NaN or infinite values, which are refused by default (a diverged or corrupt file). */
  pretrainedAllowNonfinite: field(boolean, {
    default: false,
    flag: {
      flags: '--allow-nonfinite',
      help: 'with --pretrained: load weights holding NaN or infinite values (refused by default)',
    },
    tune: { how: 'fixed', why: "it admits the base config's pretrained weights" },
  }),
  /** Train only the classifier in the first this many epochs (backbone weights and BatchNorm statistics fixed). */
  freezeBackboneEpochs: field(intIn(0, MAX_EPOCHS), {
    default: 0,
    flag: {
      flags: '--freeze-backbone-epochs <k>',
      help: 'train only the classifier in the first k epochs (backbone weights and BatchNorm statistics fixed)',
    },
    tune: { how: 'range', example: { type: 'int', low: 0, high: 2 } },
  }),
  /** Learning-rate multiplier for the backbone (every parameter outside the classifier), in groups of its own. */
  backboneLrScale: field(
    numberWhere('a number > 0', (n) => n > 0),
    {
      default: 1,
      flag: {
        flags: '--backbone-lr-scale <x>',
        help: 'lr multiplier for the backbone (every layer but the classifier)',
      },
      tune: { how: 'range', example: { type: 'float', low: 0.01, high: 1, log: true } },
    },
  ),
};

// ---- what the table gives ----

type FieldValue<F> = F extends FieldSpec<infer T> ? T : never;

/** What a training run does, as one plain JSON-able object (each field is documented in CONFIG_FIELDS). */
export type TrainConfig = { -readonly [K in keyof typeof CONFIG_FIELDS]: FieldValue<(typeof CONFIG_FIELDS)[K]> };
export type ConfigKey = keyof TrainConfig;

export const CONFIG_KEYS = Object.keys(CONFIG_FIELDS) as ConfigKey[];

/** The field's entry, typed loosely enough to loop over every field. */
export function fieldSpec(key: ConfigKey): FieldSpec<unknown> {
  return CONFIG_FIELDS[key] as FieldSpec<unknown>;
}

export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze(
  Object.fromEntries(CONFIG_KEYS.map((key) => [key, structuredClone(fieldSpec(key).default)])) as TrainConfig,
);
