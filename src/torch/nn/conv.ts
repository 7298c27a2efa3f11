// nn.Conv1d and nn.Conv2d: convolutions with PyTorch's arguments (stride, padding incl. 'same'/'valid',
// dilation, groups, bias, padding mode), default initialisation and state-dict names.
import type { Tensor } from '../tensor.js';
import { tidy } from '../memory.js';
import * as F from '../functional/index.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import * as init from './init.js';
import { checkChoice, checkInt, expandInts } from './args.js';
import { emptyParameter, type FactoryOptions } from './factory.js';
import { pyTuple } from './repr.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';
const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

export interface ConvOptions extends FactoryOptions {
  stride?: number | readonly number[];
  /** Implicit padding on both sides, or 'valid' (none) or 'same' (output as large as the input; stride 1 only). */
  padding?: number | readonly number[] | 'same' | 'valid';
  dilation?: number | readonly number[];
  /** Split channels into this many independent groups (in and out channels must divide by it). */
  groups?: number;
  bias?: boolean;
  /** How the padding is filled: zeros (default), or reflect / replicate / circular copies of the input. */
  paddingMode?: PaddingMode;
}

/** What Conv1d and Conv2d share; `dims` is the number of spatial dimensions. */
export abstract class ConvNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  /** [outChannels, inChannels / groups, ...kernelSize] */
  weight: Parameter;
  /** [outChannels], or null without bias. */
  bias: Parameter | null;
  /** F.pad's amounts (last dimension first) when paddingMode is not 'zeros'. */
  private readonly explicitPadding: number[];

  protected constructor(
    dims: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvOptions,
  ) {
    super();
    const name = this.constructor.name;
    this.inChannels = checkInt(inChannels, `${name}: inChannels`);
    this.outChannels = checkInt(outChannels, `${name}: outChannels`);
    this.kernelSize = expandInts(kernelSize, dims, `${name}: kernelSize`, 1);
    this.stride = expandInts(options.stride ?? 1, dims, `${name}: stride`, 1);
    this.dilation = expandInts(options.dilation ?? 1, dims, `${name}: dilation`, 1);
    this.groups = checkInt(options.groups ?? 1, `${name}: groups`, 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new RangeError(
        `${name}: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible ` +
          `by groups (${this.groups})`,
      );
    }
    const padding = options.padding ?? 0;
    if (typeof padding === 'string') {
      this.padding = checkChoice(padding, ['same', 'valid'] as const, `${name}: padding`);
      if (padding === 'same' && this.stride.some((s) => s !== 1)) {
        throw new RangeError(
          `${name}: padding='same' is not supported for strided convolutions (stride ${pyTuple(this.stride)})`,
        );
      }
    } else {
      this.padding = expandInts(padding, dims, `${name}: padding`);
    }
    this.paddingMode = checkChoice(options.paddingMode ?? 'zeros', PADDING_MODES, `${name}: paddingMode`);
    this.explicitPadding = this.padAmounts();
    this.weight = emptyParameter([outChannels, inChannels / this.groups, ...this.kernelSize], options);
    this.bias = (options.bias ?? true) ? emptyParameter([outChannels], options) : null;
    this.resetParameters();
  }

  /**
   * Padding for F.pad, last dimension first. 'same' puts the odd extra element on the right/bottom, as
   * PyTorch does: total = dilation * (kernel - 1), left = floor(total / 2).
   */
  private padAmounts(): number[] {
    const amounts: number[] = [];
    for (let d = this.kernelSize.length - 1; d >= 0; d--) {
      if (this.padding === 'valid') {
        amounts.push(0, 0);
      } else if (this.padding === 'same') {
        const total = this.dilation[d] * (this.kernelSize[d] - 1);
        const left = Math.floor(total / 2);
        amounts.push(left, total - left);
      } else {
        amounts.push(this.padding[d], this.padding[d]);
      }
    }
    return amounts;
  }

  /** PyTorch's default: kaiming-uniform weight with a=√5 and a bias from U(±1/√fan_in). */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init.fanInAndFanOut(this.weight);
      if (fanIn !== 0) {
        const bound = 1 / Math.sqrt(fanIn);
        init.uniform_(this.bias, -bound, bound);
      }
    }
  }

  protected abstract convolve(input: Tensor, options: F.ConvOptions): Tensor;

  forward(input: Tensor): Tensor {
    const options = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    const mode = this.paddingMode;
    if (mode === 'zeros') return this.convolve(input, { ...options, padding: this.padding });
    // Other modes pad explicitly first (freeing the padded copy afterwards), then convolve without padding.
    return tidy(() => this.convolve(F.pad(input, this.explicitPadding, mode), { ...options, padding: 0 }));
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }
}

/** 2-D convolution over [N, C, H, W] (or unbatched [C, H, W]) input. */
export class Conv2d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number, number],
    options: ConvOptions = {},
  ) {
    super(2, inChannels, outChannels, kernelSize, options);
  }

  protected convolve(input: Tensor, options: F.ConvOptions): Tensor {
    return F.conv2d(input, this.weight, this.bias, options);
  }
}

/** 1-D convolution over [N, C, L] (or unbatched [C, L]) input. */
export class Conv1d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number],
    options: ConvOptions = {},
  ) {
    super(1, inChannels, outChannels, kernelSize, options);
  }

  protected convolve(input: Tensor, options: F.ConvOptions): Tensor {
    return F.conv1d(input, this.weight, this.bias, options);
  }
}
