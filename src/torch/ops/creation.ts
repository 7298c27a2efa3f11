// Creating tensors: from JS data, filled with constants, ranges, and random values.
import { native } from '../native.js';
import { type DType, type AnyTypedArray, dtypeCode, dtypeOfTypedArray } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { checkDevice } from '../device.js';
import type { Generator } from '../random.js';
import { defineOp, wrap } from './dispatch.js';

export interface TensorOptions {
  dtype?: DType;
  /** 'cpu' (default), 'cuda', 'cuda:1', ... */
  device?: string;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

/** Nested arrays of numbers or booleans, as accepted by `tensor()`. */
export type NestedArray = number | boolean | bigint | readonly NestedArray[];

/** A shape given either as one array or as separate numbers: zeros([2, 3]) or zeros(2, 3). */
export type ShapeArgs<O> =
  | [shape: readonly number[], options?: O]
  | [...dims: number[]]
  | [...dims: number[], options: O];

function splitShapeArgs<O extends object>(args: readonly unknown[], fn: string): [number[], O] {
  let options = {} as O;
  let rest = args;
  const last = args[args.length - 1];
  if (last !== undefined && typeof last === 'object' && !Array.isArray(last)) {
    options = last as O;
    rest = args.slice(0, -1);
  }
  const shape = rest.length === 1 && Array.isArray(rest[0]) ? [...(rest[0] as number[])] : [...(rest as number[])];
  checkShape(shape, fn);
  return [shape, options];
}

/**
 * Refuses a shape that is not non-negative integers, or that holds more than 2**53 - 1 elements (each size
 * too): the largest count a JS number holds exactly, and far beyond any memory, so that a size such as 2**63
 * gets this message instead of libtorch's "Expected !is_symbolic() to be true".
 */
function checkShape(shape: readonly number[], fn: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TypeError(`${fn}(): the shape must be non-negative integers, got [${shape.join(', ')}]`);
    }
  }
  const count = shape.reduce((product, d) => product * d, 1);
  if (count > Number.MAX_SAFE_INTEGER || shape.some((d) => d > Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(
      `${fn}(): the shape [${shape.join(', ')}] is too large: a tensor holds at most ` +
        `2**53 - 1 = ${Number.MAX_SAFE_INTEGER} elements, and each size is at most that`,
    );
  }
}

function finish(t: Tensor, options: TensorOptions): Tensor {
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

const EMPTY = defineOp('aten::empty.memory_format(size, dtype, layout, device, pin_memory, memory_format)');
const FULL = defineOp('aten::full(size, fill_value, dtype, layout, device, pin_memory)');
const ZEROS = defineOp('aten::zeros(size, dtype, layout, device, pin_memory)');
const ONES = defineOp('aten::ones(size, dtype, layout, device, pin_memory)');
const RANDN = defineOp('aten::randn.generator(size, generator, dtype, layout, device, pin_memory)');
const RAND = defineOp('aten::rand.generator(size, generator, dtype, layout, device, pin_memory)');
const RANDINT = defineOp('aten::randint.low_generator(low, high, size, generator, dtype, layout, device, pin_memory)');
const RANDPERM = defineOp('aten::randperm.generator(n, generator, dtype, layout, device, pin_memory)');
const ARANGE = defineOp('aten::arange.start_step(start, end, step, dtype, layout, device, pin_memory)');
const LINSPACE = defineOp('aten::linspace(start, end, steps, dtype, layout, device, pin_memory)');
const EYE = defineOp('aten::eye.m(n, m, dtype, layout, device, pin_memory)');
const TO_DEVICE = defineOp('aten::to.device(self, device, dtype, non_blocking, copy, memory_format)');

const dt = (o: TensorOptions, fallback: DType = 'float32') => dtypeCode(o.dtype ?? fallback);
const dev = (o: TensorOptions, fn: string) => (o.device === undefined ? undefined : checkDevice(o.device, fn));

export function empty(...args: ShapeArgs<TensorOptions>): Tensor {
  const [shape, o] = splitShapeArgs<TensorOptions>(args, 'empty');
  return finish(wrap(EMPTY(shape, dt(o), null, dev(o, 'empty'))), o);
}

export function zeros(...args: ShapeArgs<TensorOptions>): Tensor {
  const [shape, o] = splitShapeArgs<TensorOptions>(args, 'zeros');
  return finish(wrap(ZEROS(shape, dt(o), null, dev(o, 'zeros'))), o);
}

export function ones(...args: ShapeArgs<TensorOptions>): Tensor {
  const [shape, o] = splitShapeArgs<TensorOptions>(args, 'ones');
  return finish(wrap(ONES(shape, dt(o), null, dev(o, 'ones'))), o);
}

/**
 * A tensor filled with `value`; like torch.full its dtype defaults to bool for booleans, int64 for
 * integers, else float32.
 */
export function full(shape: readonly number[], value: number | boolean, options: TensorOptions = {}): Tensor {
  checkShape(shape, 'full');
  const fallback: DType = typeof value === 'boolean' ? 'bool' : Number.isInteger(value) ? 'int64' : 'float32';
  return finish(wrap(FULL([...shape], value, dt(options, fallback), null, dev(options, 'full'))), options);
}

/** Standard normal samples. */
export function randn(...args: ShapeArgs<RandomOptions>): Tensor {
  const [shape, o] = splitShapeArgs<RandomOptions>(args, 'randn');
  return finish(wrap(RANDN(shape, o.generator ?? null, dt(o), null, dev(o, 'randn'))), o);
}

/** Uniform samples in [0, 1). */
export function rand(...args: ShapeArgs<RandomOptions>): Tensor {
  const [shape, o] = splitShapeArgs<RandomOptions>(args, 'rand');
  return finish(wrap(RAND(shape, o.generator ?? null, dt(o), null, dev(o, 'rand'))), o);
}

/**
 * Integers uniform in [low, high) (int64 unless `dtype` says otherwise): randint(low, high, shape) or,
 * with low = 0, randint(high, shape).
 */
export function randint(high: number, shape: readonly number[], options?: RandomOptions): Tensor;
export function randint(low: number, high: number, shape: readonly number[], options?: RandomOptions): Tensor;
export function randint(...args: unknown[]): Tensor {
  const [low, high, shape, options = {}] = (Array.isArray(args[1]) ? [0, ...args] : args) as [
    number,
    number,
    readonly number[],
    RandomOptions?,
  ];
  if (!Array.isArray(shape))
    throw new TypeError(`randint(): expected the shape as an array of integers, got ${String(shape)}`);
  if (!(high > low)) throw new RangeError(`randint(): expected low < high, got low=${low}, high=${high}`);
  checkShape(shape, 'randint');
  return finish(
    wrap(
      RANDINT(low, high, [...shape], options.generator ?? null, dt(options, 'int64'), null, dev(options, 'randint')),
    ),
    options,
  );
}

/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  return finish(
    wrap(RANDPERM(n, options.generator ?? null, dt(options, 'int64'), null, dev(options, 'randperm'))),
    options,
  );
}

/**
 * Values from start (inclusive) to end (exclusive) by step: arange(5), arange(1, 5), arange(0, 1, 0.25);
 * options may follow any of these (arange(5, { dtype: 'float32' })). As in PyTorch the dtype is int64
 * when all arguments are integers, else float32.
 */
export function arange(end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end: number, step: number, options?: TensorOptions): Tensor;
export function arange(...args: (number | TensorOptions | undefined)[]): Tensor {
  const last = args[args.length - 1];
  const options: TensorOptions = typeof last === 'object' ? last : {};
  const [first, second, step = 1] = (typeof last === 'object' ? args.slice(0, -1) : args) as (number | undefined)[];
  const [start, stop] = second === undefined ? [0, first] : [first, second];
  const integral = [start, stop, step].every(Number.isInteger);
  return finish(
    wrap(ARANGE(start, stop, step, dt(options, integral ? 'int64' : 'float32'), null, dev(options, 'arange'))),
    options,
  );
}

export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  return finish(wrap(LINSPACE(start, end, steps, dt(options), null, dev(options, 'linspace'))), options);
}

export function eye(n: number, m = n, options: TensorOptions = {}): Tensor {
  return finish(wrap(EYE(n, m, dt(options), null, dev(options, 'eye'))), options);
}

export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, device: t.device, ...options });
}

export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, device: t.device, ...options });
}

export function fullLike(t: Tensor, value: number | boolean, options: TensorOptions = {}): Tensor {
  return full(t.shape, value, { dtype: t.dtype, device: t.device, ...options });
}

export function emptyLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return empty(t.shape, { dtype: t.dtype, device: t.device, ...options });
}

export function randnLike(t: Tensor, options: RandomOptions = {}): Tensor {
  return randn(t.shape, { dtype: t.dtype, device: t.device, ...options });
}

export function randLike(t: Tensor, options: RandomOptions = {}): Tensor {
  return rand(t.shape, { dtype: t.dtype, device: t.device, ...options });
}

/** Integers uniform in [low, high) with t's shape, dtype and device: randintLike(t, high) or randintLike(t, low, high). */
export function randintLike(t: Tensor, lowOrHigh: number, high?: number, options: RandomOptions = {}): Tensor {
  const [low, hi] = high === undefined ? [0, lowOrHigh] : [lowOrHigh, high];
  return randint(low, hi, t.shape, { dtype: t.dtype, device: t.device, ...options });
}

// ---- tensor(data) ----

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[], depth: number, out: (number | boolean | bigint)[]): void {
  if (depth === shape.length) {
    if (Array.isArray(data))
      throw new TypeError('tensor(): nested arrays must be rectangular (found an extra level of nesting)');
    const kind = typeof data;
    if (kind !== 'number' && kind !== 'boolean' && kind !== 'bigint') {
      throw new TypeError(`tensor(): expected numbers or booleans, got ${kind}`);
    }
    out.push(data as number | boolean | bigint);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    const got = Array.isArray(data) ? `length ${data.length}` : typeof data;
    throw new TypeError(
      `tensor(): nested arrays must be rectangular: expected length ${shape[depth]} at depth ${depth}, got ${got}`,
    );
  }
  for (const item of data) flatten(item, shape, depth + 1, out);
}

function inferDType(values: readonly (number | boolean | bigint)[]): DType {
  if (values.length > 0 && values.every((v) => typeof v === 'boolean')) return 'bool';
  if (values.length > 0 && values.every((v) => typeof v === 'bigint' || Number.isInteger(v))) return 'int64';
  return 'float32';
}

/** The values each integer dtype holds: typed arrays wrap a value outside around silently, so it is refused. */
const INTEGER_RANGE: Partial<Record<DType, readonly [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  int8: [-128n, 127n],
  uint8: [0n, 255n],
};

const INFERRED_HINT = " (the dtype inferred from integer data); pass { dtype: 'float64' } for such values";

/**
 * `v` as an integer of `dtype`, refused when outside the dtype's range (numbers are truncated toward zero, as
 * torch.tensor does, except for int64, which takes integers only). `inferred`: no dtype was asked for.
 * Numbers are compared as numbers: the ranges' ends and max + 1 are exact doubles, and no BigInt is made.
 */
function integerOf(v: number | boolean | bigint, dtype: DType, inferred: boolean): number | bigint {
  const [min, max] = INTEGER_RANGE[dtype]!;
  if (typeof v === 'boolean') return Number(v);
  if (typeof v === 'number') {
    if (dtype === 'int64' && Number.isFinite(v) && !Number.isInteger(v)) {
      throw new TypeError(`tensor(): ${v} is not an integer, as dtype int64 needs`);
    }
    const n = Math.trunc(v);
    if (n >= Number(min) && n < Number(max) + 1) return n;
  } else if (v >= min && v <= max) {
    return v;
  }
  throw new RangeError(
    `tensor(): ${typeof v === 'bigint' ? `${v}n` : v} is outside the range of ${dtype}, ` +
      `[${min}, ${max}]${inferred ? INFERRED_HINT : ''}`,
  );
}

function toTypedArray(values: readonly (number | boolean | bigint)[], dtype: DType, inferred: boolean): AnyTypedArray {
  const nums = () => values.map((v) => Number(v));
  const ints = () => values.map((v) => Number(integerOf(v, dtype, inferred)));
  switch (dtype) {
    case 'float64':
      return Float64Array.from(nums());
    case 'int64':
      return BigInt64Array.from(values.map((v) => BigInt(integerOf(v, dtype, inferred))));
    case 'int32':
      return Int32Array.from(ints());
    case 'int16':
      return Int16Array.from(ints());
    case 'int8':
      return Int8Array.from(ints());
    case 'uint8':
      return Uint8Array.from(ints());
    case 'bool':
      return Uint8Array.from(values.map((v) => (v ? 1 : 0)));
    default:
      return Float32Array.from(nums());
  }
}

/**
 * A tensor holding a copy of `data`: nested arrays (shape inferred), a number or boolean (0-d), or a
 * typed array (1-d unless `options.shape` is given). Like torch.tensor, integer data gives int64,
 * booleans bool, other numbers float32, unless `options.dtype` says otherwise.
 */
export function tensor(
  data: NestedArray | AnyTypedArray,
  options: TensorOptions & { shape?: readonly number[] } = {},
): Tensor {
  let flat: AnyTypedArray;
  let shape: number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    flat = data;
    dtype = dtypeOfTypedArray(data);
    shape = options.shape ? [...options.shape] : [data.length];
  } else {
    shape = inferShape(data);
    const values: (number | boolean | bigint)[] = [];
    flatten(data, shape, 0, values);
    dtype = options.dtype ?? inferDType(values);
    flat = toTypedArray(values, dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype, !options.dtype);
    if (options.shape) shape = [...options.shape];
  }
  checkShape(shape, 'tensor');
  const storedAs = dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype;
  let t = wrap(native.fromBuffer(flat, shape, dtypeCode(storedAs)));
  const target = options.dtype ?? dtype;
  if (target !== storedAs) {
    const converted = t.to(target);
    t.dispose();
    t = converted;
  }
  if (options.device && options.device !== 'cpu') {
    const moved = wrap(TO_DEVICE(t, checkDevice(options.device, 'tensor'), dtypeCode(target)));
    t.dispose();
    t = moved;
  }
  return finish(t, options);
}
