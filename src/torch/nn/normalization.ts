// nn.LayerNorm and nn.GroupNorm: normalisation with the statistics of each sample (no running statistics,
// so train and eval mode compute the same).
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import * as init from './init.js';
import { checkInt, checkNumber } from './args.js';
import { emptyParameter, type FactoryOptions } from './factory.js';
import { pyBool, pyFloat, pyTuple } from './repr.js';

export interface LayerNormOptions extends FactoryOptions {
  /** Added to the variance for numerical stability (default 1e-5). */
  eps?: number;
  /** Learn a scale (weight, ones at first) and shift (bias, zeros) of normalizedShape; default true. */
  elementwiseAffine?: boolean;
}

/**
 * Normalises over the last dimensions, those of `normalizedShape` (e.g. [C] for [N, L, C] input, or
 * [C, H, W] for [N, C, H, W]), with each sample's mean and variance (torch.nn.LayerNorm).
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  /** [...normalizedShape], or null without elementwiseAffine. */
  weight: Parameter | null;
  /** [...normalizedShape], or null without elementwiseAffine. */
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || shape.length === 0) {
      throw new TypeError(
        `LayerNorm: normalizedShape must be an integer or a non-empty list of integers, got ${String(normalizedShape)}`,
      );
    }
    this.normalizedShape = shape.map((d, i) => checkInt(d, `LayerNorm: normalizedShape[${i}]`));
    this.eps = checkNumber(options.eps ?? 1e-5, 'LayerNorm: eps');
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? emptyParameter(this.normalizedShape, options) : null;
    this.bias = this.elementwiseAffine ? emptyParameter(this.normalizedShape, options) : null;
    this.resetParameters();
  }

  /** Weight to ones and bias to zeros. */
  resetParameters(): void {
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }

  forward(input: Tensor): Tensor {
    return F.layerNorm(input, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return (
      `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, ` +
      `elementwise_affine=${pyBool(this.elementwiseAffine)}`
    );
  }
}

export interface GroupNormOptions extends FactoryOptions {
  /** Added to the variance for numerical stability (default 1e-5). */
  eps?: number;
  /** Learn a per-channel scale (weight, ones at first) and shift (bias, zeros); default true. */
  affine?: boolean;
}

/**
 * Splits the channels of [N, C, ...] input into `numGroups` groups and normalises each group of each sample
 * with its own mean and variance, then scales and shifts per channel (torch.nn.GroupNorm).
 */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  /** [numChannels], or null when not affine. */
  weight: Parameter | null;
  /** [numChannels], or null when not affine. */
  bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    super();
    this.numGroups = checkInt(numGroups, 'GroupNorm: numGroups', 1);
    this.numChannels = checkInt(numChannels, 'GroupNorm: numChannels');
    if (numChannels % numGroups !== 0) {
      throw new RangeError(`GroupNorm: numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`);
    }
    this.eps = checkNumber(options.eps ?? 1e-5, 'GroupNorm: eps');
    this.affine = options.affine ?? true;
    this.weight = this.affine ? emptyParameter([numChannels], options) : null;
    this.bias = this.affine ? emptyParameter([numChannels], options) : null;
    this.resetParameters();
  }

  /** Weight to ones and bias to zeros. */
  resetParameters(): void {
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }

  forward(input: Tensor): Tensor {
    if (input.ndim < 2 || input.shape[1] !== this.numChannels) {
      throw new RangeError(
        `GroupNorm: expected input [N, ${this.numChannels}, ...] (numChannels ${this.numChannels}), ` +
          `got input of shape [${input.shape.join(', ')}]`,
      );
    }
    return F.groupNorm(input, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}`;
  }
}
