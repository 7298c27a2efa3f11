// The named models: createModel('se-resnet20', { numClasses: 100 }) and listModels() for `senet models`.
// Each SE model has a plain twin (resnet20 / se-resnet20, resnet50 / seresnet50, ...) for ablations, and
// every model's attention unit can be swapped by a JSON-able config (`attention`), so the CLI and the
// tuner can name any variant as data.
import { mergeAttention, type AttentionConfig } from '../se/index.js';
import type { Model, ModelOptions } from './model-options.js';
import { SimpleCNN } from './simple-cnn.js';
import { CifarResNet, CIFAR_SE, type SEPlacement } from './cifar-resnet.js';
import { PreActResNet } from './preact-resnet.js';
import { FastNet } from './fastnet.js';
import { ResNet, TIMM_SE, type ResNetOptions } from './resnet.js';
import { LegacySENet, LEGACY_SE, type LegacySENetOptions } from './legacy-senet.js';

export interface CreateModelOptions extends ModelOptions {
  /** Options merged onto the model's own attention unit, e.g. { reduction: 8 } or { type: 'eca' }. */
  attention?: AttentionConfig;
  /** Where the SE unit sits in each block (CIFAR ResNets only; default 'standard'). */
  sePlacement?: SEPlacement;
  /** Start each block's last BN scale at zero (ResNets only; default true, timm's zero_init_last). */
  zeroInitLastBn?: boolean;
  /** FastNets: BatchNorm momentum (PyTorch's convention) and epsilon (defaults 0.1 and 1e-5). */
  bnMomentum?: number;
  bnEps?: number;
  /** FastNets: the logits multiplied by this (default 1). */
  logitScale?: number;
}

/** The CIFAR ResNets' depths (6n+2): resnet20 … resnet110 and their SE twins. */
const CIFAR_DEPTHS = [20, 32, 44, 56, 110] as const;

/** Every model createModel builds; listModels() describes each. */
export type ModelName =
  | 'simple-cnn'
  | `${'' | 'se-'}resnet${(typeof CIFAR_DEPTHS)[number]}`
  | `${'' | 'se-'}preresnet164`
  | `${'' | 'se-'}fastnet`
  | `${'' | 'se'}${(typeof IMAGENET)[number][0]}`
  | (typeof LEGACY)[number][0];

export interface ModelInfo {
  name: ModelName;
  family: string;
  description: string;
  /** The input [C, H, W] the model is built for by default. */
  defaultInput: [number, number, number];
  hasSE: boolean;
}

interface Entry extends ModelInfo {
  /** The options beyond ModelOptions that this model takes. */
  extraOptions: readonly (keyof CreateModelOptions)[];
  build(options: CreateModelOptions): Model;
}

const COMMON_OPTIONS: readonly (keyof CreateModelOptions)[] = [
  'numClasses',
  'inChannels',
  'inputSize',
  'attention',
  'dtype',
  'device',
];
const CIFAR_INPUT: [number, number, number] = [3, 32, 32];
const IMAGENET_INPUT: [number, number, number] = [3, 224, 224];
/** A family's SE unit switched off: the plain twin's base, so that { type: 'se' } restores the family's unit. */
const switchedOff = (unit: AttentionConfig): AttentionConfig => ({ ...unit, type: 'none' });

const ENTRIES: Entry[] = [];

ENTRIES.push({
  name: 'simple-cnn',
  family: 'simple-cnn',
  hasSE: true,
  defaultInput: CIFAR_INPUT,
  extraOptions: [],
  description: "the seed program's CNN: conv 3→64, ReLU, max-pool, SEBlock(64), linear classifier",
  build: (o) => new SimpleCNN({ ...o, attention: o.attention && mergeAttention(CIFAR_SE, o.attention) }),
});

for (const depth of CIFAR_DEPTHS) {
  for (const se of [false, true]) {
    ENTRIES.push({
      name: `${se ? 'se-' : ''}resnet${depth}`,
      family: 'cifar-resnet',
      hasSE: se,
      defaultInput: CIFAR_INPUT,
      extraOptions: ['sePlacement', 'zeroInitLastBn'],
      description:
        `${se ? 'SE-' : ''}ResNet-${depth} for CIFAR: basic blocks of 16/32/64 channels` +
        (se ? ', SE (r=16, Linear, ⌊C/r⌋) after bn2' : ''),
      build: (o) =>
        new CifarResNet({
          ...o,
          depth,
          placement: o.sePlacement,
          attention: mergeAttention(se ? CIFAR_SE : switchedOff(CIFAR_SE), o.attention),
        }),
    });
  }
}

for (const se of [false, true]) {
  ENTRIES.push({
    name: `${se ? 'se-' : ''}preresnet164`,
    family: 'cifar-preact-resnet',
    hasSE: se,
    defaultInput: CIFAR_INPUT,
    extraOptions: ['zeroInitLastBn'],
    description:
      `${se ? 'SE-' : ''}ResNet-164 for CIFAR: pre-activation bottlenecks (16/32/64 ×4), 18 per stage` +
      (se ? ', SE (r=16) before the addition' : ''),
    build: (o) =>
      new PreActResNet({
        ...o,
        depth: 164,
        attention: mergeAttention(se ? CIFAR_SE : switchedOff(CIFAR_SE), o.attention),
      }),
  });
}

for (const se of [false, true]) {
  ENTRIES.push({
    name: `${se ? 'se-' : ''}fastnet`,
    family: 'cifar-fastnet',
    hasSE: se,
    defaultInput: CIFAR_INPUT,
    extraOptions: ['bnMomentum', 'bnEps', 'logitScale'],
    description:
      `${se ? 'SE-' : ''}FastNet for fast CIFAR training: 2×2 stem, three conv-pool-conv groups of 64/256/256, max-pooled head` +
      (se ? ', SE (r=16) after each group' : ''),
    build: (o) => new FastNet({ ...o, attention: mergeAttention(se ? CIFAR_SE : switchedOff(CIFAR_SE), o.attention) }),
  });
}

type Architecture = Pick<ResNetOptions, 'layers' | 'block' | 'cardinality' | 'baseWidth'>;
const IMAGENET = [
  ['resnet18', 'ResNet-18', { layers: [2, 2, 2, 2], block: 'basic' }],
  ['resnet34', 'ResNet-34', { layers: [3, 4, 6, 3], block: 'basic' }],
  ['resnet50', 'ResNet-50', { layers: [3, 4, 6, 3], block: 'bottleneck' }],
  ['resnet101', 'ResNet-101', { layers: [3, 4, 23, 3], block: 'bottleneck' }],
  ['resnet152', 'ResNet-152', { layers: [3, 8, 36, 3], block: 'bottleneck' }],
  ['resnext50_32x4d', 'ResNeXt-50 32x4d', { layers: [3, 4, 6, 3], block: 'bottleneck', cardinality: 32, baseWidth: 4 }],
  [
    'resnext101_32x4d',
    'ResNeXt-101 32x4d',
    { layers: [3, 4, 23, 3], block: 'bottleneck', cardinality: 32, baseWidth: 4 },
  ],
] as const satisfies readonly (readonly [string, string, Architecture])[];

for (const [plainName, title, table] of IMAGENET) {
  const architecture: Architecture = table;
  for (const se of [false, true]) {
    const blocks =
      architecture.block === 'basic'
        ? 'basic blocks'
        : architecture.cardinality
          ? 'grouped bottlenecks'
          : 'bottlenecks';
    ENTRIES.push({
      name: `${se ? 'se' : ''}${plainName}`,
      family: plainName.startsWith('resnext') ? 'resnext' : 'resnet',
      hasSE: se,
      defaultInput: IMAGENET_INPUT,
      extraOptions: ['zeroInitLastBn'],
      description:
        `${se ? 'SE-' : ''}${title} for ImageNet (timm layout): ${blocks} ${architecture.layers.join('-')}` +
        (se ? ', SE as 1×1 convs (r=16, widths rounded to 8)' : ''),
      build: (o) =>
        new ResNet({
          ...o,
          ...architecture,
          attention: mergeAttention(se ? TIMM_SE : switchedOff(TIMM_SE), o.attention),
        }),
    });
  }
}

// The SE paper's released models as Cadene's / timm's ports define them (Caffe layout, their state-dict
// names), in timm's order; SE-only, as released.
type LegacyArchitecture = Omit<LegacySENetOptions, keyof ModelOptions | 'attention'>;
const SENET154: LegacyArchitecture = {
  block: 'senet',
  layers: [3, 8, 36, 3],
  groups: 64,
  inplanes: 128,
  input3x3: true,
  downsampleKernelSize: 3,
  downsamplePadding: 1,
  dropRate: 0.2,
};
type Stages = LegacyArchitecture['layers'];
const resnet = (layers: Stages): LegacyArchitecture => ({ block: 'resnet', layers });
const resnext = (layers: Stages): LegacyArchitecture => ({ block: 'resnext', layers, groups: 32 });
const LEGACY = [
  ['legacy_seresnet18', 'SE-ResNet-18: basic blocks 2-2-2-2', { block: 'basic', layers: [2, 2, 2, 2] }],
  ['legacy_seresnet34', 'SE-ResNet-34: basic blocks 3-4-6-3', { block: 'basic', layers: [3, 4, 6, 3] }],
  ['legacy_seresnet50', 'SE-ResNet-50: bottlenecks 3-4-6-3, stride in the first 1×1', resnet([3, 4, 6, 3])],
  ['legacy_seresnet101', 'SE-ResNet-101: bottlenecks 3-4-23-3, stride in the first 1×1', resnet([3, 4, 23, 3])],
  ['legacy_seresnet152', 'SE-ResNet-152: bottlenecks 3-8-36-3, stride in the first 1×1', resnet([3, 8, 36, 3])],
  ['legacy_senet154', 'SENet-154: 3×3 stem, 64×4d bottlenecks 3-8-36-3, 3×3 projections, dropout 0.2', SENET154],
  ['legacy_seresnext26_32x4d', 'SE-ResNeXt-26 32x4d: grouped bottlenecks 2-2-2-2', resnext([2, 2, 2, 2])],
  ['legacy_seresnext50_32x4d', 'SE-ResNeXt-50 32x4d: grouped bottlenecks 3-4-6-3', resnext([3, 4, 6, 3])],
  ['legacy_seresnext101_32x4d', 'SE-ResNeXt-101 32x4d: grouped bottlenecks 3-4-23-3', resnext([3, 4, 23, 3])],
] as const satisfies readonly (readonly [string, string, LegacyArchitecture])[];

for (const [name, title, architecture] of LEGACY) {
  ENTRIES.push({
    name,
    family: 'legacy-senet',
    hasSE: true,
    defaultInput: IMAGENET_INPUT,
    extraOptions: [],
    description: `${title} for ImageNet (Caffe layout, Cadene's/timm's legacy names), SE as 1×1 convs (r=16, ⌊C/16⌋)`,
    build: (o) => new LegacySENet({ ...o, ...architecture, attention: mergeAttention(LEGACY_SE, o.attention) }),
  });
}

const BY_NAME = new Map<string, Entry>(ENTRIES.map((e) => [e.name, e]));

/** Every model's name, family, description, default input [C, H, W] and whether it has SE units. */
export function listModels(): ModelInfo[] {
  return ENTRIES.map(({ name, family, description, defaultInput, hasSE }) => ({
    name,
    family,
    description,
    defaultInput: [...defaultInput],
    hasSE,
  }));
}

/** Whether `name` is a model createModel builds. */
export function isModelName(name: string): name is ModelName {
  return BY_NAME.has(name);
}

/**
 * A model name read at run time (a config file, the command line, plain JavaScript) checked against the
 * registry: the name itself, typed, or one error listing the known models.
 */
export function modelName(name: string): ModelName {
  if (typeof name === 'string' && isModelName(name)) return name;
  throw new Error(`unknown model '${name}'; known models: ${ENTRIES.map((e) => e.name).join(', ')}`);
}

/**
 * Builds a named model, initialised as its family is in PyTorch (the ResNet families with timm's
 * initialisation, see resnet-init.ts; the others with their layers' defaults). Seed with torch.manualSeed first.
 */
export function createModel(name: ModelName, options: CreateModelOptions = {}): Model {
  const entry = BY_NAME.get(modelName(name)) as Entry;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`createModel('${name}'): options must be an object, got ${JSON.stringify(options)}`);
  }
  const allowed = [...COMMON_OPTIONS, ...entry.extraOptions];
  const refused = Object.keys(options).filter((k) => !allowed.includes(k as keyof CreateModelOptions));
  if (refused.length) {
    throw new TypeError(
      `createModel('${name}'): ${refused.map((k) => `'${k}'`).join(', ')} ` +
        `${refused.length > 1 ? 'are not options' : 'is not an option'} of this model; it takes ${allowed.join(', ')}`,
    );
  }
  return entry.build(options);
}
