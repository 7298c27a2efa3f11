// nn.Parameter: a tensor that belongs to a module, requires grad by default and is never freed by a scope.
import { Tensor } from '../tensor.js';
import { defineOp } from '../ops/dispatch.js';
import type { Handle } from '../native.js';

const DETACH = defineOp('aten::detach(self)');

export class Parameter extends Tensor {
  /** Wraps `data` (sharing its storage, as torch.nn.Parameter does) as a leaf parameter. */
  constructor(data: Tensor, requiresGrad = true) {
    super(DETACH(data._h) as Handle);
    this.kept = true;
    if (requiresGrad) this.requiresGrad_(true);
  }

  /** As PyTorch prints a parameter: 'Parameter containing:' above the tensor. */
  override toString(): string {
    return this.isDisposed ? super.toString() : `Parameter containing:\n${super.toString()}`;
  }
}
