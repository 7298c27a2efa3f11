// Padding (torch.nn.functional.pad).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const PAD = defineOp('aten::pad(self, pad, mode, value)');

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * Pads the last dimensions: `pad` lists (left, right) amounts starting from the last dimension, e.g.
 * [1, 1, 2, 2] pads width by 1 and height by 2 on each side. 'constant' fills with `value` (0).
 */
export function pad(input: Tensor, padding: readonly number[], mode: PadMode = 'constant', value?: number): Tensor {
  return wrap(PAD(input, ...padArguments(padding, mode, value, 'pad')));
}

/** aten::pad's arguments after `self`, checked (shared with the background torch.async.pad). */
export function padArguments(
  padding: readonly number[],
  mode: PadMode,
  value: number | undefined,
  fn: string,
): [number[], PadMode, number | null] {
  if (padding.length % 2 !== 0) {
    throw new TypeError(
      `${fn}(): padding must have an even length (pairs per dimension), got ${padding.length} values`,
    );
  }
  return [[...padding], mode, mode === 'constant' ? (value ?? 0) : null];
}
