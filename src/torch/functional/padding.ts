// Padding (torch.nn.functional.pad).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const PAD = defineOp('aten::pad');

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * Pads the last dimensions: `pad` lists (left, right) amounts starting from the last dimension, e.g.
 * [1, 1, 2, 2] pads width by 1 and height by 2 on each side. 'constant' fills with `value` (0).
 */
export function pad(input: Tensor, padding: readonly number[], mode: PadMode = 'constant', value?: number): Tensor {
  if (padding.length % 2 !== 0) {
    throw new TypeError(`pad(): padding must have an even length (pairs per dimension), got ${padding.length} values`);
  }
  return wrap(PAD(input, [...padding], mode, mode === 'constant' ? (value ?? 0) : null));
}
