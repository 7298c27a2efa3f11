// nn.Linear: y = x Wᵀ + b over the last dimension.
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import * as init from './init.js';
import { checkInt } from './args.js';
import { emptyParameter, type FactoryOptions } from './factory.js';
import { pyBool } from './repr.js';

export interface LinearOptions extends FactoryOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [outFeatures, inFeatures] */
  weight: Parameter;
  /** [outFeatures], or null without bias. */
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = checkInt(inFeatures, 'Linear: inFeatures');
    this.outFeatures = checkInt(outFeatures, 'Linear: outFeatures');
    this.weight = emptyParameter([outFeatures, inFeatures], options);
    this.bias = (options.bias ?? true) ? emptyParameter([outFeatures], options) : null;
    this.resetParameters();
  }

  /**
   * PyTorch's default: kaiming-uniform weight with a=√5, which amounts to U(±1/√inFeatures), and a bias
   * from U(±1/√fan_in). Draws from the default generator, weight first, as PyTorch does.
   */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init.fanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }

  forward(input: Tensor): Tensor {
    return F.linear(input, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}
