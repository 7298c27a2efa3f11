// How Python values look on the JS side of senet's pickle reader and writer.
//   None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number, str -> string,
//   bytes -> Uint8Array, list -> array, tuple -> frozen array, dict / OrderedDict -> PyDict (a Map),
//   set -> Set, torch tensors -> Tensor.
// The writer maps back the same way; JS numbers that are safe integers become Python ints.

/** A Python dict or collections.OrderedDict: a Map that keeps insertion order, plus instance attributes. */
export class PyDict<K = unknown, V = unknown> extends Map<K, V> {
  /**
   * Attributes set on the object by pickle's BUILD. PyTorch's state dicts carry `_metadata` here (the
   * per-module versions load_state_dict consults).
   */
  readonly attributes = new Map<string, unknown>();

  /** `ordered` marks a collections.OrderedDict (what Module.state_dict() returns) rather than a dict. */
  constructor(
    entries?: Iterable<readonly [K, V]> | null,
    readonly ordered = false,
  ) {
    super(entries);
  }
}

/** A Python tuple: an array frozen so that the writer knows to emit a tuple rather than a list. */
export function tuple<T>(...items: T[]): readonly T[] {
  return Object.freeze(items);
}

export function isTuple(value: unknown): value is readonly unknown[] {
  return Array.isArray(value) && Object.isFrozen(value);
}

/** A reference to a Python global (module attribute), as pickle's GLOBAL opcode names it. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * A value the writer emits as `callable(*args)` (pickle's REDUCE), optionally followed by dict items
 * (SETITEMS) and instance state (BUILD), the way Python pickles an OrderedDict or a torch tensor.
 */
export class PyReduce {
  constructor(
    readonly callable: PyGlobal,
    readonly args: readonly unknown[],
    readonly items?: Iterable<readonly [unknown, unknown]>,
    readonly state?: unknown,
  ) {}
}

/** A value the writer emits as a persistent id (BINPERSID): torch stores tensor storages this way. */
export class PersistentId {
  constructor(readonly id: unknown) {}
}

/** A Python function the reader may call for REDUCE / NEWOBJ; only functions senet defines are offered. */
export class PyCallable {
  constructor(
    readonly qualifiedName: string,
    readonly call: (args: readonly unknown[]) => unknown,
  ) {}
}
