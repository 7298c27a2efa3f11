// A model prepared for inference: eval mode, BatchNorm folded into the convolutions, no autograd, and
// the memory format (NCHW or channels-last) that runs fastest for it on this machine.
import * as torch from '../torch/index.js';
import type { Tensor, MemoryFormat } from '../torch/index.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import type { Model } from './model-options.js';

export interface InferenceOptions {
  /** Fold conv→BN pairs (default true). */
  foldBatchNorm?: boolean;
  /** 'contiguous' (NCHW), 'channelsLast' (NHWC) or 'auto' (default: time both on a sample batch). */
  memoryFormat?: 'contiguous' | 'channelsLast' | 'auto';
  /** The batch size 'auto' times with (default 32). */
  sampleBatch?: number;
}

function useMemoryFormat(model: Model, format: 'contiguous' | 'channelsLast'): void {
  torch.noGrad(() => {
    for (const p of model.parameters()) {
      if (p.ndim !== 4) continue;
      const converted = p.contiguous(format);
      p.setData_(converted);
      converted.dispose();
    }
  });
}

/** Seconds per forward of a sample batch in `format` (best of three after one warm-up). */
function timeForward(model: Model, format: 'contiguous' | 'channelsLast', batch: number): number {
  useMemoryFormat(model, format);
  const [c, h, w] = model.inputShape;
  return torch.tidy(() => torch.noGrad(() => {
    const x = torch.randn(batch, c, h, w).contiguous(format);
    model.forward(x).dispose();
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = process.hrtime.bigint();
      model.forward(x).dispose();
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
    }
    return best;
  }));
}

/**
 * Wraps a trained model for inference. The model itself is changed in place (BatchNorm folded, weights
 * possibly re-laid out), so pass one that is not trained further.
 */
export class InferenceModel {
  readonly model: Model;
  readonly memoryFormat: 'contiguous' | 'channelsLast';
  readonly foldedBatchNorms: number;

  constructor(model: Model, options: InferenceOptions = {}) {
    this.model = model;
    model.eval();
    this.foldedBatchNorms = options.foldBatchNorm === false ? 0 : foldBatchNorm(model);
    const choice = options.memoryFormat ?? 'auto';
    if (choice === 'auto') {
      const batch = options.sampleBatch ?? 32;
      const nchw = timeForward(model, 'contiguous', batch);
      const nhwc = timeForward(model, 'channelsLast', batch);
      this.memoryFormat = nhwc < nchw ? 'channelsLast' : 'contiguous';
    } else {
      this.memoryFormat = choice;
    }
    useMemoryFormat(model, this.memoryFormat);
  }

  get inputShape(): [number, number, number] {
    return this.model.inputShape;
  }

  /** Logits for a batch [N, C, H, W], computed without autograd. */
  forward(x: Tensor): Tensor {
    return torch.noGrad(() => torch.tidy(() => this.model.forward(x.contiguous(this.memoryFormat as MemoryFormat))));
  }
}
