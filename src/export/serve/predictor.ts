// What the HTTP service runs a model through: a predictor turns a batch of preprocessed images into
// logits. The service owns everything around it (decoding, normalisation, batching, top-k), so that
// another engine (onnxruntime-node in bench/serve-bench.ts) plugs into the same service.
import * as torch from '../../torch/index.js';
import { InferenceModel, type InferenceOptions } from '../../models/index.js';
import type { ModelContext, ModelSpec, TrainedModel } from '../../train/trained-model.js';

export interface Predictor {
  /** What computes the logits, for GET /model (e.g. "libtorch", "onnxruntime-node"). */
  readonly engine: string;
  /** Facts about the engine worth showing in GET /model (memory format, threads...). */
  readonly details: Record<string, unknown>;
  /**
   * Logits [count, classes], row-major, for `count` images [count, C, H, W] (float32, row-major,
   * normalised as the model was trained). May compute on the calling thread, one batch at a time.
   */
  run(images: Float32Array, count: number): Promise<Float32Array>;
  /** Frees the engine's memory; the predictor is not used afterwards. */
  dispose(): void | Promise<void>;
}

/** The model a service answers for: what it is, its classes, its input and normalisation. */
export interface ServedModel {
  spec: ModelSpec;
  context: ModelContext;
  /** [C, H, W] of one input image. */
  inputShape: readonly [number, number, number];
  /** The weights file it was loaded from. */
  weightsFile: string;
}

export function servedModelOf(trained: TrainedModel): ServedModel {
  return {
    spec: trained.spec,
    context: trained.context,
    inputShape: trained.model.inputShape,
    weightsFile: trained.weightsFile,
  };
}

/**
 * A predictor running a trained model on libtorch, prepared for inference (BatchNorm folded, the faster
 * memory format). It takes the model over: it changes it in place and disposes it with itself.
 */
export function libtorchPredictor(trained: TrainedModel, options: InferenceOptions = {}): Predictor {
  const inference = new InferenceModel(trained.model, options);
  const [channels, height, width] = inference.inputShape;
  return {
    engine: 'libtorch',
    details: {
      memoryFormat: inference.memoryFormat,
      foldedBatchNorms: inference.foldedBatchNorms,
      threads: torch.getNumThreads(),
    },
    async run(images, count) {
      // The forward pass runs on this thread (libtorch's intra-op threads under it): the event loop
      // waits for one batch at most, since the batcher runs one batch at a time.
      return torch.tidy(() => {
        const x = torch.tensor(images, { shape: [count, channels, height, width] });
        return inference.forward(x).data() as Float32Array;
      });
    },
    dispose() {
      trained.model.dispose();
    },
  };
}
