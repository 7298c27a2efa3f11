// The Tensor class: a JS object owning one libtorch tensor handle, with PyTorch's method names.
// Methods delegate to the operator modules in ./ops; this file holds identity, metadata, data access,
// autograd accessors and disposal.
import { inspect } from 'node:util';
import { native, type Handle } from './native.js';
import {
  type DType,
  type AnyTypedArray,
  DTYPES,
  dtypeCode,
  dtypeFromCode,
  isDType,
  isFloatingPoint,
  typedArrayView,
} from './dtype.js';
import { SCOPED, track, guardWithGc, type ScopedValue } from './memory.js';
import { checkDevice, isDeviceName } from './device.js';
import * as math from './ops/math.js';
import * as shapeOps from './ops/shape.js';
import * as red from './ops/reduction.js';
import * as linalg from './ops/linalg.js';
import { defineOp } from './ops/dispatch.js';
import { formatTensor } from './format.js';
import type { Generator } from './random.js';

type Operand = Tensor | number;

export type NestedNumbers = number | boolean | NestedNumbers[];

const TO_DTYPE = defineOp('aten::to.dtype(self, dtype, non_blocking, copy, memory_format)');
const TO_DEVICE = defineOp('aten::to.device(self, device, dtype, non_blocking, copy, memory_format)');
const DETACH = defineOp('aten::detach(self)');
const DETACH_ = defineOp('aten::detach_(self)');
const SET_DATA = defineOp('aten::set_data(self, new_data)');
const ITEM = defineOp('aten::item(self)');
const SOFTMAX = defineOp('aten::softmax.int(self, dim, dtype)');
const LOG_SOFTMAX = defineOp('aten::log_softmax.int(self, dim, dtype)');

export interface ToOptions {
  dtype?: DType;
  device?: string;
  memoryFormat?: shapeOps.MemoryFormat;
  /** Always return a copy, even when nothing changes. */
  copy?: boolean;
}

export class Tensor implements ScopedValue {
  /** @internal The native handle; valid until `dispose()`. */
  _h: Handle;
  private disposed = false;
  private isKept = false;

  /** @internal Tensors are made by senet's functions (tensor(), zeros(), ops); this wraps a native handle. */
  constructor(handle: Handle) {
    this._h = handle;
    track(this);
  }

  // ---- lifetime ----

  /** True when no scope may dispose this tensor (see `keep`); such tensors fall under the GC safety net. */
  get kept(): boolean {
    return this.isKept;
  }

  set kept(value: boolean) {
    if (value && !this.isKept) guardWithGc(this);
    this.isKept = value;
  }

  /** Frees the native tensor now (idempotent). Views and other wrappers of the same data stay valid. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    native.free(this._h);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  // ---- metadata ----

  get shape(): number[] {
    return native.shape(this._h);
  }

  /** The size of one dimension, or the whole shape. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number | number[] {
    const shape = native.shape(this._h);
    if (dim === undefined) return shape;
    const d = dim < 0 ? dim + shape.length : dim;
    if (d < 0 || d >= shape.length) {
      throw new RangeError(`size(): dimension ${dim} is out of range for a ${shape.length}-d tensor`);
    }
    return shape[d];
  }

  get ndim(): number {
    return native.shape(this._h).length;
  }

  dim(): number {
    return this.ndim;
  }

  numel(): number {
    return native.numel(this._h);
  }

  get dtype(): DType {
    return dtypeFromCode(native.dtype(this._h));
  }

  get device(): string {
    return native.device(this._h);
  }

  stride(): number[] {
    return native.strides(this._h);
  }

  isContiguous(memoryFormat: shapeOps.MemoryFormat = 'contiguous'): boolean {
    return native.isContiguous(this._h, shapeOps.memoryFormatCode(memoryFormat));
  }

  isFloatingPoint(): boolean {
    return isFloatingPoint(this.dtype);
  }

  // ---- data ----

  /** A copy of the elements in row-major order (float16/bfloat16 are widened to Float32Array, bool is 0/1). */
  data(): AnyTypedArray {
    const dtype = this.dtype;
    if (dtype === 'float16' || dtype === 'bfloat16') {
      const wide = this.to('float32');
      try {
        return wide.data();
      } finally {
        wide.dispose();
      }
    }
    return typedArrayView(native.toBuffer(this._h), dtype);
  }

  /** The elements as nested JS arrays (numbers; booleans for bool tensors); a 0-d tensor gives a number. */
  toArray(): NestedNumbers {
    const flat = this.data();
    const isBool = this.dtype === 'bool';
    const values: (number | boolean)[] = Array.from(flat as ArrayLike<number | bigint>, (v) =>
      isBool ? v !== 0 : Number(v),
    );
    const shape = this.shape;
    if (shape.length === 0) return values[0];
    const build = (dim: number, offset: number): NestedNumbers[] => {
      const n = shape[dim];
      if (dim === shape.length - 1) return values.slice(offset, offset + n);
      const step = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: n }, (_, i) => build(dim + 1, offset + i * step));
    };
    return build(0, 0);
  }

  /** PyTorch's name for toArray(). */
  tolist(): NestedNumbers {
    return this.toArray();
  }

  /** The value of a one-element tensor as a JS number (booleans give 1 or 0). */
  item(): number {
    const n = this.numel();
    if (n !== 1)
      throw new RangeError(`item(): the tensor has ${n} elements; only one-element tensors convert to a number`);
    return Number(ITEM(this._h));
  }

  // ---- conversion ----

  /** Converts dtype and/or device: x.to('float64'), x.to('cuda'), x.to({ dtype, device, memoryFormat }). */
  to(target: DType | string | ToOptions): Tensor {
    const c = conversionOf(this, target, 'to');
    const result =
      c.device !== null
        ? TO_DEVICE(this._h, c.device, c.dtype, false, c.copy, c.memoryFormat)
        : TO_DTYPE(this._h, c.dtype, false, c.copy, c.memoryFormat);
    return new Tensor(result as Handle);
  }

  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  half(): Tensor {
    return this.to('float16');
  }
  bfloat16(): Tensor {
    return this.to('bfloat16');
  }
  long(): Tensor {
    return this.to('int64');
  }
  int(): Tensor {
    return this.to('int32');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  cpu(): Tensor {
    return this.to({ device: 'cpu' });
  }
  cuda(index = 0): Tensor {
    return this.to({ device: `cuda:${index}` });
  }
  typeAs(other: Tensor): Tensor {
    return this.to(other.dtype);
  }

  // ---- autograd ----

  get requiresGrad(): boolean {
    return native.requiresGrad(this._h);
  }

  set requiresGrad(value: boolean) {
    native.setRequiresGrad(this._h, value);
  }

  requiresGrad_(value = true): this {
    native.setRequiresGrad(this._h, value);
    return this;
  }

  /** The accumulated gradient (a new wrapper of the same data each time), or null. */
  get grad(): Tensor | null {
    const h = native.grad(this._h);
    return h ? new Tensor(h) : null;
  }

  set grad(value: Tensor | null) {
    native.setGrad(this._h, value ? value._h : null);
  }

  get isLeaf(): boolean {
    return native.isLeaf(this._h);
  }

  /** The name of the autograd node that made this tensor (e.g. 'AddBackward0'), or null for leaves. */
  get gradFn(): string | null {
    return native.gradFn(this._h);
  }

  retainGrad(): this {
    native.retainGrad(this._h);
    return this;
  }

  /** Computes gradients of this tensor (a scalar unless `gradient` is given) into the leaves' `.grad`. */
  backward(gradient?: Tensor, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward([this._h], gradient ? [gradient._h] : null, options.retainGraph, options.createGraph ?? false);
  }

  /** The same data, cut from the autograd graph. */
  detach(): Tensor {
    return new Tensor(DETACH(this._h) as Handle);
  }

  detach_(): this {
    DETACH_(this._h);
    return this;
  }

  /** Points this tensor at other's data, keeping its identity (PyTorch's `param.data = other`). */
  setData_(other: Tensor): this {
    SET_DATA(this._h, other._h);
    return this;
  }

  // ---- arithmetic ----

  add(other: Operand, alpha = 1): Tensor {
    return math.add(this, other, alpha);
  }
  sub(other: Operand, alpha = 1): Tensor {
    return math.sub(this, other, alpha);
  }
  mul(other: Operand): Tensor {
    return math.mul(this, other);
  }
  div(other: Operand): Tensor {
    return math.div(this, other);
  }
  pow(exponent: Operand): Tensor {
    return math.pow(this, exponent);
  }
  neg(): Tensor {
    return math.neg(this);
  }
  abs(): Tensor {
    return math.abs(this);
  }
  sign(): Tensor {
    return math.sign(this);
  }
  sqrt(): Tensor {
    return math.sqrt(this);
  }
  rsqrt(): Tensor {
    return math.rsqrt(this);
  }
  square(): Tensor {
    return math.square(this);
  }
  reciprocal(): Tensor {
    return math.reciprocal(this);
  }
  exp(): Tensor {
    return math.exp(this);
  }
  log(): Tensor {
    return math.log(this);
  }
  log1p(): Tensor {
    return math.log1p(this);
  }
  sin(): Tensor {
    return math.sin(this);
  }
  cos(): Tensor {
    return math.cos(this);
  }
  tanh(): Tensor {
    return math.tanh(this);
  }
  sigmoid(): Tensor {
    return math.sigmoid(this);
  }
  relu(): Tensor {
    return math.relu(this);
  }
  floor(): Tensor {
    return math.floor(this);
  }
  ceil(): Tensor {
    return math.ceil(this);
  }
  round(): Tensor {
    return math.round(this);
  }
  maximum(other: Tensor): Tensor {
    return math.maximum(this, other);
  }
  minimum(other: Tensor): Tensor {
    return math.minimum(this, other);
  }
  clamp(min: number | null = null, max: number | null = null): Tensor {
    return math.clamp(this, min, max);
  }
  lerp(end: Tensor, weight: Operand): Tensor {
    return math.lerp(this, end, weight);
  }
  addcmul(t1: Tensor, t2: Tensor, value = 1): Tensor {
    return math.addcmul(this, t1, t2, value);
  }
  addcdiv(t1: Tensor, t2: Tensor, value = 1): Tensor {
    return math.addcdiv(this, t1, t2, value);
  }
  /** PyTorch's x.where(condition, y): x where condition holds, else y. */
  where(condition: Tensor, other: Operand): Tensor {
    return math.where(condition, this, other);
  }
  softmax(dim: number): Tensor {
    return new Tensor(SOFTMAX(this._h, dim, null) as Handle);
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(LOG_SOFTMAX(this._h, dim, null) as Handle);
  }

  eq(other: Operand | boolean): Tensor {
    return math.eq(this, other);
  }
  ne(other: Operand | boolean): Tensor {
    return math.ne(this, other);
  }
  lt(other: Operand): Tensor {
    return math.lt(this, other);
  }
  le(other: Operand): Tensor {
    return math.le(this, other);
  }
  gt(other: Operand): Tensor {
    return math.gt(this, other);
  }
  ge(other: Operand): Tensor {
    return math.ge(this, other);
  }
  logicalNot(): Tensor {
    return math.logicalNot(this);
  }
  logicalAnd(other: Tensor): Tensor {
    return math.logicalAnd(this, other);
  }
  logicalOr(other: Tensor): Tensor {
    return math.logicalOr(this, other);
  }
  isnan(): Tensor {
    return math.isnan(this);
  }
  isinf(): Tensor {
    return math.isinf(this);
  }
  isfinite(): Tensor {
    return math.isfinite(this);
  }
  allclose(other: Tensor, rtol = 1e-5, atol = 1e-8): boolean {
    return math.allclose(this, other, rtol, atol);
  }
  equal(other: Tensor): boolean {
    return math.equal(this, other);
  }

  // ---- in place (the optimizers' tools) ----

  add_(other: Operand, alpha = 1): this {
    math.add_(this, other, alpha);
    return this;
  }
  sub_(other: Operand, alpha = 1): this {
    math.sub_(this, other, alpha);
    return this;
  }
  mul_(other: Operand): this {
    math.mul_(this, other);
    return this;
  }
  div_(other: Operand): this {
    math.div_(this, other);
    return this;
  }
  pow_(exponent: Operand): this {
    math.pow_(this, exponent);
    return this;
  }
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this {
    math.addcmul_(this, t1, t2, value);
    return this;
  }
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this {
    math.addcdiv_(this, t1, t2, value);
    return this;
  }
  lerp_(end: Tensor, weight: Operand): this {
    math.lerp_(this, end, weight);
    return this;
  }
  clamp_(min: number | null = null, max: number | null = null): this {
    math.clamp_(this, min, max);
    return this;
  }
  neg_(): this {
    math.neg_(this);
    return this;
  }
  sqrt_(): this {
    math.sqrt_(this);
    return this;
  }
  exp_(): this {
    math.exp_(this);
    return this;
  }
  relu_(): this {
    math.relu_(this);
    return this;
  }
  sigmoid_(): this {
    math.sigmoid_(this);
    return this;
  }
  zero_(): this {
    math.zero_(this);
    return this;
  }
  fill_(value: number | boolean): this {
    math.fill_(this, value);
    return this;
  }
  copy_(src: Tensor): this {
    math.copy_(this, src);
    return this;
  }
  maskedFill_(mask: Tensor, value: number | boolean): this {
    math.maskedFill_(this, mask, value);
    return this;
  }
  uniform_(from = 0, to = 1, generator?: Generator): this {
    math.uniform_(this, from, to, generator);
    return this;
  }
  normal_(mean = 0, std = 1, generator?: Generator): this {
    math.normal_(this, mean, std, generator);
    return this;
  }

  // ---- reductions ----

  sum(dim?: red.Dims, keepdim = false, dtype?: DType): Tensor {
    return red.sum(this, dim, keepdim, dtype);
  }
  mean(dim?: red.Dims, keepdim = false, dtype?: DType): Tensor {
    return red.mean(this, dim, keepdim, dtype);
  }
  prod(dim?: number, keepdim = false): Tensor {
    return red.prod(this, dim, keepdim);
  }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): red.ValuesIndices;
  max(dim?: number, keepdim = false): Tensor | red.ValuesIndices {
    return dim === undefined ? red.max(this) : red.max(this, dim, keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): red.ValuesIndices;
  min(dim?: number, keepdim = false): Tensor | red.ValuesIndices {
    return dim === undefined ? red.min(this) : red.min(this, dim, keepdim);
  }
  amax(dim: red.Dims = [], keepdim = false): Tensor {
    return red.amax(this, dim, keepdim);
  }
  amin(dim: red.Dims = [], keepdim = false): Tensor {
    return red.amin(this, dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return red.argmax(this, dim, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return red.argmin(this, dim, keepdim);
  }
  std(dim?: red.Dims, correction: red.Correction = 1, keepdim = false): Tensor {
    return red.std(this, dim, correction, keepdim);
  }
  var(dim?: red.Dims, correction: red.Correction = 1, keepdim = false): Tensor {
    return red.variance(this, dim, correction, keepdim);
  }
  all(dim?: number, keepdim = false): Tensor {
    return red.all(this, dim, keepdim);
  }
  any(dim?: number, keepdim = false): Tensor {
    return red.any(this, dim, keepdim);
  }
  norm(p = 2, dim?: red.Dims, keepdim = false): Tensor {
    return red.norm(this, p, dim, keepdim);
  }
  logsumexp(dim: red.Dims, keepdim = false): Tensor {
    return red.logsumexp(this, dim, keepdim);
  }
  cumsum(dim: number): Tensor {
    return red.cumsum(this, dim);
  }
  topk(k: number, dim = -1, largest = true, sorted = true): red.ValuesIndices {
    return red.topk(this, k, dim, largest, sorted);
  }
  sort(dim = -1, descending = false): red.ValuesIndices {
    return red.sort(this, dim, descending);
  }
  bincount(weights?: Tensor | null, minlength = 0): Tensor {
    return red.bincount(this, weights, minlength);
  }

  // ---- linear algebra ----

  matmul(other: Tensor): Tensor {
    return linalg.matmul(this, other);
  }
  mm(other: Tensor): Tensor {
    return linalg.mm(this, other);
  }
  bmm(other: Tensor): Tensor {
    return linalg.bmm(this, other);
  }

  // ---- shape ----

  reshape(...shape: (number | readonly number[])[]): Tensor {
    return shapeOps.reshape(this, shapeOps.dimsOf(shape));
  }
  view(...shape: (number | readonly number[])[]): Tensor {
    return shapeOps.view(this, shapeOps.dimsOf(shape));
  }
  viewAs(other: Tensor): Tensor {
    return shapeOps.view(this, other.shape);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return shapeOps.flatten(this, startDim, endDim);
  }
  unflatten(dim: number, sizes: readonly number[]): Tensor {
    return shapeOps.unflatten(this, dim, sizes);
  }
  permute(...dims: (number | readonly number[])[]): Tensor {
    return shapeOps.permute(this, shapeOps.dimsOf(dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return shapeOps.transpose(this, dim0, dim1);
  }
  /** Transpose of a 2-D tensor (tensors of fewer dimensions are returned as they are). */
  t(): Tensor {
    return shapeOps.t(this);
  }
  contiguous(memoryFormat: shapeOps.MemoryFormat = 'contiguous'): Tensor {
    return shapeOps.contiguous(this, memoryFormat);
  }
  squeeze(dim?: number): Tensor {
    return shapeOps.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return shapeOps.unsqueeze(this, dim);
  }
  expand(...shape: (number | readonly number[])[]): Tensor {
    return shapeOps.expand(this, shapeOps.dimsOf(shape));
  }
  expandAs(other: Tensor): Tensor {
    return shapeOps.expand(this, other.shape);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return shapeOps.narrow(this, dim, start, length);
  }
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return shapeOps.slice(this, dim, start, end, step);
  }
  select(dim: number, index: number): Tensor {
    return shapeOps.select(this, dim, index);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return shapeOps.indexSelect(this, dim, index);
  }
  index(indices: readonly (Tensor | null)[]): Tensor {
    return shapeOps.index(this, indices);
  }
  gather(dim: number, index: Tensor): Tensor {
    return shapeOps.gather(this, dim, index);
  }
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    return shapeOps.scatter(this, dim, index, src);
  }
  split(sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
    return shapeOps.split(this, sizeOrSections, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return shapeOps.chunk(this, chunks, dim);
  }
  flip(...dims: (number | readonly number[])[]): Tensor {
    return shapeOps.flip(this, shapeOps.dimsOf(dims));
  }
  roll(shifts: number | readonly number[], dims: number | readonly number[] = []): Tensor {
    return shapeOps.roll(
      this,
      typeof shifts === 'number' ? [shifts] : shifts,
      typeof dims === 'number' ? [dims] : dims,
    );
  }
  repeat(...repeats: (number | readonly number[])[]): Tensor {
    return shapeOps.repeat(this, shapeOps.dimsOf(repeats));
  }
  clone(memoryFormat: shapeOps.MemoryFormat = 'preserve'): Tensor {
    return shapeOps.clone(this, memoryFormat);
  }
  maskedFill(mask: Tensor, value: number | boolean): Tensor {
    return shapeOps.maskedFill(this, mask, value);
  }
  /** The elements where the bool `mask` is true, as a 1-D tensor. */
  maskedSelect(mask: Tensor): Tensor {
    return shapeOps.maskedSelect(this, mask);
  }

  // ---- printing ----

  /**
   * The values as PyTorch prints them (summarised beyond 1000 elements), then shape and dtype, and the
   * autograd state when there is one: `tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32)`.
   * Used by String(x), template strings and console.log (util.inspect).
   */
  toString(): string {
    if (this.disposed) return 'tensor(<disposed>)';
    return formatTensor(this);
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** What x.to(target) asks libtorch for: aten::to.device when `device` is set, aten::to.dtype otherwise. */
export interface Conversion {
  device: string | null;
  dtype: number;
  copy: boolean;
  memoryFormat: number | null;
}

/** Reads to()'s target (a dtype, a device, or options), refusing anything else with one clear error. */
export function conversionOf(x: Tensor, target: DType | string | ToOptions, fn: string): Conversion {
  if (typeof target === 'string' && !isDType(target) && !isDeviceName(target)) {
    throw new TypeError(
      `${fn}(): '${target}' is neither a dtype (${DTYPES.join(', ')}) nor a device ('cpu', 'cuda', 'cuda:1', ...)`,
    );
  }
  const o: ToOptions = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: target }) : target;
  return {
    device: o.device ? checkDevice(o.device, fn) : null,
    dtype: dtypeCode(o.dtype ?? x.dtype),
    copy: o.copy ?? false,
    memoryFormat: o.memoryFormat ? shapeOps.memoryFormatCode(o.memoryFormat) : null,
  };
}

// Scopes recognise tensors inside returned values by this mark.
Object.defineProperty(Tensor.prototype, SCOPED, { value: true });
