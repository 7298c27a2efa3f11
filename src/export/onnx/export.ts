// Exporting a model to ONNX: `toOnnx` traces any module on an example batch and returns the .onnx bytes;
// `exportOnnx` does it for a trained model (a run directory or a weights file, as `senet eval` loads
// them) and writes the file, with the model's classes and normalisation as metadata.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import * as torch from '../../torch/index.js';
import type { nn, Tensor } from '../../torch/index.js';
import { writeFileAtomic } from '../../util/files.js';
import { senetVersion } from '../../train/environment.js';
import { loadTrainedModel, type LoadTrainedModelOptions } from '../../train/trained-model.js';
import { metadataProps, trainedModelMetadata, type ModelMetadata } from './metadata.js';
import { castWeights, foldBatchNorms, type WeightPrecision } from './passes.js';
import { serializeModel } from './serialize.js';
import { traceGraph, type TraceOptions } from './tracer.js';

export interface OnnxOptions extends TraceOptions {
  /** Keep BatchNormalization nodes instead of folding them into the convolutions (default false). */
  keepBatchNorm?: boolean;
  /** Store the weights as float16 or bfloat16, cast to float32 in the graph (default float32). */
  weightType?: 'float32' | WeightPrecision;
  /** Metadata to write; the version, a model name and the input shape are filled in when missing. */
  metadata?: Partial<ModelMetadata>;
}

export interface OnnxExport {
  bytes: Uint8Array;
  metadata: ModelMetadata;
  nodes: number;
  foldedBatchNorms: number;
}

/** Traces `model` on `example` ([N, C, H, W]) and returns the ONNX model with what it took to make it. */
export function exportModel(model: nn.Module, example: Tensor, options: OnnxOptions = {}): OnnxExport {
  if (!(model instanceof torch.nn.Module)) throw new TypeError('toOnnx: expected an nn.Module to export');
  if (!(example instanceof torch.Tensor) || example.isDisposed) {
    throw new TypeError('toOnnx: the example input must be a live Tensor, e.g. torch.randn(2, C, H, W)');
  }
  const weightType = options.weightType ?? 'float32';
  if (!['float32', 'float16', 'bfloat16'].includes(weightType)) {
    throw new Error(`toOnnx: weightType must be float32, float16 or bfloat16, got ${JSON.stringify(weightType)}`);
  }
  const graph = traceGraph(model, example, { seGates: options.seGates });
  const foldedBatchNorms = options.keepBatchNorm ? 0 : foldBatchNorms(graph);
  graph.pruneInitializers();
  if (weightType !== 'float32') castWeights(graph, weightType);
  const metadata: ModelMetadata = {
    version: senetVersion(),
    model: model.constructor.name,
    inputShape: example.shape.slice(1),
    ...options.metadata,
  };
  const bytes = serializeModel(graph, {
    name: metadata.model,
    producerVersion: metadata.version,
    metadata: metadataProps(metadata),
  });
  return { bytes, metadata, nodes: graph.nodes.length, foldedBatchNorms };
}

/**
 * The .onnx bytes of `model` traced on `example`: input `input` [batch, C, H, W], output `logits`
 * [batch, classes] (and `se_gates` [batch, C] with seGates), opset 17, batch dimension symbolic.
 */
export function toOnnx(model: nn.Module, example: Tensor, options: OnnxOptions = {}): Uint8Array {
  return exportModel(model, example, options).bytes;
}

export interface ExportOnnxOptions extends LoadTrainedModelOptions, Omit<OnnxOptions, 'metadata'> {
  /** The .onnx file to write. */
  output: string;
}

/** Exports a trained model (a run directory or a weights file) to an .onnx file, written atomically. */
export function exportOnnx(options: ExportOnnxOptions): OnnxExport & { file: string } {
  if (existsSync(options.output) && statSync(options.output).isDirectory()) {
    throw new Error(`cannot write '${options.output}': it is a directory; name the file to write (model.onnx)`);
  }
  const trained = loadTrainedModel(options);
  try {
    const [c, h, w] = trained.model.inputShape;
    // A batch of 2: a traced size 1 could not be told from the model's own singleton dimensions.
    const example = torch.zeros([2, c, h, w]);
    try {
      const result = exportModel(trained.model, example, {
        keepBatchNorm: options.keepBatchNorm,
        weightType: options.weightType,
        seGates: options.seGates,
        metadata: trainedModelMetadata(trained),
      });
      try {
        mkdirSync(dirname(options.output), { recursive: true });
        writeFileAtomic(options.output, result.bytes);
      } catch (error) {
        throw new Error(`cannot write '${options.output}': ${(error as Error).message}`);
      }
      return { ...result, file: options.output };
    } finally {
      example.dispose();
    }
  } finally {
    trained.model.dispose();
  }
}
