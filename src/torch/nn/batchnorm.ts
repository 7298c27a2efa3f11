// nn.BatchNorm1d and nn.BatchNorm2d: normalisation with batch statistics in training and running
// statistics in eval, with PyTorch's buffers (running_mean, running_var, num_batches_tracked).
import type { Tensor } from '../tensor.js';
import { ones, tensor, zeros } from '../ops/creation.js';
import * as F from '../functional/index.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import * as init from './init.js';
import { checkInt, checkNumber } from './args.js';
import { emptyParameter, type FactoryOptions } from './factory.js';
import { pyBool, pyFloat } from './repr.js';

export interface BatchNormOptions extends FactoryOptions {
  /** Added to the variance for numerical stability (default 1e-5). */
  eps?: number;
  /**
   * Weight of the newest batch in the running statistics (default 0.1); null uses the cumulative
   * moving average (every batch counts the same).
   */
  momentum?: number | null;
  /** Learn a per-channel scale (weight) and shift (bias); default true. */
  affine?: boolean;
  /** Keep running statistics for eval mode; default true. Without them eval uses batch statistics. */
  trackRunningStats?: boolean;
}

export abstract class BatchNormNd extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  /** Per-channel scale (ones at first), or null when not affine. */
  weight: Parameter | null;
  /** Per-channel shift (zeros at first), or null when not affine. */
  bias: Parameter | null;
  // Buffers, under their state-dict names (registered in the constructor; null without running stats).
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;

  protected constructor(numFeatures: number, options: BatchNormOptions) {
    super();
    const name = this.constructor.name;
    this.numFeatures = checkInt(numFeatures, `${name}: numFeatures`);
    this.eps = checkNumber(options.eps ?? 1e-5, `${name}: eps`);
    this.momentum = options.momentum === null ? null : checkNumber(options.momentum ?? 0.1, `${name}: momentum`);
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    this.weight = this.affine ? emptyParameter([numFeatures], options) : null;
    this.bias = this.affine ? emptyParameter([numFeatures], options) : null;
    const where = { dtype: options.dtype, device: options.device };
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? zeros([numFeatures], where) : null);
    this.registerBuffer('running_var', track ? ones([numFeatures], where) : null);
    this.registerBuffer('num_batches_tracked', track ? tensor(0, { dtype: 'int64', device: options.device }) : null);
    this.resetParameters();
  }

  get runningMean(): Tensor | null {
    return this.running_mean;
  }
  get runningVar(): Tensor | null {
    return this.running_var;
  }
  get numBatchesTracked(): Tensor | null {
    return this.num_batches_tracked;
  }

  /** Running mean 0, running variance 1, no batches seen. */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    init.zeros_(this.running_mean!);
    init.ones_(this.running_var!);
    init.zeros_(this.num_batches_tracked!);
  }

  /** Resets the running statistics, the weight to ones and the bias to zeros. */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }

  /** Throws unless the input has a dimensionality this layer normalises. */
  protected abstract checkInputDim(input: Tensor): void;

  forward(input: Tensor): Tensor {
    this.checkInputDim(input);
    let averagingFactor = this.momentum ?? 0;
    if (this.training && this.num_batches_tracked) {
      this.num_batches_tracked.add_(1);
      // momentum null: the cumulative average, so batch k gets weight 1/k.
      averagingFactor = this.momentum ?? 1 / this.num_batches_tracked.item();
    }
    // Batch statistics in training, and in eval when there are no running ones to use.
    const useBatchStats = this.training || (this.running_mean === null && this.running_var === null);
    // Running statistics are passed (and so updated) in training only when they are tracked.
    const passStats = !this.training || this.trackRunningStats;
    return F.batchNorm(input, passStats ? this.running_mean : null, passStats ? this.running_var : null, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: averagingFactor,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, ` +
      `affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`
    );
  }
}

/** Batch normalisation over the channels of [N, C, H, W] input (after a Conv2d). */
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected checkInputDim(input: Tensor): void {
    if (input.ndim !== 4)
      throw new RangeError(`BatchNorm2d: expected 4D input [N, C, H, W] (got ${input.ndim}D input)`);
  }
}

/** Batch normalisation over the features of [N, C] or [N, C, L] input (after a Linear or Conv1d). */
export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected checkInputDim(input: Tensor): void {
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new RangeError(`BatchNorm1d: expected 2D [N, C] or 3D [N, C, L] input (got ${input.ndim}D input)`);
    }
  }
}
