// Tensors as the raw element bytes file formats store: row-major, little-endian unless a file says
// otherwise. libtorch holds elements in the host's byte order, so bytes are swapped where they differ.
import { endianness } from 'node:os';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { type DType, dtypeCode, ELEMENT_SIZE } from '../dtype.js';

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/** A copy of the elements of `t` (any device, any layout) in row-major order, as little-endian bytes. */
export function tensorToBytes(t: Tensor): Uint8Array {
  const bytes = new Uint8Array(native.toBuffer(t._h));
  return HOST_LITTLE_ENDIAN ? bytes : swapByteOrder(bytes, ELEMENT_SIZE[t.dtype]);
}

/** A new CPU tensor holding a copy of `bytes` (row-major elements, little-endian unless said otherwise). */
export function tensorFromBytes(
  bytes: Uint8Array,
  shape: readonly number[],
  dtype: DType,
  littleEndian = true,
): Tensor {
  const hostOrder = littleEndian === HOST_LITTLE_ENDIAN ? bytes : swapByteOrder(bytes, ELEMENT_SIZE[dtype]);
  return new Tensor(native.fromBuffer(hostOrder, [...shape], dtypeCode(dtype)));
}

/** A copy of `bytes` with each `itemSize`-byte element reversed. */
export function swapByteOrder(bytes: Uint8Array, itemSize: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let start = 0; start < bytes.length; start += itemSize) {
    for (let k = 0; k < itemSize; k++) out[start + k] = bytes[start + itemSize - 1 - k];
  }
  return out;
}

/** The number of elements of a shape (1 for a 0-d tensor). */
export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** PyTorch's strides of a contiguous tensor (sizes 0 count as 1, as in c10::contiguous_strides). */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= Math.max(shape[i], 1);
  }
  return strides;
}
