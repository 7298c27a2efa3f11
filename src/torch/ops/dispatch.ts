// Calling libtorch operators by schema name and turning their results into Tensors.
// declarations.js first: the modules of the import cycle through tensor.js declare their operators while
// this one is still loading.
import { declare, declaredOps, type OpDeclaration } from './declarations.js';
import { native, type Handle, type OpResult } from '../native.js';
import { Tensor } from '../tensor.js';
import { Generator } from '../random.js';

export { declaredOps, type OpDeclaration } from './declarations.js';

export type OpFn = (...args: unknown[]) => OpResult;

/**
 * What the addon receives for one argument: a Tensor or Generator becomes its native handle (tensors
 * also inside arrays, for Tensor[] arguments); anything else passes unchanged, so that a wrong value
 * reaches the addon, which rejects it with a TypeError naming the operator's argument ("argument 'other'
 * expects a tensor, got string 'a'") instead of failing somewhere in JS.
 */
function toNative(value: unknown): unknown {
  if (value instanceof Tensor || value instanceof Generator) return value._h;
  if (Array.isArray(value)) return value.map(toNative);
  return value;
}

/** One operator call as an observer sees it: arguments in native form (tensors as their handles). */
export interface OpCall {
  declaration: OpDeclaration;
  args: unknown[];
  result: OpResult;
}

/**
 * Called after every synchronous operator call while set (src/torch/op-trace.ts sets it for a trace):
 * every aten call of a forward pass passes here, so an exporter sees the whole computation, keyed by
 * the identity of the tensor handles that flow between calls.
 */
let observer: ((call: OpCall) => void) | null = null;

/** Sets (or with null clears) the operator observer; returns the one it replaces. */
export function setOpObserver(next: ((call: OpCall) => void) | null): ((call: OpCall) => void) | null {
  const previous = observer;
  observer = next;
  return previous;
}

const displayName = (d: OpDeclaration) => (d.overload ? `${d.name}.${d.overload}` : d.name);

/** Refuses more arguments than the operator's declaration passes (those are neither used nor tested). */
function checkArgCount(d: OpDeclaration, argCount: number): void {
  if (argCount > d.args.length) {
    throw new TypeError(
      `${displayName(d)}: senet passed ${argCount} arguments, but declared only (${d.args.join(', ')})`,
    );
  }
}

/** The native id of a declared operator, looked up on first use; refuses more arguments than declared. */
function resolver(d: OpDeclaration): (argCount: number) => number {
  let id = -1;
  return (argCount) => {
    checkArgCount(d, argCount);
    if (id < 0) id = native.op(d.name, d.overload).id;
    return id;
  };
}

/**
 * A caller for one operator overload, e.g. defineOp('aten::bincount(self, weights, minlength)'); the
 * operator is looked up on first use. Tensors may be passed as is. Internal to src/torch: everything
 * outside calls the PyTorch-named functions built on it.
 */
export function defineOp(signature: string): OpFn {
  const declaration = declare(signature, false);
  const idFor = resolver(declaration);
  return (...args: unknown[]) => {
    const nativeArgs = args.map(toNative);
    const result = native.call(idFor(args.length), ...nativeArgs);
    if (observer) observer({ declaration, args: nativeArgs, result });
    return result;
  };
}

/** Like defineOp, but the operator runs on a background thread and the result arrives as a promise. */
export function defineAsyncOp(signature: string): (...args: unknown[]) => Promise<OpResult> {
  const declaration = declare(signature, true);
  const idFor = resolver(declaration);
  return (...args: unknown[]) => {
    try {
      if (observer) {
        throw new Error(
          `${displayName(declaration)} runs on a background thread, which an operator trace cannot follow; ` +
            'trace a forward pass that uses the synchronous operators',
        );
      }
      return native.callAsync(idFor(args.length), ...args.map(toNative));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

export function wrap(result: OpResult): Tensor {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    throw new TypeError(`expected a tensor from libtorch, got ${JSON.stringify(result)}`);
  }
  return new Tensor(result as Handle);
}

export function wrapList(result: OpResult): Tensor[] {
  if (!Array.isArray(result)) throw new TypeError('expected a list of tensors from libtorch');
  return result.map(wrap);
}

/** Handles for a list of tensors. */
export function handles(tensors: readonly Tensor[]): Handle[] {
  return tensors.map((t) => t._h);
}

function fromNative(result: OpResult): unknown {
  if (Array.isArray(result)) return result.map(fromNative);
  if (result !== null && typeof result === 'object') return new Tensor(result as Handle);
  return result;
}

/**
 * Calls a declared libtorch operator by its schema name: `callOp('aten::logsumexp', x, [1], false)`.
 * Internal (not exported from src/torch/index.ts): for tests that feed the engine hostile input. Tensors go
 * in and come out as Tensors; arguments follow the schema's order (`opSchema(name)` prints it) and trailing
 * ones take the schema defaults.
 *
 * Only the operators src/torch declares (defineOp, defineAsyncOp), with at most their declared arguments,
 * are reachable: libtorch 1.13 does not check every argument of its ~2,000 operators (searchsorted's
 * `sorter` and ctc_loss's `targets` are read out of bounds, killing the process), while every declared one
 * that takes indices is fed out-of-range ones by test/torch/hostile-input.test.ts. Declarations are made as
 * src/torch's modules load, so import src/torch/index.js first. See README, "The engine boundary".
 */
export function callOp(qualifiedName: string, ...args: unknown[]): unknown {
  const [name, overload = ''] = splitName(qualifiedName);
  const declaration = declaredOps().find((d) => d.name === name && d.overload === overload);
  if (!declaration) {
    throw new Error(
      `callOp: '${qualifiedName}' is not an operator senet declares, so it is refused: libtorch ` +
        'does not check the arguments of every operator (some read memory out of bounds). Declare it with defineOp ' +
        'in a src/torch module, next to a test that feeds it out-of-range arguments (test/torch/hostile-input.test.ts)',
    );
  }
  checkArgCount(declaration, args.length);
  const info = native.op(name, overload);
  return fromNative(native.call(info.id, ...args.map(toNative)));
}

/** The schema string of an operator, e.g. opSchema('aten::conv2d'). */
export function opSchema(qualifiedName: string): string {
  const [name, overload = ''] = splitName(qualifiedName);
  return native.op(name, overload).schema;
}

function splitName(qualifiedName: string): [string, string?] {
  const ns = qualifiedName.indexOf('::');
  const dot = qualifiedName.indexOf('.', Math.max(ns, 0));
  return dot < 0 ? [qualifiedName] : [qualifiedName.slice(0, dot), qualifiedName.slice(dot + 1)];
}
