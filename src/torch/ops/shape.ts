// Views, reshapes, joins, splits and indexing.
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { defineOp, wrap, wrapList } from './dispatch.js';

const RESHAPE = defineOp('aten::reshape(self, shape)');
const VIEW = defineOp('aten::view(self, size)');
const FLATTEN = defineOp('aten::flatten.using_ints(self, start_dim, end_dim)');
const UNFLATTEN = defineOp('aten::unflatten.int(self, dim, sizes)');
const PERMUTE = defineOp('aten::permute(self, dims)');
const TRANSPOSE = defineOp('aten::transpose.int(self, dim0, dim1)');
const T = defineOp('aten::t(self)');
const CONTIGUOUS = defineOp('aten::contiguous(self, memory_format)');
const SQUEEZE = defineOp('aten::squeeze(self)');
const SQUEEZE_DIM = defineOp('aten::squeeze.dim(self, dim)');
const UNSQUEEZE = defineOp('aten::unsqueeze(self, dim)');
const EXPAND = defineOp('aten::expand(self, size, implicit)');
const NARROW = defineOp('aten::narrow(self, dim, start, length)');
const SLICE = defineOp('aten::slice.Tensor(self, dim, start, end, step)');
const SELECT = defineOp('aten::select.int(self, dim, index)');
const INDEX_SELECT = defineOp('aten::index_select(self, dim, index)');
const INDEX = defineOp('aten::index.Tensor(self, indices)');
const GATHER = defineOp('aten::gather(self, dim, index, sparse_grad)');
const SCATTER = defineOp('aten::scatter.src(self, dim, index, src)');
const SCATTER_VALUE = defineOp('aten::scatter.value(self, dim, index, value)');
const CAT = defineOp('aten::cat(tensors, dim)');
const STACK = defineOp('aten::stack(tensors, dim)');
const SPLIT = defineOp('aten::split.Tensor(self, split_size, dim)');
const SPLIT_SIZES = defineOp('aten::split_with_sizes(self, split_sizes, dim)');
const CHUNK = defineOp('aten::chunk(self, chunks, dim)');
const FLIP = defineOp('aten::flip(self, dims)');
const ROLL = defineOp('aten::roll(self, shifts, dims)');
const REPEAT = defineOp('aten::repeat(self, repeats)');
const CLONE = defineOp('aten::clone(self, memory_format)');
const MASKED_FILL = defineOp('aten::masked_fill.Scalar(self, mask, value)');
const MASKED_SELECT = defineOp('aten::masked_select(self, mask)');

/** Accepts dims as one array or as separate numbers: x.view([2, 3]) or x.view(2, 3). */
export function dimsOf(args: readonly (number | readonly number[])[]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as number[])] : [...(args as number[])];
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return wrap(RESHAPE(x, [...shape]));
}

export function view(x: Tensor, shape: readonly number[]): Tensor {
  return wrap(VIEW(x, [...shape]));
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  return wrap(FLATTEN(x, startDim, endDim));
}

export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  return wrap(UNFLATTEN(x, dim, [...sizes]));
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  return wrap(PERMUTE(x, [...dims]));
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  return wrap(TRANSPOSE(x, dim0, dim1));
}

/** The transpose of a matrix; tensors of fewer than 2 dimensions are returned as they are (torch.t). */
export function t(x: Tensor): Tensor {
  return wrap(T(x));
}

export type MemoryFormat = 'contiguous' | 'channelsLast' | 'preserve';

export function contiguous(x: Tensor, memoryFormat: MemoryFormat = 'contiguous'): Tensor {
  return wrap(CONTIGUOUS(x, memoryFormatCode(memoryFormat)));
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  return wrap(dim === undefined ? SQUEEZE(x) : SQUEEZE_DIM(x, dim));
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  return wrap(UNSQUEEZE(x, dim));
}

/** Broadcasts to `shape` without copying; -1 keeps a dimension's size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  return wrap(EXPAND(x, [...shape]));
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  return wrap(NARROW(x, dim, start, length));
}

/** x[start:end:step] along `dim` (a view); omitted ends mean the whole range, negatives count from the end. */
export function slice(x: Tensor, dim: number, start?: number, end?: number, step = 1): Tensor {
  return wrap(SLICE(x, dim, start ?? null, end ?? null, step));
}

/** x.select(dim, i): the i-th entry along `dim`, that dimension removed. */
export function select(x: Tensor, dim: number, index: number): Tensor {
  return wrap(SELECT(x, dim, index));
}

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  return wrap(INDEX_SELECT(x, dim, index));
}

/** Advanced indexing x[i0, i1, ...] with index tensors (null leaves that dimension whole). */
export function index(x: Tensor, indices: readonly (Tensor | null)[]): Tensor {
  return wrap(INDEX(x, indices));
}

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  return wrap(GATHER(x, dim, index));
}

/** A copy of x with src's values (or one number) written at `index` along `dim`. */
export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  return wrap(typeof src === 'number' ? SCATTER_VALUE(x, dim, index, src) : SCATTER(x, dim, index, src));
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return wrap(CAT(tensors, dim));
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  return wrap(STACK(tensors, dim));
}

/** Splits into chunks of `size` (the last may be smaller), or into pieces of the listed sizes. */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  return wrapList(
    typeof sizeOrSections === 'number' ? SPLIT(x, sizeOrSections, dim) : SPLIT_SIZES(x, [...sizeOrSections], dim),
  );
}

export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  return wrapList(CHUNK(x, chunks, dim));
}

export function flip(x: Tensor, dims: readonly number[]): Tensor {
  return wrap(FLIP(x, [...dims]));
}

/** Rotates elements along `dims` by `shifts`; without dims, the flattened tensor is rolled and reshaped back. */
export function roll(x: Tensor, shifts: readonly number[], dims: readonly number[] = []): Tensor {
  return wrap(ROLL(x, [...shifts], [...dims]));
}

export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  return wrap(REPEAT(x, [...repeats]));
}

export function clone(x: Tensor, memoryFormat: MemoryFormat = 'preserve'): Tensor {
  return wrap(CLONE(x, memoryFormatCode(memoryFormat)));
}

export function maskedFill(x: Tensor, mask: Tensor, value: number | boolean): Tensor {
  return wrap(MASKED_FILL(x, mask, value));
}

/** The elements of x where the bool `mask` (broadcast with x) is true, as a 1-D tensor (torch.masked_select). */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  // libtorch 1.13 still takes uint8 masks (with a deprecation warning on stderr); PyTorch's current rule is bool.
  const dtype = (mask as { dtype?: unknown } | null)?.dtype;
  if (dtype !== 'bool') {
    throw new TypeError(
      `maskedSelect(): mask must be a bool tensor (such as x.gt(0)), got ${dtype ? `a ${dtype} tensor` : String(mask)}`,
    );
  }
  return wrap(MASKED_SELECT(x, mask));
}

export function memoryFormatCode(format: MemoryFormat): number {
  const code = native.memoryFormats[format];
  if (code === undefined)
    throw new TypeError(`unknown memory format '${format}': expected contiguous, channelsLast or preserve`);
  return code;
}
