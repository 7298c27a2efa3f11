// Pooling (torch.nn.functional).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const MAX_POOL2D = defineOp('aten::max_pool2d(self, kernel_size, stride, padding, dilation, ceil_mode)');
const AVG_POOL2D = defineOp(
  'aten::avg_pool2d(self, kernel_size, stride, padding, ceil_mode, count_include_pad, ' + 'divisor_override)',
);
const ADAPTIVE_AVG_POOL2D = defineOp('aten::adaptive_avg_pool2d(self, output_size)');
const ADAPTIVE_MAX_POOL2D = defineOp('aten::adaptive_max_pool2d(self, output_size)');
const ADAPTIVE_AVG_POOL1D = defineOp('aten::adaptive_avg_pool1d(self, output_size)');

type Size2 = number | readonly [number, number];
const list = (v: Size2) => (typeof v === 'number' ? v : [...v]);

export interface MaxPoolOptions {
  /** Defaults to the kernel size. */
  stride?: Size2;
  padding?: Size2;
  dilation?: Size2;
  ceilMode?: boolean;
}

export function maxPool2d(input: Tensor, kernelSize: Size2, options: MaxPoolOptions = {}): Tensor {
  return wrap(
    MAX_POOL2D(
      input,
      list(kernelSize),
      options.stride === undefined ? [] : list(options.stride),
      list(options.padding ?? 0),
      list(options.dilation ?? 1),
      options.ceilMode ?? false,
    ),
  );
}

export interface AvgPoolOptions {
  stride?: Size2;
  padding?: Size2;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number;
}

export function avgPool2d(input: Tensor, kernelSize: Size2, options: AvgPoolOptions = {}): Tensor {
  return wrap(
    AVG_POOL2D(
      input,
      list(kernelSize),
      options.stride === undefined ? [] : list(options.stride),
      list(options.padding ?? 0),
      options.ceilMode ?? false,
      options.countIncludePad ?? true,
      options.divisorOverride ?? null,
    ),
  );
}

/** Average pooling to a fixed output size (1 gives global average pooling: SE's squeeze). */
export function adaptiveAvgPool2d(input: Tensor, outputSize: Size2): Tensor {
  return wrap(ADAPTIVE_AVG_POOL2D(input, list(outputSize)));
}

/** Max pooling to a fixed output size (values only). */
export function adaptiveMaxPool2d(input: Tensor, outputSize: Size2): Tensor {
  const [values, indices] = ADAPTIVE_MAX_POOL2D(input, list(outputSize)) as unknown as [never, never];
  const result = wrap(values);
  wrap(indices).dispose();
  return result;
}

export function adaptiveAvgPool1d(input: Tensor, outputSize: number): Tensor {
  return wrap(ADAPTIVE_AVG_POOL1D(input, outputSize));
}
