// nn.Flatten: merges a range of dimensions into one (by default all but the batch dimension).
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { checkInt } from './args.js';

export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = checkInt(startDim, 'Flatten: startDim', -Infinity);
    this.endDim = checkInt(endDim, 'Flatten: endDim', -Infinity);
  }

  forward(input: Tensor): Tensor {
    return input.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
