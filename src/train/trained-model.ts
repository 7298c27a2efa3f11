// Which model a set of weights belongs to. A model is named by a spec — registry name plus the options it
// was built with — which senet writes into every model.safetensors it saves (with the class names and
// the normalisation the model was trained with), so that `senet eval`, `predict` and `infer` can rebuild
// the model from the weights file alone. Weights without that metadata (a .pt from PyTorch, say) need
// the model named; the number of classes, the input channels and the SE unit's form are then read from
// the weights' shapes, and the known naming schemes (timm, torchvision, moskomule/senet.pytorch) load
// as they are (src/models/weight-sources.ts).
import { join } from 'node:path';
import * as torch from '../torch/index.js';
import { checkRegularFile } from '../util/files.js';
import {
  createModel,
  listModels,
  loadWeights,
  readStateDict,
  modelOptionsFor,
  findFittingModel,
  modelName,
  toModelNames,
  toSenetNames,
  legacyLayoutError,
  type CreateModelOptions,
  type Model,
  type KeyMapRules,
} from '../models/index.js';
import type { AttentionConfig } from '../se/index.js';
import type { SEPlacement } from '../models/index.js';
import { NORMALIZATIONS } from '../data/index.js';
import type { TrainConfig } from './config.js';
import { MAX_IMAGE_SIZE } from './config-schema.js';
import { RunDir, type CheckpointName } from './run-dir.js';
import { findCheckpoint, readCheckpoint, WEIGHTS_FILE } from './checkpoint.js';

/** A model as data: createModel(name, options). */
export interface ModelSpec {
  name: string;
  options: {
    numClasses: number;
    inChannels: number;
    inputSize: [number, number];
    attention?: AttentionConfig;
    sePlacement?: SEPlacement;
    /** FastNets (config bnMomentum, bnEps, logitScale). */
    bnMomentum?: number;
    bnEps?: number;
    logitScale?: number;
  };
}

/** What a trained model needs around it: its classes and its input normalisation. */
export interface ModelContext {
  classes: string[];
  mean: number[];
  std: number[];
}

/** The model a config trains on data of this shape and these classes. */
export function specFromConfig(config: TrainConfig, imageShape: readonly number[], numClasses: number): ModelSpec {
  const [channels, height, width] = imageShape;
  return {
    name: config.model,
    options: {
      numClasses,
      inChannels: channels,
      inputSize: [height, width],
      ...(config.attention ? { attention: config.attention } : {}),
      ...(config.sePlacement ? { sePlacement: config.sePlacement } : {}),
      ...(config.bnMomentum === null ? {} : { bnMomentum: config.bnMomentum }),
      ...(config.bnEps === null ? {} : { bnEps: config.bnEps }),
      ...(config.logitScale === 1 ? {} : { logitScale: config.logitScale }),
    },
  };
}

export function buildModel(spec: ModelSpec): Model {
  return createModel(modelName(spec.name), spec.options as CreateModelOptions);
}

const META = {
  model: 'senet.model',
  options: 'senet.model_options',
  classes: 'senet.classes',
  mean: 'senet.mean',
  std: 'senet.std',
} as const;

/** The safetensors metadata senet writes with a model's weights (no timestamps: equal weights, equal files). */
export function weightsMetadata(spec: ModelSpec, context: ModelContext): Record<string, string> {
  return {
    format: 'pt', // the safetensors convention for weights saved from PyTorch modules
    [META.model]: spec.name,
    [META.options]: JSON.stringify(spec.options),
    [META.classes]: JSON.stringify(context.classes),
    [META.mean]: JSON.stringify(context.mean),
    [META.std]: JSON.stringify(context.std),
  };
}

export function parseMetadata(
  metadata: Record<string, string>,
  file: string,
): { spec: ModelSpec; context: ModelContext } | null {
  if (!metadata[META.model]) return null;
  try {
    const spec: ModelSpec = { name: metadata[META.model], options: JSON.parse(metadata[META.options]) };
    const context: ModelContext = {
      classes: JSON.parse(metadata[META.classes]),
      mean: JSON.parse(metadata[META.mean]),
      std: JSON.parse(metadata[META.std]),
    };
    checkContext(spec, context, file);
    checkDescribed(spec);
    return { spec, context };
  } catch (error) {
    if (error instanceof MetadataError) throw new Error(error.message);
    throw new Error(
      `${file}: its senet metadata cannot be read (${(error as Error).message}); ` +
        'write the file again with senet (senet convert), or strip its metadata and name the model with --model',
    );
  }
}

/** The metadata's sizes, checked before a model is built from them (a damaged number would be allocated as it is). */
function checkDescribed(spec: ModelSpec): void {
  const { numClasses, inChannels, inputSize } = spec.options;
  const isSide = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= MAX_IMAGE_SIZE;
  if (!Number.isSafeInteger(numClasses) || numClasses < 1 || numClasses > 1_000_000) {
    throw new Error(`numClasses is ${JSON.stringify(numClasses)}; expected an integer in [1, 1000000]`);
  }
  if (!Number.isSafeInteger(inChannels) || inChannels < 1 || inChannels > 1024) {
    throw new Error(`inChannels is ${JSON.stringify(inChannels)}; expected an integer in [1, 1024]`);
  }
  if (!Array.isArray(inputSize) || inputSize.length !== 2 || !inputSize.every(isSide)) {
    throw new Error(
      `inputSize is ${JSON.stringify(inputSize)}; expected [height, width], each in [1, ${MAX_IMAGE_SIZE}]`,
    );
  }
}

class MetadataError extends Error {}

/** The metadata's classes and normalisation must fit the model it describes: one name per class, one value per channel. */
function checkContext(spec: ModelSpec, context: ModelContext, file: string): void {
  const { numClasses, inChannels } = spec.options ?? {};
  const { classes, mean, std } = context;
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) {
    throw new MetadataError(
      `${file}: its metadata's class names (${META.classes}) are not a list of strings; the file is corrupt`,
    );
  }
  if (classes.length !== numClasses) {
    throw new MetadataError(
      `${file}: its metadata names ${classes.length} class${classes.length === 1 ? '' : 'es'} but its model has ` +
        `${numClasses} outputs; the file is corrupt or its metadata was edited`,
    );
  }
  for (const [name, values] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (
      !Array.isArray(values) ||
      values.length !== inChannels ||
      !values.every((v) => typeof v === 'number' && Number.isFinite(v))
    ) {
      throw new MetadataError(
        `${file}: its metadata's ${name} (${META[name]}) is not ${inChannels} finite numbers (one per input ` +
          'channel); the file is corrupt or its metadata was edited',
      );
    }
  }
  if (std.some((v) => v === 0))
    throw new MetadataError(`${file}: its metadata's std (${META.std}) has a zero; the file is corrupt`);
}

export interface LoadTrainedModelOptions {
  /** A run directory: its best checkpoint (or the one named by `checkpoint`). */
  run?: string;
  checkpoint?: CheckpointName;
  /** A weights file (.safetensors, .pt, .pth, .bin). */
  weights?: string;
  /** The registry model; required for weights without senet metadata, else checked against it. */
  model?: string;
  /** Input side for weights without metadata (default: the model's default input). */
  imageSize?: number;
  /** Normalisation for weights without metadata (default: the seed recipe's 0.5 / 0.5). */
  mean?: number[];
  std?: number[];
  /** Rules renaming the weights' keys to senet's (see src/models/key-map.ts; the CLI's --key-map). */
  keyMap?: KeyMapRules;
  /** For weights without metadata and no model named: use the registry model they fit (`senet convert`). */
  guessModel?: boolean;
  /** Load NaN and infinite weights instead of refusing them (--allow-nonfinite). */
  allowNonfinite?: boolean;
  /** Convert weights whose dtype is of another kind than the model's instead of refusing them (--cast-dtypes). */
  castDtypes?: boolean;
}

export interface TrainedModel {
  model: Model;
  spec: ModelSpec;
  context: ModelContext;
  /** The weights file loaded. */
  weightsFile: string;
  /** The run's config, when loaded from a run. */
  config: TrainConfig | null;
}

/** The weights file of a run's checkpoint: `best` if there is one (or the one asked for), else `last`. */
export function runWeightsFile(runPath: string, checkpoint?: CheckpointName): { run: RunDir; file: string } {
  const run = RunDir.open(runPath);
  const names: CheckpointName[] = checkpoint ? [checkpoint] : ['best', 'last'];
  for (const name of names) {
    const folder = findCheckpoint(run.checkpoint(name));
    if (folder) {
      readCheckpoint(folder);
      return { run, file: join(folder, WEIGHTS_FILE) };
    }
  }
  throw new Error(
    `the run ${run.path} has no ${checkpoint ?? 'best or last'} checkpoint yet (nothing has been trained)`,
  );
}

/** Builds a model and loads trained weights into it (eval mode), from a run or a weights file. */
export function loadTrainedModel(options: LoadTrainedModelOptions): TrainedModel {
  if (options.run && options.weights)
    throw new Error('name a run directory (--run) or a weights file (--weights), not both');
  if (!options.run && !options.weights)
    throw new Error('name the trained model: a run directory (--run DIR) or a weights file (--weights FILE)');
  let config: TrainConfig | null = null;
  let file: string;
  if (options.run) {
    const found = runWeightsFile(options.run, options.checkpoint);
    config = found.run.readConfig();
    file = found.file;
  } else {
    file = options.weights!;
    checkRegularFile(file, 'the weights file');
  }
  const isSafetensors = torch.io.isSafetensorsFile(file);
  const contents = isSafetensors ? torch.io.loadSafetensors(file) : null;
  const tensors = contents ? new Map(Object.entries(contents.tensors)) : readStateDict(file);
  try {
    const described = contents ? parseMetadata(contents.metadata, file) : null;
    if (described && options.model && options.model !== described.spec.name) {
      throw new Error(`${file} holds weights of '${described.spec.name}', not '${options.model}'`);
    }
    let spec: ModelSpec;
    let context: ModelContext;
    if (described) {
      ({ spec, context } = described);
    } else {
      spec = guessSpec(file, tensors, options);
      context = {
        classes: Array.from({ length: spec.options.numClasses }, (_, i) => `class ${i}`),
        mean: options.mean ?? [...NORMALIZATIONS.half.mean],
        std: options.std ?? [...NORMALIZATIONS.half.std],
      };
    }
    const model = buildModel(spec);
    try {
      loadWeights(model, tensors, {
        keyMap: options.keyMap,
        allowNonfinite: options.allowNonfinite,
        castDtypes: options.castDtypes,
      });
    } catch (error) {
      model.dispose();
      throw new Error((error as Error).message.replace(/^cannot load weights:/, `cannot load weights from ${file}:`));
    }
    model.eval();
    return { model, spec, context, weightsFile: file, config };
  } finally {
    torch.dispose([...tensors.values()]);
  }
}

const shapesOf = (weights: Map<string, torch.Tensor>) => new Map([...weights].map(([k, t]) => [k, t.shape]));

/**
 * A spec for weights without metadata: the named model (or, with guessModel, the registry model they fit)
 * with the classes, input channels and SE form the weights' shapes say, at the default or given input size.
 */
function guessSpec(file: string, tensors: Map<string, torch.Tensor>, options: LoadTrainedModelOptions): ModelSpec {
  let name = options.model;
  if (!name) {
    const senetNamed = toSenetNames(tensors, options.keyMap);
    const fit = findFittingModel(shapesOf(senetNamed.weights));
    if (fit && options.guessModel) {
      name = fit.name;
    } else {
      const hint = fit
        ? `; it fits '${fit.name}': --model ${fit.name}`
        : senetNamed.source.name === 'cadene'
          ? `; ${legacyLayoutError(shapesOf(senetNamed.weights), 'it').message}`
          : "; it fits no model in senet's registry as it is: name the model with --model to see which keys are missing " +
            'and unexpected, and rename them with --key-map FILE.json';
      throw new Error(`${file} does not say which model it is for: name it with --model (see \`senet models\`)${hint}`);
    }
  }
  const info = listModels().find((m) => m.name === name);
  if (!info)
    throw new Error(
      `unknown model '${name}'; known models: ${listModels()
        .map((m) => m.name)
        .join(', ')}`,
    );
  const [inChannels, height, width] = info.defaultInput;
  const inputSize: [number, number] = options.imageSize ? [options.imageSize, options.imageSize] : [height, width];
  const probe = createModel(modelName(name), { device: 'meta', inputSize });
  let classifierKey: string | null = null;
  for (const [moduleName, module] of probe.namedModules())
    if (module instanceof torch.nn.Linear) classifierKey = `${moduleName}.weight`;
  const modelShapes = probe.stateDict();
  const modelKeys = new Set(Object.keys(modelShapes));
  const defaultClasses = classifierKey ? modelShapes[classifierKey].size(0) : 10;
  probe.dispose();
  const named = toModelNames(modelKeys, tensors, (t) => t.shape, { keyMap: options.keyMap, what: file }).weights;
  const fitted = modelOptionsFor(name, shapesOf(named));
  if (fitted) {
    return {
      name,
      options: {
        numClasses: fitted.numClasses ?? defaultClasses,
        inChannels: fitted.inChannels ?? inChannels,
        inputSize,
        ...(fitted.attention ? { attention: fitted.attention } : {}),
      },
    };
  }
  // The weights do not fit: build the model anyway (with the classes of its classifier, if the weights
  // have one), so that loading reports what is missing, unexpected and mis-shaped.
  const classifier = classifierKey ? named.get(classifierKey) : undefined;
  const numClasses = classifier && classifier.ndim === 2 ? classifier.size(0) : defaultClasses;
  return { name, options: { numClasses, inChannels, inputSize } };
}
