// Pooling layers: max and average pooling with fixed windows, and adaptive pooling to a fixed output size.
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { Module } from './module.js';
import { checkInt, expandInts } from './args.js';
import { pyBool, pyIntOrTuple } from './repr.js';

type Size2 = number | readonly [number, number];

function size2(value: Size2, what: string, min: number): Size2 {
  return typeof value === 'number' ? checkInt(value, what, min) : (expandInts(value, 2, what, min) as [number, number]);
}

export interface MaxPool2dOptions {
  /** Defaults to kernelSize (non-overlapping windows). */
  stride?: Size2;
  padding?: Size2;
  dilation?: Size2;
  /** Round the output size up, so that a partial window at the end also gives an output. */
  ceilMode?: boolean;
}

/** The maximum over each kernelSize window of [N, C, H, W] input. */
export class MaxPool2d extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly dilation: Size2;
  readonly ceilMode: boolean;

  constructor(kernelSize: Size2, options: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = size2(kernelSize, 'MaxPool2d: kernelSize', 1);
    this.stride = size2(options.stride ?? kernelSize, 'MaxPool2d: stride', 1);
    this.padding = size2(options.padding ?? 0, 'MaxPool2d: padding', 0);
    this.dilation = size2(options.dilation ?? 1, 'MaxPool2d: dilation', 1);
    this.ceilMode = options.ceilMode ?? false;
  }

  forward(input: Tensor): Tensor {
    return F.maxPool2d(input, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    });
  }

  override extraRepr(): string {
    return (
      `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, ` +
      `padding=${pyIntOrTuple(this.padding)}, dilation=${pyIntOrTuple(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`
    );
  }
}

export interface AvgPool2dOptions {
  /** Defaults to kernelSize (non-overlapping windows). */
  stride?: Size2;
  padding?: Size2;
  ceilMode?: boolean;
  /** Count the zero padding in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window sum by this instead of the window size. */
  divisorOverride?: number | null;
}

/** The mean over each kernelSize window of [N, C, H, W] input. */
export class AvgPool2d extends Module {
  readonly kernelSize: Size2;
  readonly stride: Size2;
  readonly padding: Size2;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: Size2, options: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = size2(kernelSize, 'AvgPool2d: kernelSize', 1);
    this.stride = size2(options.stride ?? kernelSize, 'AvgPool2d: stride', 1);
    this.padding = size2(options.padding ?? 0, 'AvgPool2d: padding', 0);
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
    this.divisorOverride =
      options.divisorOverride == null ? null : checkInt(options.divisorOverride, 'AvgPool2d: divisorOverride', 1);
  }

  forward(input: Tensor): Tensor {
    return F.avgPool2d(input, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride ?? undefined,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}`;
  }
}

/** An output size for adaptive pooling; null keeps that dimension's input size. */
export type AdaptiveSize = number | readonly [number | null, number | null];

function adaptiveSize(value: AdaptiveSize, what: string): AdaptiveSize {
  if (typeof value === 'number') return checkInt(value, what, 1);
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TypeError(`${what} must be an integer or a pair of integers (or nulls), got ${String(value)}`);
  }
  return value.map((v, i) => (v === null ? null : checkInt(v, `${what}[${i}]`, 1))) as [number | null, number | null];
}

/** The output size with nulls replaced by the input's height/width. */
function resolveSize(size: AdaptiveSize, input: Tensor): number | [number, number] {
  if (typeof size === 'number') return size;
  const shape = input.shape;
  return [size[0] ?? shape[shape.length - 2], size[1] ?? shape[shape.length - 1]];
}

/** Average pooling to a fixed output size, whatever the input size (1: global average pooling). */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: AdaptiveSize;

  constructor(outputSize: AdaptiveSize) {
    super();
    this.outputSize = adaptiveSize(outputSize, 'AdaptiveAvgPool2d: outputSize');
  }

  forward(input: Tensor): Tensor {
    return F.adaptiveAvgPool2d(input, resolveSize(this.outputSize, input));
  }

  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}

/** Max pooling to a fixed output size, whatever the input size. */
export class AdaptiveMaxPool2d extends Module {
  readonly outputSize: AdaptiveSize;

  constructor(outputSize: AdaptiveSize) {
    super();
    this.outputSize = adaptiveSize(outputSize, 'AdaptiveMaxPool2d: outputSize');
  }

  forward(input: Tensor): Tensor {
    return F.adaptiveMaxPool2d(input, resolveSize(this.outputSize, input));
  }

  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}
