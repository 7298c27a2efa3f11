// A model prepared for inference: eval mode, BatchNorm folded into the convolutions, no autograd, and
// the memory format (NCHW or channels-last) that runs fastest for it on this machine; optionally in
// bfloat16 under CPU autocast (convolutions and linear layers in bfloat16, weights kept in float32).
import * as torch from '../torch/index.js';
import type { Tensor, MemoryFormat } from '../torch/index.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import type { Model } from './model-options.js';
import { useMemoryFormat } from './memory-format.js';

export interface InferenceOptions {
  /** Fold conv→BN pairs (default true). */
  foldBatchNorm?: boolean;
  /** 'contiguous' (NCHW), 'channelsLast' (NHWC) or 'auto' (default: time both on a sample batch). */
  memoryFormat?: 'contiguous' | 'channelsLast' | 'auto';
  /** The batch size 'auto' times with (default 32). */
  sampleBatch?: number;
  /** 'bf16': run the forward pass under CPU bfloat16 autocast (default 'none': float32). */
  mixedPrecision?: 'none' | 'bf16';
}

/** Seconds per forward of a sample batch in `format` (best of three after one warm-up). */
function timeForward(
  model: Model,
  format: 'contiguous' | 'channelsLast',
  batch: number,
  forward: (x: Tensor) => Tensor,
): number {
  useMemoryFormat(model, format);
  const [c, h, w] = model.inputShape;
  return torch.tidy(() =>
    torch.noGrad(() => {
      const x = torch.randn(batch, c, h, w).contiguous(format);
      forward(x).dispose();
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const start = process.hrtime.bigint();
        forward(x).dispose();
        best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
      }
      return best;
    }),
  );
}

/**
 * Wraps a trained model for inference. The model itself is changed in place (BatchNorm folded, weights
 * possibly re-laid out), so pass one that is not trained further.
 */
export class InferenceModel {
  readonly model: Model;
  readonly memoryFormat: 'contiguous' | 'channelsLast';
  readonly foldedBatchNorms: number;
  readonly mixedPrecision: 'none' | 'bf16';

  constructor(model: Model, options: InferenceOptions = {}) {
    this.model = model;
    const precision = options.mixedPrecision ?? 'none';
    if (precision !== 'none' && precision !== 'bf16')
      throw new Error(`InferenceModel: mixedPrecision must be 'none' or 'bf16', got ${JSON.stringify(precision)}`);
    this.mixedPrecision = precision;
    model.eval();
    this.foldedBatchNorms = options.foldBatchNorm === false ? 0 : foldBatchNorm(model);
    const choice = options.memoryFormat ?? 'auto';
    if (choice === 'auto') {
      const batch = options.sampleBatch ?? 32;
      const forward = (x: Tensor) => this.run(x);
      const nchw = timeForward(model, 'contiguous', batch, forward);
      const nhwc = timeForward(model, 'channelsLast', batch, forward);
      this.memoryFormat = nhwc < nchw ? 'channelsLast' : 'contiguous';
    } else {
      this.memoryFormat = choice;
    }
    useMemoryFormat(model, this.memoryFormat);
  }

  get inputShape(): [number, number, number] {
    return this.model.inputShape;
  }

  /** Logits for a batch [N, C, H, W] (float32, also under bf16), computed without autograd. */
  forward(x: Tensor): Tensor {
    return torch.noGrad(() => torch.tidy(() => this.run(x.contiguous(this.memoryFormat as MemoryFormat)).float()));
  }

  private run(x: Tensor): Tensor {
    return this.mixedPrecision === 'bf16' ? torch.autocast(() => this.model.call(x)) : this.model.call(x);
  }
}
