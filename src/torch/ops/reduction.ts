// Reductions over all elements or chosen dimensions.
import { type DType, dtypeCode } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { defineOp, wrap, wrapList } from './dispatch.js';

export type Dims = number | readonly number[];
const dimList = (dim: Dims) => (typeof dim === 'number' ? [dim] : [...dim]);

/** The values and their positions, as PyTorch's (values, indices) named tuple. */
export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

function valuesIndices(result: unknown): ValuesIndices {
  const [values, indices] = wrapList(result as never);
  return { values, indices };
}

const SUM = defineOp('aten::sum(self, dtype)');
const SUM_DIM = defineOp('aten::sum.dim_IntList(self, dim, keepdim, dtype)');
const MEAN = defineOp('aten::mean(self, dtype)');
const MEAN_DIM = defineOp('aten::mean.dim(self, dim, keepdim, dtype)');
const PROD = defineOp('aten::prod(self, dtype)');
const PROD_DIM = defineOp('aten::prod.dim_int(self, dim, keepdim, dtype)');
const MAX = defineOp('aten::max(self)');
const MAX_DIM = defineOp('aten::max.dim(self, dim, keepdim)');
const MIN = defineOp('aten::min(self)');
const MIN_DIM = defineOp('aten::min.dim(self, dim, keepdim)');
const AMAX = defineOp('aten::amax(self, dim, keepdim)');
const AMIN = defineOp('aten::amin(self, dim, keepdim)');
const ARGMAX = defineOp('aten::argmax(self, dim, keepdim)');
const ARGMIN = defineOp('aten::argmin(self, dim, keepdim)');
const STD = defineOp('aten::std.correction(self, dim, correction, keepdim)');
const VAR = defineOp('aten::var.correction(self, dim, correction, keepdim)');
const ALL = defineOp('aten::all(self)');
const ALL_DIM = defineOp('aten::all.dim(self, dim, keepdim)');
const ANY = defineOp('aten::any(self)');
const ANY_DIM = defineOp('aten::any.dim(self, dim, keepdim)');
const NORM = defineOp('aten::norm.ScalarOpt_dim(self, p, dim, keepdim)');
const NORM_ALL = defineOp('aten::norm.Scalar(self, p)');
const LOGSUMEXP = defineOp('aten::logsumexp(self, dim, keepdim)');
const CUMSUM = defineOp('aten::cumsum(self, dim, dtype)');
const TOPK = defineOp('aten::topk(self, k, dim, largest, sorted)');
const SORT = defineOp('aten::sort(self, dim, descending)');
const BINCOUNT = defineOp('aten::bincount(self, weights, minlength)');

const code = (dtype?: DType) => (dtype ? dtypeCode(dtype) : null);

/** Sum of all elements, or over `dim` (one or several). */
export function sum(x: Tensor, dim?: Dims, keepdim = false, dtype?: DType): Tensor {
  return wrap(dim === undefined ? SUM(x, code(dtype)) : SUM_DIM(x, dimList(dim), keepdim, code(dtype)));
}

export function mean(x: Tensor, dim?: Dims, keepdim = false, dtype?: DType): Tensor {
  return wrap(dim === undefined ? MEAN(x, code(dtype)) : MEAN_DIM(x, dimList(dim), keepdim, code(dtype)));
}

export function prod(x: Tensor, dim?: number, keepdim = false): Tensor {
  return wrap(dim === undefined ? PROD(x) : PROD_DIM(x, dim, keepdim));
}

/** The largest element; with `dim`, the largest values along it and where they are. */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? wrap(MAX(x)) : valuesIndices(MAX_DIM(x, dim, keepdim));
}

export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? wrap(MIN(x)) : valuesIndices(MIN_DIM(x, dim, keepdim));
}

/** The largest values over `dim` (one or several; all dimensions without it), without their positions (torch.amax). */
export function amax(x: Tensor, dim: Dims = [], keepdim = false): Tensor {
  return wrap(AMAX(x, dimList(dim), keepdim));
}

export function amin(x: Tensor, dim: Dims = [], keepdim = false): Tensor {
  return wrap(AMIN(x, dimList(dim), keepdim));
}

/** Index of the largest element (of the flattened tensor without `dim`). */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  return wrap(ARGMAX(x, dim ?? null, keepdim));
}

export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return wrap(ARGMIN(x, dim ?? null, keepdim));
}

/**
 * How many degrees of freedom std/var subtract: a number is PyTorch's `correction`, a boolean its older
 * `unbiased` flag (true = 1, false = 0).
 */
export type Correction = number | boolean;
const correctionOf = (c: Correction) => (typeof c === 'boolean' ? Number(c) : c);

/** Standard deviation; `correction` 1 (default) is the unbiased estimate, 0 the population one. */
export function std(x: Tensor, dim?: Dims, correction: Correction = 1, keepdim = false): Tensor {
  return wrap(STD(x, dim === undefined ? null : dimList(dim), correctionOf(correction), keepdim));
}

export function variance(x: Tensor, dim?: Dims, correction: Correction = 1, keepdim = false): Tensor {
  return wrap(VAR(x, dim === undefined ? null : dimList(dim), correctionOf(correction), keepdim));
}

export function all(x: Tensor, dim?: number, keepdim = false): Tensor {
  return wrap(dim === undefined ? ALL(x) : ALL_DIM(x, dim, keepdim));
}

export function any(x: Tensor, dim?: number, keepdim = false): Tensor {
  return wrap(dim === undefined ? ANY(x) : ANY_DIM(x, dim, keepdim));
}

/** The p-norm of all elements or along `dim`. */
export function norm(x: Tensor, p = 2, dim?: Dims, keepdim = false): Tensor {
  return wrap(dim === undefined ? NORM_ALL(x, p) : NORM(x, p, dimList(dim), keepdim));
}

export function logsumexp(x: Tensor, dim: Dims, keepdim = false): Tensor {
  return wrap(LOGSUMEXP(x, dimList(dim), keepdim));
}

export function cumsum(x: Tensor, dim: number, dtype?: DType): Tensor {
  return wrap(CUMSUM(x, dim, code(dtype)));
}

/** The k largest (or smallest) entries along `dim`, with their indices. */
export function topk(x: Tensor, k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
  return valuesIndices(TOPK(x, k, dim, largest, sorted));
}

export function sort(x: Tensor, dim = -1, descending = false): ValuesIndices {
  return valuesIndices(SORT(x, dim, descending));
}

/**
 * How often each value occurs in a 1-D tensor of non-negative integers: entry i counts the i's (or sums
 * their `weights`), with at least `minlength` entries (torch.bincount).
 */
export function bincount(x: Tensor, weights?: Tensor | null, minlength = 0): Tensor {
  return wrap(BINCOUNT(x, weights ?? null, minlength));
}
