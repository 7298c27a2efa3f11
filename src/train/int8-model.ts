// A trained model's int8 form (`senet quantize`): post-training static quantization of a run's float model
// (BatchNorm folded, calibrated on training images, converted), saved in the run directory as
// model-int8.safetensors, which `senet eval`, `infer` and `serve` load with --int8. The file holds each
// layer's int8 weight (`<layer>.weight`, int8), its per-channel scales (`<layer>.weight_scale`, float64)
// and float bias (`<layer>.bias`), plus the usual senet model metadata and `senet.int8`: JSON with the
// quantized engine, the calibration, and every layer's output scale and zero point.
import { existsSync } from 'node:fs';
import * as torch from '../torch/index.js';
import type { Int8Weight, QParams } from '../torch/quantization/index.js';
import { CifarResNet } from '../models/cifar-resnet.js';
import { Int8CifarResNet, calibrate, int8Layers } from '../models/int8-cifar-resnet.js';
import { QuantizedConv2d, QuantizedLinear } from '../torch/quantization/index.js';
import { buildModel, parseMetadata, weightsMetadata, type TrainedModel } from './trained-model.js';
import { RunDir } from './run-dir.js';
import type { TrainConfig } from './config.js';

const INT8_META = 'senet.int8';

/** What `senet.int8` records besides the layers' qparams. */
export interface Int8Info {
  /** The libtorch quantized engine the weights are packed for ('onednn' or 'qnnpack'). */
  engine: string;
  /** How many training images calibrated the activation ranges. */
  calibrationImages: number;
  /** The float weights quantized. */
  source: string;
}

/** The engine int8 models use unless told: onednn, measured faster than qnnpack here (bench/results/int8.md). */
export function defaultEngine(): string {
  const engines = torch.quantization.supportedEngines();
  return engines.includes('onednn') ? 'onednn' : engines[0];
}

/**
 * The int8 model of a trained float model, still calibrating: feed it training batches with calibrate(),
 * then convert(). Throws, naming the model, for models the int8 path does not cover.
 */
export function prepareInt8(trained: TrainedModel, engine = defaultEngine()): Int8CifarResNet {
  if (!(trained.model instanceof CifarResNet)) {
    throw new Error(
      `int8 quantization covers the CIFAR ResNets and SE-ResNets (resnet20/56, se-resnet20/56, ...); ` +
        `${trained.spec.name} is not one of them`,
    );
  }
  torch.quantization.setEngine(engine);
  return new Int8CifarResNet(trained.model);
}

export { calibrate };

/** Writes a converted int8 model (atomically). */
export function saveInt8Model(path: string, model: Int8CifarResNet, trained: TrainedModel, info: Int8Info): void {
  if (!model.converted) throw new Error('saveInt8Model: convert the model after calibration first');
  const tensors = new Map<string, torch.Tensor>();
  const qparams: Record<string, QParams> = {};
  for (const [name, layer] of int8Layers(model)) {
    qparams[name] = layer.output!;
    if (layer instanceof QuantizedConv2d || layer instanceof QuantizedLinear) {
      const w = layer.int8Weight();
      tensors.set(`${name}.weight`, w.values);
      tensors.set(`${name}.weight_scale`, w.scales);
      if (w.bias) tensors.set(`${name}.bias`, w.bias);
    }
  }
  torch.io.saveSafetensors(tensors, path, {
    ...weightsMetadata(trained.spec, trained.context),
    [INT8_META]: JSON.stringify({ ...info, qparams }),
  });
}

function checkQParams(value: unknown, file: string): Record<string, QParams> {
  const ok = (q: unknown) => {
    const { scale, zeroPoint } = (q ?? {}) as Partial<QParams>;
    return (
      typeof scale === 'number' &&
      Number.isFinite(scale) &&
      scale > 0 &&
      Number.isInteger(zeroPoint) &&
      zeroPoint! >= 0 &&
      zeroPoint! <= 255
    );
  };
  if (typeof value !== 'object' || value === null || !Object.values(value).every(ok)) {
    throw new Error(
      `${file}: its int8 qparams are not {scale > 0, zeroPoint in 0..255} per layer; the file is corrupt`,
    );
  }
  return value as Record<string, QParams>;
}

/** Loads an int8 model file written by saveInt8Model, ready to run (weights packed for its engine). */
export function loadInt8Model(file: string, config: TrainConfig | null = null): TrainedModel & { info: Int8Info } {
  const { tensors, metadata } = torch.io.loadSafetensors(file);
  try {
    if (!metadata[INT8_META]) {
      throw new Error(`${file} is not an int8 model (no ${INT8_META} metadata): write one with \`senet quantize\``);
    }
    const described = parseMetadata(metadata, file);
    if (!described) throw new Error(`${file} does not say which model it is (no senet metadata)`);
    let stored: Int8Info & { qparams: unknown };
    try {
      stored = JSON.parse(metadata[INT8_META]);
    } catch {
      throw new Error(`${file}: its ${INT8_META} metadata is not JSON; the file is corrupt`);
    }
    const qparams = checkQParams(stored.qparams, file);
    const engines = torch.quantization.supportedEngines();
    if (!engines.includes(stored.engine)) {
      throw new Error(
        `${file} was quantized for the '${stored.engine}' engine, which this libtorch lacks (it has ${engines.join(', ')}); ` +
          'quantize the run again here',
      );
    }
    const weights: Record<string, Int8Weight> = {};
    for (const key of Object.keys(tensors)) {
      const match = /^(.*)\.weight$/.exec(key);
      if (!match) continue;
      const values = tensors[key];
      const scales = tensors[`${match[1]}.weight_scale`];
      if (values.dtype !== 'int8' || !scales || scales.ndim !== 1 || scales.size(0) !== values.size(0)) {
        throw new Error(`${file}: ${key} is not int8 values with one scale per output channel; the file is corrupt`);
      }
      weights[match[1]] = { values, scales, bias: tensors[`${match[1]}.bias`] ?? null };
    }
    const trained: TrainedModel = { model: buildModel(described.spec), ...described, weightsFile: file, config };
    const float = trained.model;
    try {
      const model = prepareInt8(trained, stored.engine);
      model.convert({ qparams, weights });
      return {
        ...trained,
        model: model as unknown as TrainedModel['model'],
        info: { engine: stored.engine, calibrationImages: stored.calibrationImages, source: stored.source },
      };
    } finally {
      float.dispose();
    }
  } finally {
    torch.dispose(Object.values(tensors));
  }
}

/** The int8 model of a run directory (written by `senet quantize --run DIR`). */
export function loadRunInt8Model(runPath: string): TrainedModel & { info: Int8Info } {
  const run = RunDir.open(runPath);
  const file = run.file('int8');
  if (!existsSync(file)) {
    throw new Error(`the run ${run.path} has no int8 model yet: make one with \`senet quantize --run ${runPath}\``);
  }
  return loadInt8Model(file, run.readConfig());
}
