// Gradient mode and functional autograd entry points (torch.no_grad, torch.autograd.grad/backward).
import { native } from './native.js';
import { Tensor } from './tensor.js';

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

export function setGradEnabled(enabled: boolean): void {
  native.setGradEnabled(enabled);
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = native.isGradEnabled();
  native.setGradEnabled(enabled);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    native.setGradEnabled(previous);
    throw error;
  }
  if (result instanceof Promise) {
    // Like torch.no_grad() under asyncio, the mode holds for everything that runs until the promise settles.
    return result.finally(() => native.setGradEnabled(previous)) as T;
  }
  native.setGradEnabled(previous);
  return result;
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
export function backward(outputs: Tensor | Tensor[], gradOutputs?: Tensor | (Tensor | null)[] | null, options: BackwardOptions = {}): void {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const grads = gradOutputs == null ? null : (Array.isArray(gradOutputs) ? gradOutputs : [gradOutputs]);
  native.backward(outs.map((t) => t._h), grads ? grads.map((g) => g?._h ?? null) : null, options.retainGraph, options.createGraph ?? false);
}

export interface GradOptions extends BackwardOptions {
  gradOutputs?: (Tensor | null)[];
  allowUnused?: boolean;
}

/** torch.autograd.grad: gradients of `outputs` with respect to `inputs`, without touching `.grad`. */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const result = native.autogradGrad(
    outs.map((t) => t._h), ins.map((t) => t._h),
    options.gradOutputs ? options.gradOutputs.map((g) => g?._h ?? null) : null,
    options.retainGraph, options.createGraph ?? false, options.allowUnused ?? false);
  return result.map((h) => (h ? new Tensor(h) : null));
}
