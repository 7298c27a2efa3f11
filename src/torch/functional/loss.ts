// Loss functions (torch.nn.functional).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const CROSS_ENTROPY = defineOp(
  'aten::cross_entropy_loss(self, target, weight, reduction, ignore_index, ' + 'label_smoothing)',
);
const NLL_LOSS = defineOp('aten::nll_loss_nd(self, target, weight, reduction, ignore_index)');
const MSE_LOSS = defineOp('aten::mse_loss(self, target, reduction)');
const BCE_LOGITS = defineOp('aten::binary_cross_entropy_with_logits(self, target, weight, pos_weight, reduction)');

export type Reduction = 'none' | 'mean' | 'sum';

function reductionCode(reduction: Reduction = 'mean'): number {
  switch (reduction) {
    case 'none':
      return 0;
    case 'mean':
      return 1;
    case 'sum':
      return 2;
    default:
      throw new TypeError(`unknown reduction '${String(reduction)}': expected 'none', 'mean' or 'sum'`);
  }
}

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  /** Mixes the one-hot target with the uniform distribution by this much (0 = none). */
  labelSmoothing?: number;
}

/** Cross-entropy between logits [N, C, ...] and class indices [N, ...] (or class probabilities). */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const smoothing = options.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing <= 1)) {
    throw new RangeError(`crossEntropy(): labelSmoothing must be in [0, 1], got ${smoothing}`);
  }
  return wrap(
    CROSS_ENTROPY(
      input,
      target,
      options.weight ?? null,
      reductionCode(options.reduction),
      options.ignoreIndex ?? -100,
      smoothing,
    ),
  );
}

export interface NllLossOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
}

/** Negative log-likelihood of log-probabilities [N, C, ...] at class indices [N, ...]. */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  return wrap(
    NLL_LOSS(input, target, options.weight ?? null, reductionCode(options.reduction), options.ignoreIndex ?? -100),
  );
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(MSE_LOSS(input, target, reductionCode(reduction)));
}

export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(BCE_LOGITS(input, target, null, null, reductionCode(reduction)));
}
