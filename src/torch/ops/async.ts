// torch.async: the same operators as torch.* and F.*, run by libtorch on a background thread (libuv's
// pool) and delivered as promises, so that the event loop, and the training step on the main thread,
// go on meanwhile. The data loader prepares its next batches with them. Each background op uses
// setNumThreads() intra-op threads (1 by default), so that it does not compete with the main thread's work.
import { native } from '../native.js';
import { checkThreadCount } from '../threads.js';
import type { DType } from '../dtype.js';
import { type Tensor, conversionOf, type ToOptions } from '../tensor.js';
import { padArguments, type PadMode } from '../functional/padding.js';
import { defineAsyncOp, wrap } from './dispatch.js';

/** Intra-op threads per background op unless setNumThreads says otherwise. */
export const DEFAULT_ASYNC_OP_THREADS = 1;

const SUB_T = defineAsyncOp('aten::sub.Tensor(self, other, alpha)');
const SUB_S = defineAsyncOp('aten::sub.Scalar(self, other, alpha)');
const DIV_T = defineAsyncOp('aten::div.Tensor(self, other)');
const DIV_S = defineAsyncOp('aten::div.Scalar(self, other)');
const SUB_T_ = defineAsyncOp('aten::sub_.Tensor(self, other, alpha)');
const SUB_S_ = defineAsyncOp('aten::sub_.Scalar(self, other, alpha)');
const DIV_T_ = defineAsyncOp('aten::div_.Tensor(self, other)');
const DIV_S_ = defineAsyncOp('aten::div_.Scalar(self, other)');
const INDEX_SELECT = defineAsyncOp('aten::index_select(self, dim, index)');
const INDEX = defineAsyncOp('aten::index.Tensor(self, indices)');
const PAD = defineAsyncOp('aten::pad(self, pad, mode, value)');
const TO_DTYPE = defineAsyncOp('aten::to.dtype(self, dtype, non_blocking, copy, memory_format)');
const TO_DEVICE = defineAsyncOp('aten::to.device(self, device, dtype, non_blocking, copy, memory_format)');

type Operand = Tensor | number;

/** a - alpha * b (torch.sub). */
export async function sub(a: Tensor, b: Operand, alpha = 1): Promise<Tensor> {
  return wrap(await (typeof b === 'number' ? SUB_S(a, b, alpha) : SUB_T(a, b, alpha)));
}

/** a / b, true division: integer tensors give float32 (torch.div). */
export async function div(a: Tensor, b: Operand): Promise<Tensor> {
  return wrap(await (typeof b === 'number' ? DIV_S(a, b) : DIV_T(a, b)));
}

/** a.sub_(b, alpha): updates `a` and resolves to it. */
export async function sub_(a: Tensor, b: Operand, alpha = 1): Promise<Tensor> {
  await (typeof b === 'number' ? SUB_S_(a, b, alpha) : SUB_T_(a, b, alpha));
  return a;
}

/** a.div_(b): updates `a` and resolves to it. */
export async function div_(a: Tensor, b: Operand): Promise<Tensor> {
  await (typeof b === 'number' ? DIV_S_(a, b) : DIV_T_(a, b));
  return a;
}

/** torch.index_select: the entries of `index` along `dim`. */
export async function indexSelect(x: Tensor, dim: number, index: Tensor): Promise<Tensor> {
  return wrap(await INDEX_SELECT(x, dim, index));
}

/** Advanced indexing x[i0, i1, ...] with index tensors (null leaves that dimension whole), as Tensor.index. */
export async function index(x: Tensor, indices: readonly (Tensor | null)[]): Promise<Tensor> {
  return wrap(await INDEX(x, indices));
}

/** F.pad: (left, right) amounts from the last dimension on; 'constant' fills with `value` (0). */
export async function pad(
  input: Tensor,
  padding: readonly number[],
  mode: PadMode = 'constant',
  value?: number,
): Promise<Tensor> {
  return wrap(await PAD(input, ...padArguments(padding, mode, value, 'async.pad')));
}

/** Tensor.to: converts dtype and/or device (to('float64'), to('cuda'), to({ dtype, device })). */
export async function to(x: Tensor, target: DType | string | ToOptions): Promise<Tensor> {
  const c = conversionOf(x, target, 'async.to');
  return wrap(
    await (c.device !== null
      ? TO_DEVICE(x, c.device, c.dtype, false, c.copy, c.memoryFormat)
      : TO_DTYPE(x, c.dtype, false, c.copy, c.memoryFormat)),
  );
}

/** How many intra-op threads each background op uses (the main thread's count is torch.setNumThreads). */
export function setNumThreads(n: number): void {
  checkThreadCount(n, 'async.setNumThreads()');
  native.setAsyncOpThreads(n);
}

export function getNumThreads(): number {
  return native.getAsyncOpThreads();
}

setNumThreads(DEFAULT_ASYNC_OP_THREADS);
