// torch.optim.Adam: adaptive moment estimation with optional L2 weight decay, AMSGrad and maximization,
// following PyTorch 1.13's single-tensor and multi-tensor (foreach) updates operation for operation. AdamW
// (adamw.ts) reuses the update and changes only how weight decay is applied.
import { Tensor } from '../tensor.js';
import { zeros, zerosLike } from '../ops/creation.js';
import {
  foreachAdd,
  foreachAdd_,
  foreachAddScalar,
  foreachAddScalar_,
  foreachAddcdiv_,
  foreachAddcmul_,
  foreachDiv_,
  foreachMaximum_,
  foreachMul_,
  foreachNeg,
  foreachSqrt,
} from '../ops/foreach.js';
import { keep } from '../memory.js';
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

export interface AdamHyperParams {
  lr: number;
  /** Decay rates of the running averages of the gradient and its square, each in [0, 1). */
  betas: [number, number];
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** Adam: L2 penalty added to the gradient; AdamW: decoupled decay of the weights. */
  weightDecay: number;
  /** Use the maximum of past squared-gradient averages (AMSGrad). */
  amsgrad: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
  /**
   * Update all of a group's parameters with a few multi-tensor calls (true) instead of several calls per
   * parameter; the same numbers either way. null (PyTorch's None, the default) is the per-parameter path,
   * which PyTorch 1.13 picks on the CPU.
   */
  foreach: boolean | null;
}

export type AdamOptions = Partial<AdamHyperParams>;

export class Adam extends Optimizer<AdamHyperParams> {
  constructor(params: Params<AdamHyperParams>, options: AdamOptions = {}) {
    super(
      params,
      withDefaults(
        { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, foreach: null },
        options,
      ),
    );
  }

  protected checkHyperParams(h: AdamHyperParams): void {
    const name = this.constructor.name;
    checkNonNegative(name, 'learning rate', h.lr);
    checkNonNegative(name, 'epsilon value', h.eps);
    if (!Array.isArray(h.betas) || h.betas.length !== 2) {
      throw new TypeError(`${name}: betas must be two numbers [beta1, beta2], got ${JSON.stringify(h.betas)}`);
    }
    h.betas.forEach((beta, i) => {
      if (typeof beta !== 'number' || !(beta >= 0 && beta < 1)) {
        throw new RangeError(`${name}: Invalid beta parameter at index ${i}: ${String(beta)} (expected 0 <= beta < 1)`);
      }
    });
    checkNonNegative(name, 'weight_decay value', h.weightDecay);
    checkForeach(name, h.foreach);
  }

  /**
   * Weight decay before the moment updates. Adam's is an L2 penalty: it returns the gradient plus
   * weightDecay * param, leaving the parameter alone.
   */
  protected applyWeightDecay(param: Tensor, grad: Tensor, group: ParamGroup<AdamHyperParams>): Tensor {
    return group.weightDecay !== 0 ? grad.add(param, group.weightDecay) : grad;
  }

  /** applyWeightDecay over a group's lists (the foreach path). */
  protected applyWeightDecayForeach(params: Tensor[], grads: Tensor[], group: ParamGroup<AdamHyperParams>): Tensor[] {
    return group.weightDecay !== 0 ? foreachAdd(grads, params, group.weightDecay) : grads;
  }

  protected updateGroup(group: ParamGroup<AdamHyperParams>): void {
    if (group.foreach) this.updateGroupForeach(group);
    else this.updateGroupPerParameter(group);
  }

  private updateGroupPerParameter(group: ParamGroup<AdamHyperParams>): void {
    const { lr, eps, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    for (const { param, grad: rawGrad } of paramsWithGrad(group)) {
      const state = this.stateFor(param, amsgrad);
      const expAvg = state.expAvg as Tensor;
      const expAvgSq = state.expAvgSq as Tensor;
      const stepCount = state.step as Tensor;
      let grad = maximize ? rawGrad.neg() : rawGrad;
      stepCount.add_(1);
      grad = this.applyWeightDecay(param, grad, group);

      expAvg.mul_(beta1).add_(grad, 1 - beta1);
      expAvgSq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);

      // PyTorch reads the step back from its float32 tensor and does the scalar math in double.
      const step = stepCount.item();
      const biasCorrection1 = 1 - beta1 ** step;
      const biasCorrection2 = 1 - beta2 ** step;
      const stepSize = lr / biasCorrection1;
      const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
      let secondMoment = expAvgSq;
      if (amsgrad) {
        const maxExpAvgSq = state.maxExpAvgSq as Tensor;
        maxExpAvgSq.copy_(maxExpAvgSq.maximum(expAvgSq));
        secondMoment = maxExpAvgSq;
      }
      const denom = secondMoment.sqrt().div(biasCorrection2Sqrt).add_(eps);
      param.addcdiv_(expAvg, denom, -stepSize);
    }
  }

  /**
   * PyTorch 1.13's _multi_tensor_adam (not capturable), except that it never writes into the gradients
   * (PyTorch's adds the L2 weight decay to them in place); the parameters and state come out the same.
   */
  private updateGroupForeach(group: ParamGroup<AdamHyperParams>): void {
    const { lr, eps, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    const withGrad = paramsWithGrad(group);
    if (withGrad.length === 0) return;
    const params = withGrad.map((p) => p.param);
    const states = params.map((p) => this.stateFor(p, amsgrad));
    const column = (key: string) => states.map((s) => s[key] as Tensor);
    const [steps, expAvgs, expAvgSqs] = [column('step'), column('expAvg'), column('expAvgSq')];
    let grads = withGrad.map((p) => p.grad);
    if (maximize) grads = foreachNeg(grads);
    foreachAddScalar_(steps, 1);
    grads = this.applyWeightDecayForeach(params, grads, group);

    foreachMul_(expAvgs, beta1);
    foreachAdd_(expAvgs, grads, 1 - beta1);
    foreachMul_(expAvgSqs, beta2);
    foreachAddcmul_(expAvgSqs, grads, grads, 1 - beta2);

    // As PyTorch: each step read back from its float32 tensor, the scalar math in double.
    const stepValues = steps.map((s) => s.item());
    const stepSizes = stepValues.map((step) => (lr / (1 - beta1 ** step)) * -1);
    const biasCorrection2Sqrts = stepValues.map((step) => Math.sqrt(1 - beta2 ** step));
    let secondMoments = expAvgSqs;
    if (amsgrad) {
      secondMoments = column('maxExpAvgSq');
      foreachMaximum_(secondMoments, expAvgSqs);
    }
    const roots = foreachSqrt(secondMoments);
    foreachDiv_(roots, biasCorrection2Sqrts);
    foreachAddcdiv_(params, expAvgs, foreachAddScalar(roots, eps), stepSizes);
  }

  /** The parameter's state, created on its first step: step 0 (a float32 tensor, as PyTorch) and zero moments. */
  private stateFor(param: Tensor, amsgrad: boolean): ParamState {
    let state = this.state.get(param);
    if (!state || Object.keys(state).length === 0) {
      state = {
        step: keep(zeros([])),
        expAvg: keep(zerosLike(param)),
        expAvgSq: keep(zerosLike(param)),
      };
      if (amsgrad) state.maxExpAvgSq = keep(zerosLike(param));
      this.state.set(param, state);
    } else if (amsgrad && !(state.maxExpAvgSq instanceof Tensor)) {
      throw new Error(
        `${this.constructor.name}: amsgrad was turned on after this parameter's state was created without it ` +
          `(PyTorch raises KeyError 'max_exp_avg_sq' here); create the optimizer with amsgrad: true`,
      );
    }
    return state;
  }

  /** PyTorch before 1.12 saved `step` as a number; it is a float32 tensor since. */
  protected override upgradeState(state: ParamState): void {
    if (typeof state.step === 'number') state.step = keep(zeros([]).fill_(state.step));
  }
}
