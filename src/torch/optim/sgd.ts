// torch.optim.SGD: stochastic gradient descent with optional (Nesterov) momentum, dampening, L2 weight
// decay and maximization, following PyTorch 1.13's single-tensor and multi-tensor (foreach) updates
// operation for operation.
import { Tensor } from '../tensor.js';
import { keep } from '../memory.js';
import { foreachAdd, foreachAdd_, foreachMul_, foreachNeg } from '../ops/foreach.js';
import {
  checkForeach,
  Optimizer,
  paramsWithGrad,
  checkNonNegative,
  withDefaults,
  type ParamGroup,
  type ParamState,
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
  /**
   * Update all of a group's parameters with a few multi-tensor calls (true) instead of a few calls per
   * parameter; the same numbers either way. null (PyTorch's None, the default) is the per-parameter path,
   * which PyTorch 1.13 picks on the CPU.
   */
  foreach: boolean | null;
}

/** SGD's options: lr is required (as in PyTorch), the rest default as in PyTorch. */
export type SGDOptions = Partial<SGDHyperParams> & { lr: number };

export class SGD extends Optimizer<SGDHyperParams> {
  constructor(params: Params<SGDHyperParams>, options: SGDOptions) {
    if (typeof options?.lr !== 'number') {
      throw new TypeError(`SGD: lr is required, e.g. new SGD(params, { lr: 0.1 }); got ${String(options?.lr)}`);
    }
    const defaults: SGDHyperParams = {
      lr: options.lr,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      foreach: null,
    };
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
    checkForeach('SGD', h.foreach);
  }

  protected updateGroup(group: ParamGroup<SGDHyperParams>): void {
    if (group.foreach) this.updateGroupForeach(group);
    else this.updateGroupPerParameter(group);
  }

  /** The state of `param`, created empty on its first step. */
  private stateOf(param: Tensor): ParamState {
    const state = this.state.get(param) ?? {};
    this.state.set(param, state);
    return state;
  }

  private updateGroupPerParameter(group: ParamGroup<SGDHyperParams>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    for (const { param, grad } of paramsWithGrad(group)) {
      const state = this.stateOf(param);
      let d = maximize ? grad.neg() : grad;
      if (weightDecay !== 0) d = d.add(param, weightDecay);
      if (momentum !== 0) {
        const buffer = updateMomentumBuffer(state, d, momentum, dampening);
        d = nesterov ? d.add(buffer, momentum) : buffer;
      } else {
        // PyTorch records an empty momentum buffer even without momentum; state dicts match it.
        state.momentumBuffer ??= null;
      }
      param.add_(d, -lr);
    }
  }

  /**
   * PyTorch 1.13's _multi_tensor_sgd, except that it never writes into the gradients (PyTorch's adds the
   * Nesterov term to them in place); the parameters and momentum buffers come out the same.
   */
  private updateGroupForeach(group: ParamGroup<SGDHyperParams>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    const withGrad = paramsWithGrad(group);
    if (withGrad.length === 0) return;
    const params = withGrad.map((p) => p.param);
    const states = params.map((p) => this.stateOf(p));
    let grads = withGrad.map((p) => p.grad);
    if (maximize) grads = foreachNeg(grads);
    if (weightDecay !== 0) grads = foreachAdd(grads, params, weightDecay);
    if (momentum !== 0) {
      const buffers = states.map((s) => s.momentumBuffer);
      if (buffers.every((b): b is Tensor => b instanceof Tensor)) {
        foreachMul_(buffers, momentum);
        foreachAdd_(buffers, grads, 1 - dampening);
      } else {
        // A first step (or a parameter that had no gradient before): as the per-parameter path.
        grads.forEach((g, i) => {
          buffers[i] = updateMomentumBuffer(states[i], g, momentum, dampening);
        });
      }
      grads = nesterov ? foreachAdd(grads, buffers as Tensor[], momentum) : (buffers as Tensor[]);
    } else {
      for (const state of states) state.momentumBuffer ??= null;
    }
    foreachAdd_(params, grads, -lr);
  }
}

/**
 * One parameter's momentum step, as PyTorch's: the first step keeps a copy of the gradient as the buffer,
 * later steps scale the buffer by momentum and add the gradient scaled by 1 - dampening, in place.
 */
function updateMomentumBuffer(state: ParamState, grad: Tensor, momentum: number, dampening: number): Tensor {
  const buffer = state.momentumBuffer;
  if (buffer instanceof Tensor) return buffer.mul_(momentum).add_(grad, 1 - dampening);
  const first = keep(grad.clone().detach());
  state.momentumBuffer = first;
  return first;
}
