// Containers: Sequential (runs children in order), ModuleList (holds children by index) and ModuleDict
// (holds children by name).
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** A module whose forward maps one tensor to one tensor (a layer such as Conv2d, ReLU or a Sequential of them). */
export type TensorModule = Module & { forward(input: Tensor): Tensor };

/** The type of a Sequential's children: those it was built from, or any Module for `new Sequential()`. */
export type SequentialLayer<Ms extends readonly Module[]> = Ms extends readonly [] ? Module : Ms[number];

/**
 * What a Sequential takes and returns: a Tensor when every child maps a Tensor to a Tensor, otherwise
 * unknown (from the children's types alone one can not tell which comes last).
 */
export type SequentialIO<Ms extends readonly Module[]> = [SequentialLayer<Ms>] extends [TensorModule]
  ? Tensor
  : unknown;

/**
 * Runs its children one after another: new Sequential(conv, bn, relu). Children are named "0", "1", ...
 * Built from Tensor → Tensor layers, its forward and call take and return a Tensor, and `append` takes
 * more of the same kinds of layer. `nn.Sequential` (the type) and `new Sequential()` hold any modules and
 * take and return unknown; `nn.Sequential<nn.TensorModule[]>` is a Tensor → Tensor one of any layers.
 */
export class Sequential<Ms extends readonly Module[] = Module[]> extends Module {
  private readonly layers: SequentialLayer<Ms>[] = [];

  constructor(...modules: Ms) {
    super();
    for (const m of modules) this.append(m as SequentialLayer<Ms>);
  }

  append(module: SequentialLayer<Ms>): this {
    this.registerModule(String(this.layers.length), module);
    this.layers.push(module);
    return this;
  }

  get length(): number {
    return this.layers.length;
  }

  at(index: number): SequentialLayer<Ms> {
    const m = this.layers.at(index);
    if (!m) throw new RangeError(`Sequential index ${index} is out of range (length ${this.layers.length})`);
    return m;
  }

  /** Puts `module` in place of the child at `index`, keeping its name ("0", "1", ...). */
  replaceAt(index: number, module: SequentialLayer<Ms>): this {
    if (!Number.isInteger(index) || index < 0 || index >= this.layers.length) {
      throw new RangeError(`Sequential index ${index} is out of range (length ${this.layers.length})`);
    }
    this.registerModule(String(index), module);
    this.layers[index] = module;
    return this;
  }

  [Symbol.iterator](): Iterator<SequentialLayer<Ms>> {
    return this.layers[Symbol.iterator]();
  }

  /** Calls each child in turn (through `call`, so their hooks run and their intermediates are freed). */
  forward(input: SequentialIO<Ms>): SequentialIO<Ms> {
    let x: unknown = input;
    for (const layer of this.layers) x = (layer as Module & { forward(x: unknown): unknown }).call(x);
    return x as SequentialIO<Ms>;
  }
}

/** A list of modules registered as children "0", "1", ...; it has no forward of its own. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(index: number): M {
    const m = this.items.at(index);
    if (!m) throw new RangeError(`ModuleList index ${index} is out of range (length ${this.items.length})`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  forward(): never {
    throw new Error('ModuleList has no forward(): iterate over its modules instead');
  }
}

/**
 * Modules by name, registered as children under those names in insertion order (torch.nn.ModuleDict):
 * new ModuleDict({ encoder, head }) has state dict keys 'encoder.…' and 'head.…'. It has no forward of its own.
 */
export class ModuleDict<M extends Module = Module> extends Module {
  // The children, kept here rather than registered, so that delete() can remove one (namedChildren reads them).
  private readonly byKey = new Map<string, M>();

  /** From an object, in its key order: the module type is inferred from the values. */
  constructor(modules?: Record<string, M>);
  /** From [key, module] pairs, in their order (a ModuleDict<Module> unless the type argument is given). */
  constructor(modules: Iterable<readonly [string, NoInfer<M>]>);
  constructor(modules: Record<string, M> | Iterable<readonly [string, M]> = {}) {
    super();
    const pairs = Symbol.iterator in modules ? modules : Object.entries(modules);
    for (const [key, module] of pairs as Iterable<readonly [string, M]>) this.set(key, module);
  }

  /** Adds `module` under `key`, or replaces the module there (keeping its place in the order). */
  set(key: string, module: M): this {
    if (typeof key !== 'string' || key === '' || key.includes('.')) {
      throw new TypeError(`ModuleDict: a key must be a non-empty string without '.', got ${JSON.stringify(key)}`);
    }
    if (!(module instanceof Module)) {
      throw new TypeError(`ModuleDict: the value for '${key}' must be an nn.Module, got ${String(module)}`);
    }
    this.byKey.set(key, module);
    return this;
  }

  /** The module under `key`; an Error naming the keys there are when there is none. */
  get(key: string): M {
    const m = this.byKey.get(key);
    if (!m) {
      throw new RangeError(`ModuleDict has no key '${key}' (keys: ${[...this.byKey.keys()].join(', ') || 'none'})`);
    }
    return m;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Removes the module under `key` and returns it (PyTorch's pop). */
  delete(key: string): M {
    const m = this.get(key);
    this.byKey.delete(key);
    return m;
  }

  get size(): number {
    return this.byKey.size;
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  values(): M[] {
    return [...this.byKey.values()];
  }

  entries(): [string, M][] {
    return [...this.byKey.entries()];
  }

  [Symbol.iterator](): Iterator<[string, M]> {
    return this.byKey.entries();
  }

  override namedChildren(): [string, Module][] {
    return [...super.namedChildren(), ...this.byKey];
  }

  forward(): never {
    throw new Error("ModuleDict has no forward(): call its modules by key instead (dict.get('name').call(x))");
  }
}
