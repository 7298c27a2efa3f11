// Data types, named as in PyTorch (torch.float32 -> 'float32'), and their JS typed-array counterparts.
import { native } from './native.js';

export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export const DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'bool',
];

/** The typed array `Tensor.data()` returns for each dtype (half types are widened to float32). */
export type TypedArrayFor<D extends DType> = D extends 'float32' | 'float16' | 'bfloat16'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'int16'
          ? Int16Array
          : D extends 'int8'
            ? Int8Array
            : Uint8Array;

export type AnyTypedArray =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

const codeOf = new Map<DType, number>();
const dtypeOfCode = new Map<number, DType>();
for (const d of DTYPES) {
  const code = native.scalarTypes[d];
  codeOf.set(d, code);
  dtypeOfCode.set(code, d);
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && codeOf.has(value as DType);
}

/** libtorch's c10::ScalarType code for a dtype name; throws a clear error for unknown names. */
export function dtypeCode(dtype: DType): number {
  const code = codeOf.get(dtype);
  if (code === undefined) throw new TypeError(`unknown dtype '${String(dtype)}': expected one of ${DTYPES.join(', ')}`);
  return code;
}

export function dtypeFromCode(code: number): DType {
  const d = dtypeOfCode.get(code);
  if (!d) throw new TypeError(`libtorch returned a tensor of a dtype senet does not support (code ${code})`);
  return d;
}

export const ELEMENT_SIZE: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export function isFloatingPoint(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

/** The dtype a typed array holds (Uint8Array is uint8; use dtype 'bool' explicitly for masks). */
export function dtypeOfTypedArray(array: ArrayBufferView): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof BigInt64Array) return 'int64';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Int16Array) return 'int16';
  if (array instanceof Int8Array) return 'int8';
  if (array instanceof Uint8Array || array instanceof Uint8ClampedArray) return 'uint8';
  throw new TypeError(
    `unsupported typed array ${array.constructor.name}: expected Float32Array, Float64Array, ` +
      'BigInt64Array, Int32Array, Int16Array, Int8Array or Uint8Array',
  );
}

/** Views raw bytes (as libtorch laid them out) as the typed array for `dtype`. */
export function typedArrayView(buffer: ArrayBuffer, dtype: DType): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
    default:
      throw new TypeError(`no typed array holds ${dtype} directly: convert with .float() first`);
  }
}
