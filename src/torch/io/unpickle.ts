// A pickle reader (Python's pickle format, protocols 2-5) that never runs code: Python globals are
// resolved through `findGlobal`, which offers only the handful of functions senet implements itself
// (rebuilding tensors, OrderedDict, ...) and refuses everything else by name.
import { describeOpcode, OP } from './pickle-opcodes.js';
import { PyCallable, PyDict, tuple } from './python-values.js';

export interface UnpickleHooks {
  /** What GLOBAL module.name stands for; throws a clear error for globals that are not allowed. */
  findGlobal(module: string, name: string): unknown;
  /** Resolves a persistent id (torch's storages); without it, BINPERSID is an error. */
  persistentLoad?(id: unknown): unknown;
}

/** Objects BUILD may set state on, besides PyDict; `setState` receives the pickled state. */
export interface Buildable {
  setState(state: unknown): void;
}

/** Python ints in checkpoints are small; a longer LONG1/LONG4 only costs time (decoding is quadratic). */
const MAX_LONG_BYTES = 1024;
const textDecoder = new TextDecoder('utf-8');

/** Reads the object stored in `bytes`; `source` names the data in error messages (e.g. "model.pt/data.pkl"). */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks, source: string): unknown {
  return new Unpickler(bytes, hooks, source).load();
}

class Unpickler {
  private pos = 0;
  private stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly hooks: UnpickleHooks,
    private readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(message: string, at = this.pos): never {
    throw new Error(`${this.source}: corrupt pickle at byte ${at}: ${message}`);
  }

  private need(n: number): number {
    if (n > this.bytes.length - this.pos) {
      this.fail(`needs ${n} more byte(s) but the data ends after ${this.bytes.length - this.pos} (truncated?)`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.bytes[this.need(1)];
  }
  private u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  private u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  private i32(): number {
    return this.view.getInt32(this.need(4), true);
  }

  private u64(): number {
    const value = this.view.getBigUint64(this.need(8), true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${value} is too large`);
    return Number(value);
  }

  private take(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('a text argument has no terminating newline');
    const text = textDecoder.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  private pop(): unknown {
    if (this.stack.length === 0 || (this.marks.length && this.stack.length <= this.marks[this.marks.length - 1])) {
      this.fail('an opcode needs a value but the stack is empty');
    }
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) this.fail('an opcode needs a value but the stack is empty');
    return this.stack[this.stack.length - 1];
  }

  /** The values pushed since the last MARK, removing them and the mark. */
  private popMark(): unknown[] {
    const start = this.marks.pop();
    if (start === undefined) this.fail('an opcode needs a MARK but none is open');
    return this.stack.splice(start);
  }

  private memoGet(index: number): unknown {
    if (!this.memo.has(index)) this.fail(`memo entry ${index} is read before it is written`);
    return this.memo.get(index);
  }

  private callable(value: unknown, opcode: string): PyCallable {
    if (value instanceof PyCallable) return value;
    this.fail(`${opcode} applies a value that is not a callable Python global`);
  }

  private asDict(value: unknown, opcode: string): Map<unknown, unknown> {
    if (value instanceof Map) return value;
    this.fail(`${opcode} targets a value that is not a dict`);
  }

  private asList(value: unknown, opcode: string): unknown[] {
    if (Array.isArray(value) && !Object.isFrozen(value)) return value;
    this.fail(`${opcode} targets a value that is not a list`);
  }

  private setItems(dict: Map<unknown, unknown>, flat: unknown[]): void {
    if (flat.length % 2) this.fail('SETITEMS has an odd number of keys and values');
    for (let i = 0; i < flat.length; i += 2) dict.set(flat[i], flat[i + 1]);
  }

  load(): unknown {
    for (;;) {
      const at = this.pos;
      if (at >= this.bytes.length) this.fail('the data ends before the STOP opcode (truncated?)');
      const code = this.u8();
      switch (code) {
        case OP.PROTO: {
          const protocol = this.u8();
          if (protocol > 5) this.fail(`pickle protocol ${protocol} is newer than the supported 2-5`, at);
          break;
        }
        case OP.FRAME:
          this.u64();
          break; // frames only group opcodes for buffering
        case OP.STOP: {
          const result = this.pop();
          return result;
        }
        case OP.MARK:
          this.marks.push(this.stack.length);
          break;
        case OP.POP:
          this.pop();
          break;
        case OP.POP_MARK:
          this.popMark();
          break;
        case OP.DUP:
          this.stack.push(this.top());
          break;

        case OP.NONE:
          this.stack.push(null);
          break;
        case OP.NEWTRUE:
          this.stack.push(true);
          break;
        case OP.NEWFALSE:
          this.stack.push(false);
          break;
        case OP.BININT:
          this.stack.push(this.i32());
          break;
        case OP.BININT1:
          this.stack.push(this.u8());
          break;
        case OP.BININT2:
          this.stack.push(this.u16());
          break;
        case OP.LONG1:
          this.stack.push(decodeLong(this.take(this.u8())));
          break;
        case OP.LONG4: {
          const n = this.i32();
          if (n < 0 || n > MAX_LONG_BYTES)
            this.fail(`LONG4 has a length of ${n} bytes (at most ${MAX_LONG_BYTES} are read)`, at);
          this.stack.push(decodeLong(this.take(n)));
          break;
        }
        case OP.INT:
          this.stack.push(this.textInt(this.line(), at));
          break;
        case OP.LONG:
          this.stack.push(this.textInt(this.line().replace(/L$/, ''), at));
          break;
        case OP.BINFLOAT:
          this.stack.push(this.view.getFloat64(this.need(8), false));
          break;
        case OP.FLOAT:
          this.stack.push(Number.parseFloat(this.line()));
          break;

        case OP.BINUNICODE:
          this.stack.push(textDecoder.decode(this.take(this.u32())));
          break;
        case OP.SHORT_BINUNICODE:
          this.stack.push(textDecoder.decode(this.take(this.u8())));
          break;
        case OP.BINUNICODE8:
          this.stack.push(textDecoder.decode(this.take(this.u64())));
          break;
        // Python 2 str: torch.load decodes these as UTF-8 too.
        case OP.BINSTRING: {
          const n = this.i32();
          if (n < 0) this.fail('BINSTRING has a negative length', at);
          this.stack.push(textDecoder.decode(this.take(n)));
          break;
        }
        case OP.SHORT_BINSTRING:
          this.stack.push(textDecoder.decode(this.take(this.u8())));
          break;
        case OP.BINBYTES:
          this.stack.push(this.take(this.u32()).slice());
          break;
        case OP.SHORT_BINBYTES:
          this.stack.push(this.take(this.u8()).slice());
          break;
        case OP.BINBYTES8:
        case OP.BYTEARRAY8:
          this.stack.push(this.take(this.u64()).slice());
          break;

        case OP.EMPTY_TUPLE:
          this.stack.push(tuple());
          break;
        case OP.TUPLE1:
          this.stack.push(tuple(this.pop()));
          break;
        case OP.TUPLE2: {
          const b = this.pop();
          const a = this.pop();
          this.stack.push(tuple(a, b));
          break;
        }
        case OP.TUPLE3: {
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.stack.push(tuple(a, b, c));
          break;
        }
        case OP.TUPLE:
          this.stack.push(tuple(...this.popMark()));
          break;
        case OP.EMPTY_LIST:
          this.stack.push([]);
          break;
        case OP.LIST:
          this.stack.push(this.popMark());
          break;
        case OP.APPEND: {
          const v = this.pop();
          this.asList(this.top(), 'APPEND').push(v);
          break;
        }
        case OP.APPENDS: {
          const items = this.popMark();
          this.asList(this.top(), 'APPENDS').push(...items);
          break;
        }
        case OP.EMPTY_DICT:
          this.stack.push(new PyDict());
          break;
        case OP.DICT: {
          const d = new PyDict();
          this.setItems(d, this.popMark());
          this.stack.push(d);
          break;
        }
        case OP.SETITEM: {
          const value = this.pop();
          const key = this.pop();
          this.asDict(this.top(), 'SETITEM').set(key, value);
          break;
        }
        case OP.SETITEMS: {
          const flat = this.popMark();
          this.setItems(this.asDict(this.top(), 'SETITEMS'), flat);
          break;
        }
        case OP.EMPTY_SET:
          this.stack.push(new Set());
          break;
        case OP.ADDITEMS: {
          const items = this.popMark();
          const set = this.top();
          if (!(set instanceof Set)) this.fail('ADDITEMS targets a value that is not a set', at);
          for (const item of items) set.add(item);
          break;
        }
        case OP.FROZENSET:
          this.stack.push(new Set(this.popMark()));
          break;

        case OP.BINPUT:
          this.memo.set(this.u8(), this.top());
          break;
        case OP.LONG_BINPUT:
          this.memo.set(this.u32(), this.top());
          break;
        case OP.MEMOIZE:
          this.memo.set(this.memo.size, this.top());
          break;
        case OP.PUT:
          this.memo.set(this.textInt(this.line(), at) as number, this.top());
          break;
        case OP.BINGET:
          this.stack.push(this.memoGet(this.u8()));
          break;
        case OP.LONG_BINGET:
          this.stack.push(this.memoGet(this.u32()));
          break;
        case OP.GET:
          this.stack.push(this.memoGet(this.textInt(this.line(), at) as number));
          break;

        case OP.GLOBAL: {
          const module = this.line();
          const name = this.line();
          this.stack.push(this.hooks.findGlobal(module, name));
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings', at);
          this.stack.push(this.hooks.findGlobal(module, name));
          break;
        }
        case OP.REDUCE:
        case OP.NEWOBJ: {
          const args = this.pop();
          const fn = this.callable(this.pop(), code === OP.REDUCE ? 'REDUCE' : 'NEWOBJ');
          if (!Array.isArray(args)) this.fail(`the arguments of ${fn.qualifiedName} are not a tuple`, at);
          this.stack.push(fn.call(args));
          break;
        }
        case OP.BUILD: {
          const state = this.pop();
          this.build(this.top(), state, at);
          break;
        }
        case OP.BINPERSID: {
          const id = this.pop();
          if (!this.hooks.persistentLoad) this.fail('BINPERSID (a persistent id) is not expected in this data', at);
          this.stack.push(this.hooks.persistentLoad(id));
          break;
        }
        default:
          this.fail(`unsupported or invalid pickle opcode ${describeOpcode(code)}`, at);
      }
    }
  }

  private textInt(text: string, at: number): number | boolean | bigint {
    // Protocol 0 spells True/False as I01/I00.
    if (text === '01') return true;
    if (text === '00') return false;
    if (!/^[+-]?\d+$/.test(text)) this.fail(`'${text}' is not an integer`, at);
    return narrowInt(BigInt(text));
  }

  private build(target: unknown, state: unknown, at: number): void {
    if (target instanceof PyDict) {
      // Python passes (dict_state, slot_state) when an object has __slots__; both set attributes.
      const parts = Array.isArray(state) && state.length === 2 ? state : [state];
      for (const part of parts) {
        if (part === null) continue;
        if (!(part instanceof Map)) this.fail('BUILD on a dict expects its attributes as a dict', at);
        for (const [key, value] of part) target.attributes.set(String(key), value);
      }
      return;
    }
    if (typeof target === 'object' && target !== null && typeof (target as Buildable).setState === 'function') {
      (target as Buildable).setState(state);
      return;
    }
    this.fail('BUILD sets state on an object that takes none', at);
  }
}

/** Python's two's-complement little-endian long encoding (LONG1/LONG4). */
export function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return narrowInt(value);
}

/** A plain number when it is exactly representable, else the bigint. */
function narrowInt(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
