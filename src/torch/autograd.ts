// Gradient mode and functional autograd entry points (torch.no_grad, torch.autograd.grad/backward).
import { native } from './native.js';
import { Tensor } from './tensor.js';
import { withScopedMode } from './scoped-mode.js';

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

export function setGradEnabled(enabled: boolean): void {
  native.setGradEnabled(enabled);
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = native.isGradEnabled();
  return withScopedMode(
    () => native.setGradEnabled(enabled),
    () => native.setGradEnabled(previous),
    fn,
  );
}

/** Runs `fn` without recording operations for autograd (torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient recording on, even inside noGrad (torch.enable_grad()). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

/** torch.autograd.backward: accumulates gradients of `outputs` into the leaves' `.grad`. */
export function backward(
  outputs: Tensor | Tensor[],
  gradOutputs?: Tensor | (Tensor | null)[] | null,
  options: BackwardOptions = {},
): void {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const grads = gradOutputs == null ? null : Array.isArray(gradOutputs) ? gradOutputs : [gradOutputs];
  native.backward(
    outs.map((t) => t._h),
    grads ? grads.map((g) => g?._h ?? null) : null,
    options.retainGraph,
    options.createGraph ?? false,
  );
}

export interface GradOptions extends BackwardOptions {
  gradOutputs?: (Tensor | null)[];
  allowUnused?: boolean;
}

/** torch.autograd.grad: gradients of `outputs` with respect to `inputs`, without touching `.grad`. */
export function grad(
  outputs: Tensor | Tensor[],
  inputs: Tensor | Tensor[],
  options: GradOptions = {},
): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const result = native.autogradGrad(
    outs.map((t) => t._h),
    ins.map((t) => t._h),
    options.gradOutputs ? options.gradOutputs.map((g) => g?._h ?? null) : null,
    options.retainGraph,
    options.createGraph ?? false,
    options.allowUnused ?? false,
  );
  return result.map((h) => (h ? new Tensor(h) : null));
}
