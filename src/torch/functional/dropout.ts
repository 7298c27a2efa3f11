// Dropout (torch.nn.functional).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const DROPOUT = defineOp('aten::dropout(input, p, train)');
const FEATURE_DROPOUT = defineOp('aten::feature_dropout(input, p, train)');

function checkP(p: number, fn: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${fn}(): dropout probability must be in [0, 1], got ${p}`);
}

/** Zeroes each element with probability p and scales the rest by 1/(1-p); identity when not training. */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  checkP(p, 'dropout');
  return wrap(DROPOUT(input, p, training));
}

/** Zeroes whole channels of NCHW input (nn.Dropout2d). */
export function dropout2d(input: Tensor, p = 0.5, training = true): Tensor {
  checkP(p, 'dropout2d');
  return wrap(FEATURE_DROPOUT(input, p, training));
}
