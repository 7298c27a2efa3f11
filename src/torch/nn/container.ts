// Containers: Sequential (runs children in order) and ModuleList (holds children by index).
import { Module } from './module.js';

/** Runs its children one after another: new Sequential(conv, bn, relu). Children are named "0", "1", ... */
export class Sequential extends Module {
  private readonly layers: Module[] = [];

  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  append(module: Module): this {
    this.registerModule(String(this.layers.length), module);
    this.layers.push(module);
    return this;
  }

  get length(): number {
    return this.layers.length;
  }

  at(index: number): Module {
    const m = this.layers.at(index);
    if (!m) throw new RangeError(`Sequential index ${index} is out of range (length ${this.layers.length})`);
    return m;
  }

  /** Puts `module` in place of the child at `index`, keeping its name ("0", "1", ...). */
  replaceAt(index: number, module: Module): this {
    if (!Number.isInteger(index) || index < 0 || index >= this.layers.length) {
      throw new RangeError(`Sequential index ${index} is out of range (length ${this.layers.length})`);
    }
    this.registerModule(String(index), module);
    this.layers[index] = module;
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  /** Calls each child in turn (through `call`, so their hooks run and their intermediates are freed). */
  forward(input: unknown): unknown {
    let x = input;
    for (const layer of this.layers) x = (layer as Module & { forward(x: unknown): unknown }).call(x);
    return x;
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
