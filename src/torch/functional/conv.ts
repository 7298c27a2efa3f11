// Convolutions, their patch extraction (unfold) and the fully connected layer (torch.nn.functional).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const CONV1D = defineOp('aten::conv1d(input, weight, bias, stride, padding, dilation, groups)');
const CONV1D_PAD = defineOp('aten::conv1d.padding(input, weight, bias, stride, padding, dilation, groups)');
const CONV2D = defineOp('aten::conv2d(input, weight, bias, stride, padding, dilation, groups)');
const CONV2D_PAD = defineOp('aten::conv2d.padding(input, weight, bias, stride, padding, dilation, groups)');
const LINEAR = defineOp('aten::linear(input, weight, bias)');
const IM2COL = defineOp('aten::im2col(self, kernel_size, dilation, padding, stride)');

export type IntOrPair = number | readonly [number, number];

export interface ConvOptions {
  stride?: number | readonly number[];
  /** Zero padding per side, or 'same' / 'valid'. */
  padding?: number | readonly number[] | 'same' | 'valid';
  dilation?: number | readonly number[];
  groups?: number;
}

const list = (v: number | readonly number[]) => (typeof v === 'number' ? v : [...v]);

function conv(
  numeric: typeof CONV2D,
  named: typeof CONV2D,
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  o: ConvOptions,
): Tensor {
  const padding = o.padding ?? 0;
  const args = [input, weight, bias ?? null, list(o.stride ?? 1)] as const;
  return wrap(
    typeof padding === 'string'
      ? named(...args, padding, list(o.dilation ?? 1), o.groups ?? 1)
      : numeric(...args, list(padding), list(o.dilation ?? 1), o.groups ?? 1),
  );
}

/** 2-D convolution over NCHW input with weight [out, in/groups, kh, kw]. */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvOptions = {}): Tensor {
  return conv(CONV2D, CONV2D_PAD, input, weight, bias, options);
}

/** 1-D convolution over NCL input with weight [out, in/groups, k]. */
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvOptions = {}): Tensor {
  return conv(CONV1D, CONV1D_PAD, input, weight, bias, options);
}

/** input @ weight^T + bias, with weight [out, in]. */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return wrap(LINEAR(input, weight, bias ?? null));
}

export interface UnfoldOptions {
  dilation?: IntOrPair;
  padding?: IntOrPair;
  stride?: IntOrPair;
}

/**
 * The sliding kH×kW patches of an [N, C, H, W] batch as columns: [N, C·kH·kW, L] for L patch positions,
 * each column in (c, ky, kx) order (F.unfold, libtorch's im2col).
 */
export function unfold(input: Tensor, kernelSize: IntOrPair, options: UnfoldOptions = {}): Tensor {
  const { dilation = 1, padding = 0, stride = 1 } = options;
  return wrap(IM2COL(input, list(kernelSize), list(dilation), list(padding), list(stride)));
}
