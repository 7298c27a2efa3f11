// nn.Identity: returns its input (a placeholder, e.g. where a block has no SE module or no downsampling).
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}
