// Normalisation layers' functional forms (torch.nn.functional).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const BATCH_NORM = defineOp('aten::batch_norm');
const LAYER_NORM = defineOp('aten::layer_norm');
const GROUP_NORM = defineOp('aten::group_norm');

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Normalise with batch statistics and update the running ones (default false: use running stats). */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over dimension 1. In training the running mean/var (if given) are updated in
 * place with `momentum`, exactly as torch.nn.functional.batch_norm does.
 */
export function batchNorm(input: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  const training = options.training ?? false;
  if (!training && (!runningMean || !runningVar)) {
    throw new TypeError('batchNorm(): running mean and variance are required when not training');
  }
  return wrap(BATCH_NORM(input._h, options.weight?._h ?? null, options.bias?._h ?? null,
    runningMean?._h ?? null, runningVar?._h ?? null, training, options.momentum ?? 0.1, options.eps ?? 1e-5, true));
}

export function layerNorm(input: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  return wrap(LAYER_NORM(input._h, [...normalizedShape], weight?._h ?? null, bias?._h ?? null, eps, true));
}

export function groupNorm(input: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  return wrap(GROUP_NORM(input._h, numGroups, weight?._h ?? null, bias?._h ?? null, eps, true));
}
