// Watching a computation operator by operator: every synchronous libtorch call made inside `traceOps`
// reaches `onCall` with its declaration, its arguments (tensors as native handles) and its result. The
// ONNX exporter (src/export/onnx) builds its graph from these calls; nothing else changes while tracing.
import { endianness } from 'node:os';
import { setOpObserver, type OpCall } from './ops/dispatch.js';
import { native, type Handle } from './native.js';
import { type DType, dtypeFromCode, ELEMENT_SIZE } from './dtype.js';
import { swapByteOrder } from './io/tensor-bytes.js';

export type { OpCall } from './ops/dispatch.js';
export type { OpDeclaration } from './ops/declarations.js';
export type { Handle, OpResult } from './native.js';

let tracing = false;

/** Runs `fn`, calling `onCall` after each operator call it makes; traces do not nest. */
export function traceOps<T>(fn: () => T, onCall: (call: OpCall) => void): T {
  if (tracing) throw new Error('traceOps: a trace is already running; traces do not nest');
  tracing = true;
  const previous = setOpObserver(onCall);
  try {
    return fn();
  } finally {
    setOpObserver(previous);
    tracing = false;
  }
}

/** The shape and dtype of a tensor an operator call took or returned (valid while the call's tensors live). */
export function handleInfo(handle: Handle): { shape: number[]; dtype: DType } {
  return { shape: native.shape(handle), dtype: dtypeFromCode(native.dtype(handle)) };
}

/** A copy of such a tensor's elements, row-major, as little-endian bytes (what file formats store). */
export function handleBytes(handle: Handle): Uint8Array {
  const bytes = new Uint8Array(native.toBuffer(handle));
  return endianness() === 'LE' ? bytes : swapByteOrder(bytes, ELEMENT_SIZE[dtypeFromCode(native.dtype(handle))]);
}
