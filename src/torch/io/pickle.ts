// A pickle writer (protocol 2, what torch.save uses by default) for plain data: None, bools, ints,
// floats, strings, lists, tuples (frozen arrays), dicts (Map, PyDict, plain objects), plus the PyGlobal /
// PyReduce / PersistentId nodes through which torch's tensors are described. Output is deterministic:
// the same value always gives the same bytes.
import { OP } from './pickle-opcodes.js';
import { isTuple, PersistentId, PyDict, PyGlobal, PyReduce } from './python-values.js';

/** Turns values the writer does not know (tensors, ...) into pickleable ones; undefined = not handled. */
export type CustomReducer = (value: object) => unknown;

/** Python's pickler sends at most this many items per APPENDS/SETITEMS. */
const BATCH = 1000;
const ORDERED_DICT = new PyGlobal('collections', 'OrderedDict');
const encoder = new TextEncoder();

/** The protocol-2 pickle of `value`; `reduce` converts objects the writer does not know itself. */
export function pickle(value: unknown, reduce?: CustomReducer): Uint8Array {
  const p = new Pickler(reduce);
  p.out.u8(OP.PROTO).u8(2);
  p.save(value, 'the object');
  p.out.u8(OP.STOP);
  return p.out.bytes();
}

/** A growable little byte buffer. */
class ByteWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
      this.view = new DataView(bigger.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  // reserve() may replace buf and view, so each writer reserves before it touches them.
  u8(v: number): this {
    const at = this.reserve(1);
    this.buf[at] = v;
    return this;
  }
  u16(v: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, v, true);
    return this;
  }
  u32(v: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
    return this;
  }
  i32(v: number): this {
    const at = this.reserve(4);
    this.view.setInt32(at, v, true);
    return this;
  }
  f64be(v: number): this {
    const at = this.reserve(8);
    this.view.setFloat64(at, v, false);
    return this;
  }
  raw(bytes: Uint8Array): this {
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
    return this;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

class Pickler {
  readonly out = new ByteWriter();
  /** Memo slots of objects already written (by identity) and of globals (by name). */
  private readonly memo = new Map<unknown, number>();
  /** Tuples being written: a tuple that contains itself cannot be pickled. */
  private readonly open = new Set<unknown>();

  constructor(private readonly reduce?: CustomReducer) {}

  private put(key: unknown): void {
    const slot = this.memo.size;
    this.memo.set(key, slot);
    if (slot < 256) this.out.u8(OP.BINPUT).u8(slot);
    else this.out.u8(OP.LONG_BINPUT).u32(slot);
  }

  /** Writes a memo reference instead of the object when it was written before. */
  private getMemo(key: unknown): boolean {
    const slot = this.memo.get(key);
    if (slot === undefined) return false;
    if (slot < 256) this.out.u8(OP.BINGET).u8(slot);
    else this.out.u8(OP.LONG_BINGET).u32(slot);
    return true;
  }

  save(value: unknown, path: string): void {
    if (value === null) {
      this.out.u8(OP.NONE);
      return;
    }
    switch (typeof value) {
      case 'boolean':
        this.out.u8(value ? OP.NEWTRUE : OP.NEWFALSE);
        return;
      case 'number':
        if (Number.isSafeInteger(value)) this.saveInt(BigInt(value));
        else this.out.u8(OP.BINFLOAT).f64be(value);
        return;
      case 'bigint':
        this.saveInt(value);
        return;
      case 'string':
        this.saveString(value);
        return;
      case 'object':
        break;
      default:
        throw new TypeError(`cannot pickle ${path}: a value of type ${typeof value} has no Python counterpart`);
    }
    const obj = value as object;
    if (obj instanceof PyGlobal) {
      this.saveGlobal(obj);
      return;
    }
    if (this.getMemo(obj)) return;
    if (obj instanceof PersistentId) {
      this.save(obj.id, `${path} (persistent id)`);
      this.out.u8(OP.BINPERSID);
    } else if (obj instanceof PyReduce) {
      this.saveReduce(obj, path);
    } else if (obj instanceof PyDict && obj.ordered) {
      const state = obj.attributes.size ? new PyDict(obj.attributes) : undefined;
      this.saveReduce(new PyReduce(ORDERED_DICT, [], obj, state), path, obj);
    } else if (obj instanceof Map) {
      if (obj instanceof PyDict && obj.attributes.size) {
        throw new TypeError(`cannot pickle ${path}: a plain dict cannot carry attributes (use an ordered PyDict)`);
      }
      this.saveDict(obj, obj.entries(), path);
    } else if (isTuple(obj)) {
      this.saveTuple(obj, path);
    } else if (Array.isArray(obj)) {
      this.saveList(obj, path);
    } else if (Object.getPrototypeOf(obj) === Object.prototype || Object.getPrototypeOf(obj) === null) {
      this.saveDict(obj, Object.entries(obj), path);
    } else {
      const reduced = this.reduce?.(obj);
      if (reduced === undefined) {
        throw new TypeError(`cannot pickle ${path}: a ${obj.constructor?.name ?? 'object'} has no Python counterpart`);
      }
      this.save(reduced, path);
      // The same JS object written again refers back to its first pickle.
      const slot = this.memo.get(reduced);
      if (slot !== undefined) this.memo.set(obj, slot);
    }
  }

  /** Python's choice of integer opcode: BININT1/2 for small non-negative ints, BININT, else LONG1. */
  private saveInt(v: bigint): void {
    if (v >= 0n && v < 0x100n) this.out.u8(OP.BININT1).u8(Number(v));
    else if (v >= 0n && v < 0x10000n) this.out.u8(OP.BININT2).u16(Number(v));
    else if (v >= -(2n ** 31n) && v < 2n ** 31n) this.out.u8(OP.BININT).i32(Number(v));
    else {
      const bytes = encodeLong(v);
      if (bytes.length > 255) throw new RangeError(`cannot pickle the integer ${v}: it needs more than 255 bytes`);
      this.out.u8(OP.LONG1).u8(bytes.length).raw(bytes);
    }
  }

  private saveString(s: string): void {
    const bytes = encoder.encode(s);
    this.out.u8(OP.BINUNICODE).u32(bytes.length).raw(bytes);
  }

  private saveGlobal(g: PyGlobal): void {
    const key = `global:${g.qualifiedName}`;
    if (this.getMemo(key)) return;
    if (/\n/.test(g.module + g.name))
      throw new TypeError(`cannot pickle the global '${g.qualifiedName}': names hold no newlines`);
    this.out.u8(OP.GLOBAL).raw(encoder.encode(`${g.module}\n${g.name}\n`));
    this.put(key);
  }

  private saveReduce(r: PyReduce, path: string, memoKey: object = r): void {
    this.saveGlobal(r.callable);
    this.saveTuple(r.args, `${path} (arguments of ${r.callable.qualifiedName})`);
    this.out.u8(OP.REDUCE);
    this.put(memoKey);
    if (r.items) this.saveItems(r.items, path);
    if (r.state !== undefined) {
      this.save(r.state, `${path} (state)`);
      this.out.u8(OP.BUILD);
    }
  }

  private saveTuple(items: readonly unknown[], path: string): void {
    if (this.open.has(items)) throw new TypeError(`cannot pickle ${path}: the tuple contains itself`);
    this.open.add(items);
    const n = items.length;
    if (n === 0) {
      this.out.u8(OP.EMPTY_TUPLE);
    } else if (n <= 3) {
      items.forEach((item, i) => this.save(item, `${path}[${i}]`));
      this.out.u8([OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][n - 1]);
    } else {
      this.out.u8(OP.MARK);
      items.forEach((item, i) => this.save(item, `${path}[${i}]`));
      this.out.u8(OP.TUPLE);
    }
    this.open.delete(items);
    // A tuple's elements may already have written it (through a list that contains the tuple).
    if (!this.memo.has(items) && n > 0) this.put(items);
  }

  private saveList(items: readonly unknown[], path: string): void {
    this.out.u8(OP.EMPTY_LIST);
    this.put(items); // memoized before its elements, so a list may contain itself
    for (let start = 0; start < items.length; start += BATCH) {
      const batch = items.slice(start, start + BATCH);
      if (batch.length > 1) this.out.u8(OP.MARK);
      batch.forEach((item, i) => this.save(item, `${path}[${start + i}]`));
      this.out.u8(batch.length > 1 ? OP.APPENDS : OP.APPEND);
    }
  }

  private saveDict(memoKey: object, entries: Iterable<readonly [unknown, unknown]>, path: string): void {
    this.out.u8(OP.EMPTY_DICT);
    this.put(memoKey);
    this.saveItems(entries, path);
  }

  private saveItems(entries: Iterable<readonly [unknown, unknown]>, path: string): void {
    const all = [...entries];
    for (let start = 0; start < all.length; start += BATCH) {
      const batch = all.slice(start, start + BATCH);
      if (batch.length > 1) this.out.u8(OP.MARK);
      for (const [key, value] of batch) {
        const where = `${path}[${typeof key === 'string' ? JSON.stringify(key) : String(key)}]`;
        this.save(key, `${where} (key)`);
        this.save(value, where);
      }
      this.out.u8(batch.length > 1 ? OP.SETITEMS : OP.SETITEM);
    }
  }
}

/** Python's minimal two's-complement little-endian encoding of an int (as LONG1 stores it). */
export function encodeLong(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const bytes: number[] = [];
  let rest = v;
  for (;;) {
    bytes.push(Number(rest & 0xffn));
    rest >>= 8n; // arithmetic shift: negative values converge to -1
    const signBit = bytes[bytes.length - 1] & 0x80;
    if ((rest === 0n && !signBit) || (rest === -1n && signBit)) break;
  }
  return Uint8Array.from(bytes);
}
