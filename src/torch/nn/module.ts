// nn.Module: parameters, buffers and child modules under PyTorch's dotted names, train/eval mode,
// state dicts, and calling a module as PyTorch's __call__ does (`call`: forward pre-hooks, forward in its
// own memory scope, forward hooks). Children and parameters are found from the instance's own properties in
// the order they were assigned (as PyTorch's __setattr__ registers them); buffers and names that are not
// identifiers (Sequential's "0", "1", ...) are registered explicitly.
import type { Tensor } from '../tensor.js';
import { Parameter } from './parameter.js';
import { noGrad } from '../autograd.js';
import { tidy } from '../memory.js';
import { type DType, isDType } from '../dtype.js';

export type StateDict = Record<string, Tensor>;

/**
 * The arguments of a module's forward, as a tuple (e.g. [input: Tensor] for a layer); any[] for Module
 * itself, whose abstract forward accepts nothing in particular.
 */
export type ForwardInputs<M extends Module> =
  // biome-ignore lint/suspicious/noExplicitAny: Module's own forward takes anything; its hooks must accept any arguments
  Parameters<M['forward']> extends infer A ? (never[] extends A ? any[] : A) : never;
/** What a module's forward returns. */
export type ForwardOutput<M extends Module> = ReturnType<M['forward']>;

// The hook types are declared as methods (`{ hook(...) }['hook']`) so that their parameters compare
// bivariantly: a Conv2d, whose hooks take [input: Tensor], then still passes where any Module is expected.

/**
 * Runs before forward with the call's arguments (PyTorch's forward pre-hook). Returning an argument list
 * replaces the arguments forward (and the later hooks) see; returning nothing leaves them.
 */
export type ForwardPreHook<M extends Module = Module> =
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing leaves the arguments (PyTorch's None)
  { hook(module: M, inputs: ForwardInputs<M>): ForwardInputs<M> | void }['hook'];

/**
 * Runs after forward with the arguments forward saw and its output (PyTorch's forward hook). Returning a
 * value replaces the output the caller (and the later hooks) get; returning nothing leaves it.
 */
export type ForwardHook<M extends Module = Module> =
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing leaves the output (PyTorch's None)
  { hook(module: M, inputs: ForwardInputs<M>, output: ForwardOutput<M>): ForwardOutput<M> | void }['hook'];

/** Where a hook goes among those already registered. */
export interface HookOptions {
  /** Run before the hooks already registered instead of after them (PyTorch's prepend=True). */
  prepend?: boolean;
}

/** Removes the hook it was returned for (PyTorch's RemovableHandle); removing twice does nothing. */
export interface HookHandle {
  remove(): void;
}

type AnyPreHook = (module: Module, inputs: unknown[]) => unknown;
type AnyHook = (module: Module, inputs: unknown[], output: unknown) => unknown;

/** Handle ids: one counter for every module, so a handle never names another hook (as PyTorch's). */
let nextHookId = 0;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

interface BufferEntry {
  tensor: Tensor | null;
  persistent: boolean;
}

export abstract class Module {
  /** Train mode (true) or eval mode (false); see train() and eval(). */
  training = true;
  /** @internal */ private readonly _extraModules = new Map<string, Module>();
  /** @internal */ private readonly _extraParameters = new Map<string, Parameter | null>();
  /** @internal */ private readonly _buffers = new Map<string, BufferEntry>();
  // Hooks by handle id, in registration order: the same function registered twice runs twice.
  /** @internal */ private readonly _forwardPreHooks = new Map<number, AnyPreHook>();
  /** @internal */ private readonly _forwardHooks = new Map<number, AnyHook>();

  abstract forward(...inputs: never[]): unknown;

  // ---- registration ----

  /** Adds a child under any name (use plain properties for identifier names). */
  registerModule(name: string, module: Module): this {
    this._extraModules.set(name, module);
    return this;
  }

  /** Adds a parameter under any name; null records an absent one (as PyTorch's bias=None). */
  registerParameter(name: string, parameter: Parameter | null): this {
    this._extraParameters.set(name, parameter);
    return this;
  }

  /**
   * Adds a buffer: state that is saved in the state dict (unless not persistent) but not trained, such
   * as BatchNorm's running statistics. It is readable and assignable as `this[name]`.
   */
  registerBuffer(name: string, tensor: Tensor | null, persistent = true): this {
    if (tensor) tensor.kept = true;
    this._buffers.set(name, { tensor, persistent });
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: false,
      get: () => this._buffers.get(name)?.tensor ?? null,
      set: (value: Tensor | null) => {
        if (value) value.kept = true;
        this._buffers.get(name)!.tensor = value;
      },
    });
    return this;
  }

  // ---- traversal ----

  /** Direct children with their names, in registration order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
    }
    for (const entry of this._extraModules) out.push(entry);
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and all below it, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** This module's own parameters (not its children's). */
  private ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Parameter) out.push([key, value]);
    }
    for (const [key, value] of this._extraParameters) if (value) out.push([key, value]);
    return out;
  }

  namedParameters(prefix = '', recurse = true): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    const modules: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [moduleName, module] of modules) {
      for (const [name, p] of module.ownParameters()) {
        if (seen.has(p)) continue; // shared parameters are listed once, as in PyTorch
        seen.add(p);
        out.push([moduleName ? `${moduleName}.${name}` : name, p]);
      }
    }
    return out;
  }

  parameters(recurse = true): Parameter[] {
    return this.namedParameters('', recurse).map(([, p]) => p);
  }

  namedBuffers(prefix = '', recurse = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const modules: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [moduleName, module] of modules) {
      for (const [name, entry] of module._buffers) {
        if (entry.tensor) out.push([moduleName ? `${moduleName}.${name}` : name, entry.tensor]);
      }
    }
    return out;
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map(([, b]) => b);
  }

  // ---- modes ----

  /** Sets train mode (dropout active, BatchNorm uses batch statistics) on this module and all below. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets eval mode (same as train(false)). */
  eval(): this {
    return this.train(false);
  }

  /** Calls fn on every submodule and then on this one (as PyTorch's Module.apply). */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Clears gradients: to null (default, as PyTorch 2) or to zeros. */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      if (setToNone) {
        p.grad = null;
      } else {
        const g = p.grad;
        if (g) {
          g.zero_();
          g.dispose();
        }
      }
    }
  }

  // ---- state ----

  /**
   * Parameters and persistent buffers under their dotted names, in PyTorch's order (each module's
   * parameters, then its buffers, then its children). The values are the module's live tensors, not
   * copies: do not dispose them.
   */
  stateDict(prefix = ''): StateDict {
    const out: StateDict = {};
    const visit = (module: Module, name: string) => {
      const dotted = (key: string) => (name ? `${name}.${key}` : key);
      for (const [key, p] of module.ownParameters()) out[dotted(key)] = p;
      for (const [key, entry] of module._buffers) {
        if (entry.tensor && entry.persistent) out[dotted(key)] = entry.tensor;
      }
      for (const [key, child] of module.namedChildren()) visit(child, dotted(key));
    };
    visit(this, prefix);
    return out;
  }

  /**
   * Copies tensors from `state` into this module's parameters and buffers (in place, converting dtype).
   * In strict mode (default), any missing or unexpected key or shape mismatch raises one error listing
   * them all, and nothing is copied; otherwise matching keys are copied and the others reported.
   */
  loadStateDict(state: StateDict | Map<string, Tensor>, strict = true): LoadResult {
    const source = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !source.has(k));
    const unexpectedKeys = [...source.keys()].filter((k) => !(k in own));
    const mismatches: string[] = [];
    for (const [key, target] of Object.entries(own)) {
      const src = source.get(key);
      if (!src) continue;
      const a = src.shape;
      const b = target.shape;
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        mismatches.push(
          `size mismatch for ${key}: copying a param with shape [${a.join(', ')}] from checkpoint, ` +
            `the shape in current model is [${b.join(', ')}].`,
        );
      }
    }
    // PyTorch's order: missing keys, unexpected keys, then shape mismatches.
    const problems: string[] = [];
    if (strict && missingKeys.length)
      problems.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && unexpectedKeys.length)
      problems.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    problems.push(...mismatches);
    if (problems.length) {
      throw new Error(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${problems.join('\n\t')}`);
    }
    noGrad(() => {
      for (const [key, target] of Object.entries(own)) {
        const src = source.get(key);
        if (src) target.copy_(src);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Converts every parameter and buffer (keeping parameter identity, so optimizers stay valid). As in
   * PyTorch, a dtype applies only to floating-point tensors: integer buffers such as BatchNorm's
   * num_batches_tracked keep theirs.
   */
  to(target: DType | string): this {
    const convert = (t: Tensor) => (isDType(target) && !t.isFloatingPoint() ? t : t.to(target));
    noGrad(() => {
      for (const p of this.parameters()) {
        const converted = convert(p);
        if (converted === p) continue; // nothing to convert: the parameter must stay alive
        p.setData_(converted);
        converted.dispose();
      }
      for (const module of this.modules()) {
        for (const [name, entry] of module._buffers) {
          if (!entry.tensor) continue;
          const old = entry.tensor;
          const converted = convert(old);
          (module as unknown as Record<string, Tensor>)[name] = converted;
          if (converted !== old) old.dispose();
        }
      }
    });
    return this;
  }

  /** Frees every parameter and buffer; the module cannot be used afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  /** Total number of parameter elements (optionally only trainable ones). */
  numParameters(onlyTrainable = false): number {
    return this.parameters()
      .filter((p) => !onlyTrainable || p.requiresGrad)
      .reduce((n, p) => n + p.numel(), 0);
  }

  // ---- calling ----

  /**
   * Calls the module as PyTorch's `module(x)`: forward pre-hooks, then forward inside its own `tidy`
   * scope (the tensors forward makes and does not return are freed when it returns; the output moves to
   * the caller's scope), then forward hooks. Hooks run in the caller's scope, so what they make lives as
   * long as the caller's other tensors. Models call their children this way, which is what lets hooks see
   * every layer and keeps a block's intermediates from outliving it.
   */
  call(...inputs: ForwardInputs<this>): ForwardOutput<this> {
    return this.runCall(inputs) as ForwardOutput<this>;
  }

  private runCall(inputs: unknown[]): unknown {
    let args = inputs;
    if (this._forwardPreHooks.size > 0) {
      // A copy: a hook may remove itself (or others) while they run.
      for (const hook of [...this._forwardPreHooks.values()]) {
        const replaced = hook(this, args);
        if (replaced === undefined) continue;
        if (!Array.isArray(replaced)) {
          throw new TypeError(
            `a forward pre-hook of ${this.constructor.name} returned ${describe(replaced)}; ` +
              'expected nothing or the new argument list (an array, e.g. [x])',
          );
        }
        args = replaced;
      }
    }
    const forward = this.forward as (...a: unknown[]) => unknown;
    let output = tidy(() => forward.apply(this, args));
    if (this._forwardHooks.size > 0) {
      for (const hook of [...this._forwardHooks.values()]) {
        const replaced = hook(this, args, output);
        if (replaced !== undefined) output = replaced;
      }
    }
    return output;
  }

  // ---- hooks ----

  /**
   * Calls `hook(module, inputs)` before every `call` of this module (PyTorch's register_forward_pre_hook);
   * it may return new arguments. Hooks run in registration order (see `options.prepend`). Returns a
   * handle to remove it.
   */
  registerForwardPreHook(hook: ForwardPreHook<this>, options: HookOptions = {}): HookHandle {
    return addHook(this._forwardPreHooks, hook as unknown as AnyPreHook, options);
  }

  /**
   * Calls `hook(module, inputs, output)` after every `call` of this module (PyTorch's
   * register_forward_hook), e.g. to record SE gate activations; it may return a new output. Returns a
   * handle to remove it. Hooks run in registration order (see `options.prepend`). Calling `forward`
   * directly runs no hooks (as in PyTorch).
   */
  registerForwardHook(hook: ForwardHook<this>, options: HookOptions = {}): HookHandle {
    return addHook(this._forwardHooks, hook as unknown as AnyHook, options);
  }

  // ---- printing ----

  /** Extra text shown in the module's line of toString(), as PyTorch's extra_repr. */
  extraRepr(): string {
    return '';
  }

  /** The module tree as PyTorch prints it: a one-line extraRepr inline, otherwise one item per line. */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines = this.namedChildren().map(
      ([name, child]) => `(${name}): ${child.toString().split('\n').join('\n  ')}`,
    );
    const name = this.constructor.name;
    if (childLines.length === 0 && extraLines.length <= 1) return `${name}(${extra})`;
    return `${name}(\n  ${[...extraLines, ...childLines].join('\n  ')}\n)`;
  }
}

function addHook<H>(hooks: Map<number, H>, hook: H, options: HookOptions): HookHandle {
  if (typeof hook !== 'function') throw new TypeError(`a hook must be a function, got ${describe(hook)}`);
  const id = nextHookId++;
  if (options.prepend) {
    // A Map keeps insertion order: re-insert the others after the new one.
    const others = [...hooks];
    hooks.clear();
    hooks.set(id, hook);
    for (const [key, value] of others) hooks.set(key, value);
  } else {
    hooks.set(id, hook);
  }
  return {
    remove: () => {
      hooks.delete(id);
    },
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return `${typeof value} ${String(value)}`;
}
