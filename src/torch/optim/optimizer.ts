// The optimizer base class (torch.optim.Optimizer): parameter groups with per-group hyper-parameters,
// per-parameter state, zeroGrad, and state dicts in PyTorch's own layout. Subclasses supply the update
// rule for one group; this class runs it without autograd recording and frees every per-step temporary.
import { Tensor } from '../tensor.js';
import { noGrad, enableGrad } from '../autograd.js';
import { tidy, keep, dispose } from '../memory.js';

/** Hyper-parameters every optimizer has; subclasses add their own (momentum, betas, ...). */
export interface HyperParams {
  lr: number;
}

/**
 * One parameter group: its tensors and its hyper-parameters (the optimizer's defaults, overridden per
 * group). Schedulers add their own entries (initialLr, maxLr, ...), hence the open index signature.
 */
export type ParamGroup<H extends HyperParams = HyperParams> = H & { params: Tensor[]; [key: string]: unknown };

/** A parameter group as given to a constructor or addParamGroup: tensors plus any hyper-parameters to override. */
export type ParamGroupSpec<H extends HyperParams = HyperParams> = Partial<H> & {
  params: Iterable<Tensor> | Tensor;
  [key: string]: unknown;
};

/** What optimizers accept as parameters: tensors (one group), or parameter groups. */
export type Params<H extends HyperParams = HyperParams> = Iterable<Tensor> | Iterable<ParamGroupSpec<H>>;

/** A value in one parameter's optimizer state. */
export type StateValue = Tensor | number | boolean | null;
/** The optimizer state of one parameter (momentumBuffer; step, expAvg, expAvgSq, ...). */
export type ParamState = Record<string, StateValue>;

/**
 * An optimizer's state in PyTorch's layout and key spelling, so that it can be written to and read from
 * a PyTorch checkpoint unchanged: `state` maps a parameter's index (counting through the groups in
 * order) to its state (`momentum_buffer`, `step`, `exp_avg`, ...), and `param_groups` lists each group's
 * hyper-parameters (`lr`, `weight_decay`, `initial_lr`, ...) with `params` as those indices.
 */
export interface OptimizerStateDict {
  state: Record<number | string, Record<string, unknown>>;
  param_groups: Array<Record<string, unknown> & { params: number[] }>;
}

/** 'weightDecay' -> 'weight_decay' (PyTorch's spelling in state dicts). */
export function toPyTorchKey(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** 'weight_decay' -> 'weightDecay'; camelCase keys pass through unchanged. */
export function fromPyTorchKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `defaults` overridden by the options that are set (an option given as undefined keeps its default). */
export function withDefaults<H extends object>(defaults: H, options: Partial<H> | undefined): H {
  const out = { ...defaults };
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** A copy of a plain value (arrays such as betas are copied, so groups never share them). */
function copyPlain<T>(value: T): T {
  return (Array.isArray(value) ? value.map(copyPlain) : value) as T;
}

export abstract class Optimizer<H extends HyperParams = HyperParams> {
  /** The hyper-parameters a group gets when it does not set them. */
  readonly defaults: H;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, created lazily by step() (PyTorch's optimizer.state). */
  readonly state = new Map<Tensor, ParamState>();

  /**
   * @param params the tensors to optimize (each a leaf with requiresGrad, e.g. `model.parameters()`),
   *   or parameter groups `[{ params, lr: 0.01 }, ...]` whose hyper-parameters override `defaults`.
   */
  constructor(params: Params<H>, defaults: H) {
    this.defaults = defaults;
    this.checkHyperParams(defaults);
    if (params instanceof Tensor) {
      throw new TypeError(
        `${this.constructor.name}: params should be an iterable of Tensors or parameter groups, got a single Tensor (wrap it in an array)`,
      );
    }
    const items = [...params] as (Tensor | ParamGroupSpec<H>)[];
    if (items.length === 0) throw new Error(`${this.constructor.name}: optimizer got an empty parameter list`);
    const groups =
      items[0] instanceof Tensor
        ? [{ params: items as Tensor[] } as unknown as ParamGroupSpec<H>]
        : (items as ParamGroupSpec<H>[]);
    for (const group of groups) this.addParamGroup(group);
  }

  /**
   * Validates one set of hyper-parameters (the defaults, then every group), throwing an Error that
   * names the bad value as PyTorch does ("Invalid learning rate: -1").
   */
  protected abstract checkHyperParams(h: H): void;

  /** Updates the parameters of one group that have gradients (runs under no-grad, inside a tidy scope). */
  protected abstract updateGroup(group: ParamGroup<H>): void;

  /**
   * One optimization step over every group. `closure`, if given, re-evaluates the model and returns
   * the loss; it runs first, with gradients enabled, and its result is returned.
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() =>
      tidy(() => {
        for (const group of this.paramGroups) this.updateGroup(group);
      }),
    );
    return loss;
  }

  /**
   * Clears the gradients of every optimized tensor: to null (default, as PyTorch 2 does; PyTorch 1.13's
   * default was zeros) or, with `setToNone = false`, to zeros in place. A parameter whose grad is null
   * is skipped by step(), while a zero grad still decays momentum and weights.
   */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (setToNone) {
          p.grad = null;
          continue;
        }
        const g = p.grad;
        if (!g) continue;
        // As PyTorch: a grad made with createGraph is cut from its graph before being zeroed.
        if (g.gradFn !== null) g.detach_();
        else g.requiresGrad_(false);
        g.zero_();
        g.dispose();
      }
    }
  }

  /** Adds a group of parameters (e.g. layers unfrozen while fine-tuning), filling in the defaults. */
  addParamGroup(spec: ParamGroupSpec<H>): void {
    const name = this.constructor.name;
    if (typeof spec !== 'object' || spec === null || !('params' in spec)) {
      throw new TypeError(`${name}: a parameter group must be an object with a 'params' list`);
    }
    const params = spec.params instanceof Tensor ? [spec.params] : [...spec.params];
    for (const p of params) {
      if (!(p instanceof Tensor)) {
        throw new TypeError(
          `${name}: optimizer can only optimize Tensors, but one of the params is ${p === null ? 'null' : typeof p}`,
        );
      }
      if (!p.isLeaf)
        throw new Error(`${name}: can't optimize a non-leaf Tensor (optimize the leaf it was computed from)`);
    }
    if (new Set(params).size !== params.length) {
      process.emitWarning(
        `${name}: a parameter group contains the same parameter more than once; it will be updated more than once per step`,
      );
    }
    const taken = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => taken.has(p)))
      throw new Error(`${name}: some parameters appear in more than one parameter group`);
    const group = { ...copyPlain(this.defaults) } as ParamGroup<H>;
    for (const [key, value] of Object.entries(spec)) {
      if (key !== 'params' && value !== undefined) (group as Record<string, unknown>)[key] = copyPlain(value);
    }
    this.checkHyperParams(group);
    group.params = params;
    this.paramGroups.push(group);
  }

  // ---- state dicts ----

  /**
   * The optimizer's state in PyTorch's layout (see OptimizerStateDict). The tensors in it are the
   * optimizer's live state, not copies (as in PyTorch): save them before stepping again, and do not
   * dispose them.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const packed: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(group)) {
        if (key !== 'params') packed[toPyTorchKey(key)] = copyPlain(value);
      }
      packed.params = group.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return packed as Record<string, unknown> & { params: number[] };
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[i] = Object.fromEntries(Object.entries(s).map(([k, v]) => [toPyTorchKey(k), v]));
    }
    return { state, param_groups: paramGroups };
  }

  /**
   * Restores a state from stateDict() (senet's or PyTorch's: snake_case and camelCase keys are both
   * read). Hyper-parameters come from the dict, as in PyTorch; state tensors are copied, converted to
   * their parameter's dtype (floating parameters) and device, except `step`. The groups must have the
   * same sizes as this optimizer's.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.constructor.name;
    const saved = stateDict?.param_groups;
    if (!Array.isArray(saved) || typeof stateDict.state !== 'object' || stateDict.state === null) {
      throw new TypeError(`${name}.loadStateDict: expected { state, param_groups } as written by stateDict()`);
    }
    if (saved.length !== this.paramGroups.length) {
      throw new Error(
        `${name}.loadStateDict: loaded state dict has ${saved.length} parameter groups, this optimizer has ${this.paramGroups.length}`,
      );
    }
    saved.forEach((g, i) => {
      const n = Array.isArray(g?.params) ? g.params.length : -1;
      if (n !== this.paramGroups[i].params.length) {
        throw new Error(
          `${name}.loadStateDict: loaded state dict contains a parameter group (${i}) with ${n} parameters; ` +
            `this optimizer's group has ${this.paramGroups[i].params.length}`,
        );
      }
    });
    // Saved parameter ids -> this optimizer's parameters, position by position.
    const byId = new Map<string, Tensor>();
    saved.forEach((g, i) => g.params.forEach((id, j) => byId.set(String(id), this.paramGroups[i].params[j])));

    const groups = saved.map((g, i) => {
      const group = { ...copyPlain(this.defaults) } as ParamGroup<H>;
      for (const [key, value] of Object.entries(g)) {
        if (key !== 'params') (group as Record<string, unknown>)[fromPyTorchKey(key)] = copyPlain(value);
      }
      this.checkHyperParams(group);
      group.params = this.paramGroups[i].params;
      return group;
    });

    const state = new Map<Tensor, ParamState>();
    try {
      for (const [id, entry] of Object.entries(stateDict.state)) {
        const param = byId.get(id);
        if (!param)
          throw new Error(`${name}.loadStateDict: the state names parameter ${id}, which no parameter group lists`);
        state.set(param, this.castState(param, entry, id));
      }
    } catch (error) {
      for (const s of state.values()) dispose(Object.values(s));
      throw error;
    }

    for (const s of this.state.values()) dispose(Object.values(s));
    this.state.clear();
    for (const [p, s] of state) this.state.set(p, s);
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
  }

  /** One parameter's loaded state as owned copies, shaped and typed for the parameter. */
  private castState(param: Tensor, entry: Record<string, unknown>, id: string): ParamState {
    const name = this.constructor.name;
    if (typeof entry !== 'object' || entry === null)
      throw new TypeError(`${name}.loadStateDict: the state of parameter ${id} is not an object`);
    const out: ParamState = {};
    try {
      for (const [rawKey, value] of Object.entries(entry)) {
        const key = fromPyTorchKey(rawKey);
        if (value instanceof Tensor) {
          if (key === 'step') {
            out[key] = keep(value.clone()); // PyTorch keeps step's own dtype and device (pytorch#74424)
            continue;
          }
          const shape = value.shape;
          if (shape.join() !== param.shape.join()) {
            throw new Error(
              `${name}.loadStateDict: state '${rawKey}' of parameter ${id} has shape [${shape.join(', ')}], ` +
                `the parameter has shape [${param.shape.join(', ')}]`,
            );
          }
          out[key] = keep(
            value.to({ dtype: param.isFloatingPoint() ? param.dtype : value.dtype, device: param.device, copy: true }),
          );
        } else if (value === null || typeof value === 'number' || typeof value === 'boolean') {
          out[key] = value;
        } else {
          throw new TypeError(
            `${name}.loadStateDict: state '${rawKey}' of parameter ${id} is ${typeof value}; expected a Tensor, number, boolean or null`,
          );
        }
      }
      this.upgradeState(out);
    } catch (error) {
      dispose(Object.values(out));
      throw error;
    }
    return out;
  }

  /** Adapts loaded per-parameter state from older layouts (e.g. Adam's numeric `step`); no-op by default. */
  protected upgradeState(_state: ParamState): void {}

  /** Frees the optimizer's state tensors now (the optimizer starts afresh if stepped again). */
  dispose(): void {
    for (const s of this.state.values()) dispose(Object.values(s));
    this.state.clear();
  }
}

/** The gradients of a group's parameters that have one, with their parameters (grads belong to the current scope). */
export function paramsWithGrad(group: ParamGroup<HyperParams>): { param: Tensor; grad: Tensor }[] {
  const out: { param: Tensor; grad: Tensor }[] = [];
  for (const param of group.params) {
    const grad = param.grad;
    if (grad) out.push({ param, grad });
  }
  return out;
}

/** Throws unless `value` is a finite number >= 0, with PyTorch's wording ("Invalid learning rate: -1"). */
export function checkNonNegative(optimizer: string, what: string, value: unknown): void {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${optimizer}: Invalid ${what}: ${String(value)} (expected a finite number >= 0)`);
  }
}

/** Throws unless `value` is true, false or null (PyTorch's `foreach: Optional[bool]`). */
export function checkForeach(optimizer: string, value: unknown): void {
  if (value !== null && typeof value !== 'boolean') {
    throw new TypeError(`${optimizer}: foreach must be true, false or null, got ${String(value)}`);
  }
}
