// Loss layers: module forms of F's losses, with PyTorch's options and the class weight as a buffer.
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { Module } from './module.js';
import { checkChoice, checkInt, checkNumber } from './args.js';

const REDUCTIONS: readonly F.Reduction[] = ['none', 'mean', 'sum'];

export interface CrossEntropyLossOptions {
  /** A weight per class (saved in the state dict as "weight", as in PyTorch). */
  weight?: Tensor | null;
  /** Targets with this class index contribute nothing (default -100). */
  ignoreIndex?: number;
  reduction?: F.Reduction;
  /** Mixes the one-hot target with the uniform distribution by this much (default 0). */
  labelSmoothing?: number;
}

/** Cross-entropy between logits [N, C, ...] and class indices [N, ...] or class probabilities [N, C, ...]. */
export class CrossEntropyLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: F.Reduction;
  readonly labelSmoothing: number;
  declare weight: Tensor | null;

  constructor(options: CrossEntropyLossOptions = {}) {
    super();
    this.ignoreIndex = checkInt(options.ignoreIndex ?? -100, 'CrossEntropyLoss: ignoreIndex', -Infinity);
    this.reduction = checkChoice(options.reduction ?? 'mean', REDUCTIONS, 'CrossEntropyLoss: reduction');
    this.labelSmoothing = checkNumber(options.labelSmoothing ?? 0, 'CrossEntropyLoss: labelSmoothing');
    if (this.labelSmoothing < 0 || this.labelSmoothing > 1) {
      throw new RangeError(`CrossEntropyLoss: labelSmoothing must be between 0 and 1, got ${this.labelSmoothing}`);
    }
    // Its own handle to the caller's data (shared, as in PyTorch), so that disposing the module frees only that.
    this.registerBuffer('weight', options.weight ? options.weight.detach() : null);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

export interface MSELossOptions {
  reduction?: F.Reduction;
}

/** Mean (or sum) of squared differences between input and target. */
export class MSELoss extends Module {
  readonly reduction: F.Reduction;

  constructor(options: MSELossOptions = {}) {
    super();
    this.reduction = checkChoice(options.reduction ?? 'mean', REDUCTIONS, 'MSELoss: reduction');
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, this.reduction);
  }
}
