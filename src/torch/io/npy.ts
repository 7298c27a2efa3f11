// NumPy's .npy format (numpy/lib/format.py, NEP 1): the magic "\x93NUMPY", a version byte pair, the header
// length (uint16 for 1.0, uint32 for 2.0/3.0), a Python dict literal {'descr', 'fortran_order', 'shape'}
// padded with spaces and a newline so the data starts on a 64-byte boundary, then the raw elements.
// The writer reproduces numpy.save byte for byte.
import type { Tensor } from '../tensor.js';
import { type DType, ELEMENT_SIZE } from '../dtype.js';
import { numelOf, tensorFromBytes, tensorToBytes } from './tensor-bytes.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGNMENT = 64;
/** numpy leaves room in the header for the first axis to grow to this many digits (append in place). */
const GROWTH_AXIS_MAX_DIGITS = 21;

/** The descr numpy writes for each dtype (bfloat16 has none). */
const DESCR_OF_DTYPE: Partial<Record<DType, string>> = {
  float32: '<f4',
  float64: '<f8',
  float16: '<f2',
  int64: '<i8',
  int32: '<i4',
  int16: '<i2',
  int8: '|i1',
  uint8: '|u1',
  bool: '|b1',
};
/** Type code + item size ('f4') -> dtype, whatever the byte order mark. */
const DTYPE_OF_TYPE = new Map<string, DType>(
  Object.entries(DESCR_OF_DTYPE).map(([dtype, descr]) => [descr!.slice(1), dtype as DType]),
);

/** The bytes numpy.save would write for `t`'s values. */
export function serializeNpy(t: Tensor): Uint8Array {
  const descr = DESCR_OF_DTYPE[t.dtype];
  if (!descr)
    throw new TypeError(`.npy cannot hold ${t.dtype}: NumPy has no such dtype; convert first, e.g. with .float()`);
  const shape = t.shape;
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length, 0));
  const data = tensorToBytes(t);
  // numpy's _wrap_header: version 1.0 while the header length fits in a uint16, else 2.0.
  const withNewline = header.length + 1;
  let version = 1;
  let padding = ALIGNMENT - ((MAGIC.length + 2 + 2 + withNewline) % ALIGNMENT);
  if (withNewline + padding > 0xffff) {
    version = 2;
    padding = ALIGNMENT - ((MAGIC.length + 2 + 4 + withNewline) % ALIGNMENT);
  }
  const lengthSize = version === 1 ? 2 : 4;
  const headerBytes = new TextEncoder().encode(`${header + ' '.repeat(padding)}\n`);
  const out = new Uint8Array(MAGIC.length + 2 + lengthSize + headerBytes.length + data.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 8 + lengthSize);
  out.set(data, 8 + lengthSize + headerBytes.length);
  return out;
}

/** The array in a .npy file's bytes as a tensor; `source` names the file in errors. */
export function parseNpy(bytes: Uint8Array, source: string): Tensor {
  const fail = (problem: string): never => {
    throw new Error(`${source}: invalid .npy file: ${problem}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('it does not start with the magic string "\\x93NUMPY"');
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) fail(`format version ${major}.${minor} is not 1.0, 2.0 or 3.0`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthSize) fail('the file ends inside the header length');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthSize + headerLength;
  if (dataStart > bytes.length) fail(`the header of ${headerLength} bytes runs past the end of the file (truncated?)`);
  // Versions 1.0 and 2.0 store the header as latin-1, 3.0 as UTF-8.
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lengthSize, dataStart));
  let header: unknown;
  try {
    header = parsePythonLiteral(text);
  } catch (error) {
    fail(`the header is not a Python dict literal (${(error as Error).message}): ${text.trim()}`);
  }
  if (!(header instanceof Map)) fail(`the header is not a dict: ${text.trim()}`);
  const fields = header as Map<unknown, unknown>;
  const descr = fields.get('descr');
  const fortranOrder = fields.get('fortran_order');
  const shape = fields.get('shape');
  if (typeof descr !== 'string') fail(`'descr' is ${JSON.stringify(descr)}; structured dtypes are not supported`);
  if (typeof fortranOrder !== 'boolean') fail(`'fortran_order' is ${JSON.stringify(fortranOrder)}, not True or False`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`'shape' is ${JSON.stringify(shape)}, not a tuple of sizes`);
  }
  const [order, type] = [(descr as string)[0], (descr as string).slice(1)];
  const dtype = DTYPE_OF_TYPE.get(type);
  if (!'<>|='.includes(order) || !dtype) {
    fail(
      `dtype '${descr}' is not supported; senet reads ${[...new Set(Object.values(DESCR_OF_DTYPE))].join(', ')} ` +
        '(and their big-endian forms)',
    );
  }
  const dims = shape as number[];
  const expected = numelOf(dims) * ELEMENT_SIZE[dtype!];
  const actual = bytes.length - dataStart;
  if (actual !== expected) {
    fail(
      `the data holds ${actual} bytes, but '${descr}' of shape (${dims.join(', ')}) needs ${expected}` +
        (actual < expected ? ' (truncated?)' : ''),
    );
  }
  const data = bytes.subarray(dataStart);
  const littleEndian = order !== '>';
  if (!fortranOrder) return tensorFromBytes(data, dims, dtype!, littleEndian);
  // Column-major data of shape (a, b, c) is the row-major data of shape (c, b, a), transposed.
  const reversed = tensorFromBytes(data, [...dims].reverse(), dtype!, littleEndian);
  try {
    return reversed.permute(dims.map((_, i) => dims.length - 1 - i)).contiguous();
  } finally {
    reversed.dispose();
  }
}

/**
 * Parses the Python literals numpy writes in headers: dicts, tuples, lists, strings, ints, True, False,
 * None. Dicts become Maps, tuples and lists arrays.
 */
export function parsePythonLiteral(text: string): unknown {
  let pos = 0;
  const skip = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const expect = (ch: string) => {
    skip();
    if (text[pos] !== ch) throw new Error(`expected '${ch}' at character ${pos}`);
    pos++;
  };
  const sequence = (close: string, item: () => void) => {
    for (;;) {
      skip();
      if (text[pos] === close) {
        pos++;
        return;
      }
      item();
      skip();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) throw new Error(`expected ',' or '${close}' at character ${pos}`);
    }
  };
  const value = (): unknown => {
    skip();
    const ch = text[pos];
    if (ch === '{') {
      pos++;
      const map = new Map<unknown, unknown>();
      sequence('}', () => {
        const key = value();
        expect(':');
        map.set(key, value());
      });
      return map;
    }
    if (ch === '(' || ch === '[') {
      pos++;
      const items: unknown[] = [];
      sequence(ch === '(' ? ')' : ']', () => items.push(value()));
      return items;
    }
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, pos + 1);
      if (end < 0) throw new Error(`unterminated string at character ${pos}`);
      const s = text.slice(pos + 1, end);
      pos = end + 1;
      return s;
    }
    const word = /^(True|False|None|[+-]?\d+L?)/.exec(text.slice(pos));
    if (!word) throw new Error(`unexpected '${ch ?? 'end of header'}' at character ${pos}`);
    pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number.parseInt(word[0], 10);
  };
  const result = value();
  skip();
  if (pos !== text.length) throw new Error(`unexpected text after the literal at character ${pos}`);
  return result;
}
