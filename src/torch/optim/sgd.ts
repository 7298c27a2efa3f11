// torch.optim.SGD: stochastic gradient descent with optional (Nesterov) momentum, dampening, L2 weight
// decay and maximization, following PyTorch 1.13's single-tensor update operation for operation.
import { Tensor } from '../tensor.js';
import { keep } from '../memory.js';
import {
  Optimizer,
  paramsWithGrad,
  checkNonNegative,
  withDefaults,
  type ParamGroup,
  type Params,
} from './optimizer.js';

export interface SGDHyperParams {
  lr: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum: number;
  /** Dampening for momentum: the new gradient enters the buffer scaled by 1 - dampening (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/** SGD's options: lr is required (as in PyTorch), the rest default as in PyTorch. */
export type SGDOptions = Partial<SGDHyperParams> & { lr: number };

export class SGD extends Optimizer<SGDHyperParams> {
  constructor(params: Params<SGDHyperParams>, options: SGDOptions) {
    if (typeof options?.lr !== 'number') {
      throw new TypeError(`SGD: lr is required, e.g. new SGD(params, { lr: 0.1 }); got ${String(options?.lr)}`);
    }
    const defaults = { lr: options.lr, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };
    super(params, withDefaults(defaults, options));
  }

  protected checkHyperParams(h: SGDHyperParams): void {
    checkNonNegative('SGD', 'learning rate', h.lr);
    checkNonNegative('SGD', 'momentum value', h.momentum);
    checkNonNegative('SGD', 'weight_decay value', h.weightDecay);
    if (typeof h.dampening !== 'number' || !Number.isFinite(h.dampening)) {
      throw new RangeError(`SGD: Invalid dampening value: ${String(h.dampening)} (expected a finite number)`);
    }
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new RangeError(
        `SGD: Nesterov momentum requires a momentum and zero dampening (got momentum ${h.momentum}, dampening ${h.dampening})`,
      );
    }
  }

  protected updateGroup(group: ParamGroup<SGDHyperParams>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    for (const { param, grad } of paramsWithGrad(group)) {
      const state = this.state.get(param) ?? {};
      this.state.set(param, state);
      let d = maximize ? grad.neg() : grad;
      if (weightDecay !== 0) d = d.add(param, weightDecay);
      if (momentum !== 0) {
        let buffer = state.momentumBuffer;
        if (!(buffer instanceof Tensor)) {
          buffer = keep(d.clone().detach());
          state.momentumBuffer = buffer;
        } else {
          buffer.mul_(momentum).add_(d, 1 - dampening);
        }
        d = nesterov ? d.add(buffer, momentum) : buffer;
      } else {
        // PyTorch records an empty momentum buffer even without momentum; state dicts match it.
        state.momentumBuffer ??= null;
      }
      param.add_(d, -lr);
    }
  }
}
