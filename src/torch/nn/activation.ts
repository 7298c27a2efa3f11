// Activation layers: module forms of F's activation functions (no parameters).
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { Module } from './module.js';
import { checkChoice, checkInt, checkNumber } from './args.js';
import { pyFloat } from './repr.js';

export interface InplaceOptions {
  /** Overwrite the input instead of allocating the output (saves memory; the input is lost). */
  inplace?: boolean;
}

/** max(x, 0) */
export class ReLU extends Module {
  readonly inplace: boolean;

  constructor(options: InplaceOptions = {}) {
    super();
    this.inplace = options.inplace ?? false;
  }

  forward(input: Tensor): Tensor {
    return F.relu(input, this.inplace);
  }

  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

/** min(max(x, 0), 6) */
export class ReLU6 extends Module {
  forward(input: Tensor): Tensor {
    return F.relu6(input);
  }
}

/** max(x, 0) + negativeSlope * min(x, 0) */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;

  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = checkNumber(negativeSlope, 'LeakyReLU: negativeSlope');
  }

  forward(input: Tensor): Tensor {
    return F.leakyRelu(input, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return F.sigmoid(input);
  }
}

export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return F.tanh(input);
  }
}

export interface GELUOptions {
  /** 'none' (default): the exact x·Φ(x); 'tanh': the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** x · Φ(x), Φ the standard normal CDF. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(options: GELUOptions = {}) {
    super();
    this.approximate = checkChoice(options.approximate ?? 'none', ['none', 'tanh'] as const, 'GELU: approximate');
  }

  forward(input: Tensor): Tensor {
    return F.gelu(input, this.approximate);
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x · sigmoid(x) (swish). */
export class SiLU extends Module {
  forward(input: Tensor): Tensor {
    return F.silu(input);
  }
}

/** relu6(x + 3) / 6: a piecewise-linear sigmoid (MobileNetV3's SE gate). */
export class Hardsigmoid extends Module {
  forward(input: Tensor): Tensor {
    return F.hardsigmoid(input);
  }
}

/** x · relu6(x + 3) / 6 */
export class Hardswish extends Module {
  forward(input: Tensor): Tensor {
    return F.hardswish(input);
  }
}

/** exp(x) / sum(exp(x)) along `dim`. */
export class Softmax extends Module {
  readonly dim: number;

  /** `dim` is required: PyTorch's implicit choice of dimension is deprecated. */
  constructor(dim: number) {
    super();
    this.dim = checkInt(dim, 'Softmax: dim', -Infinity);
  }

  forward(input: Tensor): Tensor {
    return F.softmax(input, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
