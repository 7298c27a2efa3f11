// torch.optim.AdamW: Adam with decoupled weight decay (Loshchilov & Hutter): the weights shrink by
// lr * weightDecay each step instead of the decay entering the gradient averages.
import type { Tensor } from '../tensor.js';
import { foreachMul_ } from '../ops/foreach.js';
import type { ParamGroup, Params } from './optimizer.js';
import { Adam, type AdamHyperParams, type AdamOptions } from './adam.js';

export class AdamW extends Adam {
  /** Options as Adam's, except that weightDecay defaults to 0.01. */
  constructor(params: Params<AdamHyperParams>, options: AdamOptions = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? 1e-2 });
  }

  /** Decays the parameter in place (PyTorch 1.13 does so even when weightDecay is 0) and leaves the gradient alone. */
  protected override applyWeightDecay(param: Tensor, grad: Tensor, group: ParamGroup<AdamHyperParams>): Tensor {
    param.mul_(1 - group.lr * group.weightDecay);
    return grad;
  }

  protected override applyWeightDecayForeach(
    params: Tensor[],
    grads: Tensor[],
    group: ParamGroup<AdamHyperParams>,
  ): Tensor[] {
    foreachMul_(params, 1 - group.lr * group.weightDecay);
    return grads;
  }
}
