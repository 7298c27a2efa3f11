// Where a state dict comes from, judged by its key names, and which senet model it fits. The naming
// schemes in use for SE-ResNets:
//   - senet's own, which is timm's (layerN.M.se.fc1/fc2, 1×1 convs with bias) and, for the plain ResNets
//     and ResNeXt-50, torchvision's (conv1, bn1, layerN.M.*, downsample.0/1, fc): loaded by name;
//   - moskomule/senet.pytorch (layerN.M.se.fc.0 / se.fc.2, Linear layers without bias, width ⌊C/16⌋):
//     renamed to se.fc1 / se.fc2; its CIFAR se_resnet20/32/56 are senet's se-resnet20/32/56, its ImageNet
//     se_resnet18...152 are seresnet18...152 with a bias-free Linear SE unit of width ⌊C/16⌋;
//   - Cadene's pretrainedmodels, kept by timm as legacy_* (layer0.conv1, layerN.M.se_module.fc1,
//     last_linear): a different network (the stride in the first 1×1 convolution, a Caffe-style stem), so
//     it is never renamed into senet's ResNets; it loads by name into the legacy_* models.
// Fitting a file to a model compares key names and shapes with models built on the meta device (shapes
// only, no memory), so suggesting a model for a file is cheap.
import { nn } from '../torch/index.js';
import type { AttentionConfig } from '../se/index.js';
import { applyKeyMap, type KeyMapRules } from './key-map.js';
import { createModel, listModels, modelName, type CreateModelOptions } from './registry.js';

/** Key → shape: what fitting needs of a state dict. */
export type Shapes = ReadonlyMap<string, readonly number[]>;

export interface WeightSource {
  name: 'senet' | 'moskomule' | 'cadene';
  /** The naming scheme in words, for messages. */
  title: string;
  /** The rules that rename this scheme's keys to senet's. */
  rules: KeyMapRules;
}

const SENET: WeightSource = {
  name: 'senet',
  rules: {},
  title: 'senet/timm/torchvision names (conv1, layerN.M.*, se.fc1, fc)',
};
const MOSKOMULE: WeightSource = {
  name: 'moskomule',
  title: 'moskomule/senet.pytorch names (layerN.M.se.fc.0 / se.fc.2: bias-free Linear SE units)',
  rules: {
    rename: [
      ['(^|\\.)se\\.fc\\.0\\.', '$1se.fc1.'],
      ['(^|\\.)se\\.fc\\.2\\.', '$1se.fc2.'],
    ],
  },
};
const CADENE: WeightSource = {
  name: 'cadene',
  rules: {},
  title: "Cadene's / timm's legacy SENet names (layer0.*, layerN.M.se_module.*, last_linear)",
};
export const WEIGHT_SOURCES: readonly WeightSource[] = [SENET, MOSKOMULE, CADENE];

/** The naming scheme of a state dict's keys (without any 'module.' prefix); senet's when no other fits. */
export function detectSource(keys: Iterable<string>): WeightSource {
  const all = [...keys];
  if (all.some((k) => /^layer0\.|\.se_module\.|^last_linear\./.test(k))) return CADENE;
  if (all.some((k) => /(^|\.)se\.fc\.[02]\.weight$/.test(k))) return MOSKOMULE;
  return SENET;
}

/** A state dict's keys without the 'module.' that DataParallel puts before every one. */
export function withoutModulePrefix<T>(weights: ReadonlyMap<string, T>): Map<string, T> {
  const keys = [...weights.keys()];
  const prefixed = keys.length > 0 && keys.every((k) => k.startsWith('module.'));
  return new Map(keys.map((k) => [prefixed ? k.slice('module.'.length) : k, weights.get(k)!]));
}

// ---- Cadene / timm legacy SENets: which legacy_* model a file is for ----

const LEGACY_MODELS: [
  name: string,
  stages: string,
  block: 'basic' | 'bottleneck',
  groups: number,
  deepStem: boolean,
][] = [
  ['legacy_seresnet18', '2,2,2,2', 'basic', 1, false],
  ['legacy_seresnet34', '3,4,6,3', 'basic', 1, false],
  ['legacy_seresnet50', '3,4,6,3', 'bottleneck', 1, false],
  ['legacy_seresnet101', '3,4,23,3', 'bottleneck', 1, false],
  ['legacy_seresnet152', '3,8,36,3', 'bottleneck', 1, false],
  ['legacy_senet154', '3,8,36,3', 'bottleneck', 64, true],
  ['legacy_seresnext26_32x4d', '2,2,2,2', 'bottleneck', 32, false],
  ['legacy_seresnext50_32x4d', '3,4,6,3', 'bottleneck', 32, false],
  ['legacy_seresnext101_32x4d', '3,4,23,3', 'bottleneck', 32, false],
];

/** Blocks per stage of a layerN.M.* state dict: [blocks in layer1, ..., layer4]. */
function stageBlocks(keys: Iterable<string>): number[] {
  const counts = [0, 0, 0, 0];
  for (const key of keys) {
    const m = /^layer([1-4])\.(\d+)\./.exec(key);
    if (m) counts[Number(m[1]) - 1] = Math.max(counts[Number(m[1]) - 1], Number(m[2]) + 1);
  }
  return counts;
}

/** The legacy_* model (timm's names for Cadene's SENets) whose structure a Cadene-layout state dict has. */
export function legacyModelName(shapes: Shapes): string | null {
  const stages = stageBlocks(shapes.keys()).join(',');
  const block = shapes.has('layer1.0.conv3.weight') ? 'bottleneck' : 'basic';
  const conv1 = shapes.get('layer1.0.conv1.weight');
  const conv2 = shapes.get('layer1.0.conv2.weight');
  const groups = conv1 && conv2 && block === 'bottleneck' ? Math.round(conv1[0] / conv2[1]) : 1;
  const deepStem = shapes.has('layer0.conv2.weight');
  const found = LEGACY_MODELS.find(([, s, b, g, d]) => s === stages && b === block && g === groups && d === deepStem);
  return found ? found[0] : null;
}

/** The error for Cadene-layout weights given to a model of another layout. */
export function legacyLayoutError(shapes: Shapes, what: string): Error {
  const name = legacyModelName(shapes);
  const use = name
    ? `use --model ${name} (createModel('${name}'))`
    : 'use the legacy_* model of its depth (see `senet models`)';
  return new Error(
    `${what} holds ${CADENE.title}: it is for a legacy_* model (Cadene/timm layout), ` +
      `a different network from senet's ResNets: ${use}`,
  );
}

// ---- fitting weights to registry models ----

interface Probe {
  shapes: Map<string, number[]>;
  /** The last Linear layer's weight: its rows are the classes. */
  classifier: string | null;
  /** The first convolution's weight: its second dimension is the input channels. */
  stem: string | null;
}

const probes = new Map<string, Probe | null>();

/** A registry model's state-dict shapes, built on the meta device; null when it cannot take `options`. */
function probe(name: string, options: CreateModelOptions = {}): Probe | null {
  const id = `${name} ${JSON.stringify(options)}`;
  if (probes.has(id)) return probes.get(id)!;
  let result: Probe | null = null;
  try {
    const model = createModel(modelName(name), { ...options, device: 'meta' });
    let classifier: string | null = null;
    let stem: string | null = null;
    for (const [prefix, module] of model.namedModules()) {
      if (module instanceof nn.Linear) classifier = `${prefix}.weight`;
      if (module instanceof nn.Conv2d && stem === null) stem = `${prefix}.weight`;
    }
    result = { shapes: new Map(Object.entries(model.stateDict()).map(([k, v]) => [k, v.shape])), classifier, stem };
    model.dispose();
  } catch {
    result = null; // options this model does not take (a legacy model's attention, say): it does not fit
  }
  probes.set(id, result);
  return result;
}

/** Drops trailing size-1 dimensions beyond the second: [rd, C, 1, 1] → [rd, C] (Linear vs 1×1 conv). */
export function withoutTrailingOnes(shape: readonly number[]): number[] {
  const out = [...shape];
  while (out.length > 2 && out[out.length - 1] === 1) out.pop();
  return out;
}

export const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Whether tensors of these shapes load into a model of `model`'s shapes (num_batches_tracked may be absent). */
function fits(model: ReadonlyMap<string, readonly number[]>, shapes: Shapes): boolean {
  for (const [key, shape] of model) {
    const have = shapes.get(key);
    if (!have) {
      if (key.endsWith('.num_batches_tracked')) continue;
      return false;
    }
    if (!sameShape(withoutTrailingOnes(have), withoutTrailingOnes(shape))) return false;
  }
  for (const key of shapes.keys()) if (!model.has(key)) return false;
  return true;
}

/** The key names that do not depend on options: SE biases and num_batches_tracked left out. */
const optionFreeKeys = (keys: Iterable<string>) =>
  [...keys]
    .filter((k) => !/(^|\.)se\.fc[12]\.bias$/.test(k) && !k.endsWith('.num_batches_tracked'))
    .sort()
    .join('\n');

/**
 * The options with which registry model `name` fits weights of these shapes (senet's names): the number of
 * classes and input channels read from the classifier and the first convolution, and the SE unit's form
 * (Linear or 1×1 conv, bias, reduction) read from the first SE unit. Null when the model does not fit.
 */
export function modelOptionsFor(name: string, shapes: Shapes): CreateModelOptions | null {
  const base = probe(name);
  if (!base || optionFreeKeys(base.shapes.keys()) !== optionFreeKeys(shapes.keys())) return null;
  const options: CreateModelOptions = {};
  const classifier = base.classifier && shapes.get(base.classifier);
  if (classifier) options.numClasses = classifier[0];
  const stem = base.stem && shapes.get(base.stem);
  if (stem) options.inChannels = stem[1];
  const attentions: (AttentionConfig | undefined)[] = [undefined];
  const fc1 = [...shapes.keys()].find((k) => /(^|\.)se\.fc1\.weight$/.test(k));
  if (fc1) {
    const [rd, channels] = shapes.get(fc1)!;
    const form: AttentionConfig = {
      excitation: shapes.get(fc1)!.length === 4 ? 'conv' : 'linear',
      bias: shapes.has(fc1.replace(/weight$/, 'bias')),
    };
    const reduction = channels / rd;
    attentions.push(form, { ...form, reduction, rdMode: 'floor' }, { ...form, reduction, rdMode: 'divisible' });
  }
  for (const attention of attentions) {
    const candidate = { ...options, ...(attention ? { attention } : {}) };
    const built = probe(name, candidate);
    if (built && fits(built.shapes, shapes)) return candidate;
  }
  return null;
}

export interface FittingModel {
  name: string;
  options: CreateModelOptions;
}

/** The first registry model that weights of these shapes (senet's names) load into, with its options. */
export function findFittingModel(shapes: Shapes): FittingModel | null {
  for (const { name } of listModels()) {
    const options = modelOptionsFor(name, shapes);
    if (options) return { name, options };
  }
  return null;
}

/** How a fitting model is built, for messages: createModel('seresnet18', {"numClasses":10,...}). */
export function describeFit(fit: FittingModel): string {
  return `createModel('${fit.name}', ${JSON.stringify(fit.options)})`;
}

/** `weights` without a 'module.' prefix and renamed by the caller's rules, if any, with its naming scheme. */
function prepared<T>(
  weights: ReadonlyMap<string, T>,
  keyMap?: KeyMapRules,
): { named: Map<string, T>; source: WeightSource } {
  let named = withoutModulePrefix(weights);
  if (keyMap) named = applyKeyMap(named, keyMap, 'the key map');
  return { named, source: detectSource(named.keys()) };
}

/**
 * `weights` in senet's names, for a file whose model is not known yet: the 'module.' prefix dropped, the
 * caller's rules applied, then the detected scheme's (Cadene's layout keeps its names: legacy_* models use them).
 */
export function toSenetNames<T>(
  weights: ReadonlyMap<string, T>,
  keyMap?: KeyMapRules,
): { weights: Map<string, T>; source: WeightSource } {
  const { named, source } = prepared(weights, keyMap);
  return { weights: applyKeyMap(named, source.rules, `the ${source.name} naming rules`), source };
}

/**
 * `weights` renamed to senet's names for a model with keys `modelKeys`: as toSenetNames, except that keys
 * that already are the model's stay as they are. Cadene-layout weights for a model of another layout are
 * an error naming the legacy_* model to use (`what` names the weights in it).
 */
export function toModelNames<T>(
  modelKeys: ReadonlySet<string>,
  weights: ReadonlyMap<string, T>,
  shapeOf: (value: T) => readonly number[],
  options: { keyMap?: KeyMapRules; what?: string } = {},
): { weights: Map<string, T>; source: WeightSource } {
  const { named, source } = prepared(weights, options.keyMap);
  if ([...modelKeys].every((k) => named.has(k) || k.endsWith('.num_batches_tracked')))
    return { weights: named, source };
  if (source === CADENE && ![...modelKeys].some((k) => k.startsWith('layer0.'))) {
    throw legacyLayoutError(new Map([...named].map(([k, v]) => [k, shapeOf(v)])), options.what ?? 'the state dict');
  }
  return { weights: applyKeyMap(named, source.rules, `the ${source.name} naming rules`), source };
}

/** What to say about weights that did not load: their scheme and the registry model they fit, if any. */
export function fitHint(shapes: Shapes, source: WeightSource): string {
  const names = source === SENET ? '' : `its keys are ${source.title}; `;
  const fit = findFittingModel(shapes);
  if (source === CADENE && !fit) return legacyLayoutError(shapes, 'the file').message;
  if (fit) return `${names}the weights fit ${describeFit(fit)} (CLI: --model ${fit.name})`;
  return (
    `${names}they fit no model in senet's registry (see \`senet models\`); weights named otherwise can be renamed ` +
    'with a key map (loadWeights option keyMap, CLI --key-map FILE.json; README: "Weights from other sources")'
  );
}
