// Dropout layers: random zeroing in train mode, the identity in eval mode.
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { Module } from './module.js';
import { checkProbability } from './args.js';
import { pyFloat } from './repr.js';

abstract class DropoutBase extends Module {
  readonly p: number;

  constructor(p: number) {
    super();
    this.p = checkProbability(p, `${this.constructor.name}: p`);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}

/** Zeroes each element with probability p in training and scales the others by 1/(1-p). */
export class Dropout extends DropoutBase {
  constructor(p = 0.5) {
    super(p);
  }

  forward(input: Tensor): Tensor {
    return F.dropout(input, this.p, this.training);
  }
}

/** Zeroes whole channels of [N, C, H, W] input with probability p in training (scaling the others by 1/(1-p)). */
export class Dropout2d extends DropoutBase {
  constructor(p = 0.5) {
    super(p);
  }

  forward(input: Tensor): Tensor {
    return F.dropout2d(input, this.p, this.training);
  }
}
