// Matrix products and Einstein summation.
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from './dispatch.js';

const MATMUL = defineOp('aten::matmul(self, other)');
const MM = defineOp('aten::mm(self, mat2)');
const BMM = defineOp('aten::bmm(self, mat2)');
const EINSUM = defineOp('aten::einsum(equation, tensors)');

/** Matrix product with NumPy-style broadcasting of batch dimensions (torch.matmul). */
export const matmul = (a: Tensor, b: Tensor): Tensor => wrap(MATMUL(a, b));
/** 2-D matrix product. */
export const mm = (a: Tensor, b: Tensor): Tensor => wrap(MM(a, b));
/** Batched 3-D matrix product. */
export const bmm = (a: Tensor, b: Tensor): Tensor => wrap(BMM(a, b));

/**
 * Einstein summation (torch.einsum): `einsum('ij,jk->ik', a, b)` is a matrix product, `einsum('bii->bi', x)`
 * a batched diagonal. The operands may also be given as one array: einsum('i,i->', [a, b]).
 */
export function einsum(equation: string, ...operands: (Tensor | readonly Tensor[])[]): Tensor {
  if (typeof equation !== 'string') {
    throw new TypeError(`einsum(): equation must be a string such as 'ij,jk->ik', got ${typeof equation}`);
  }
  const tensors = operands.length === 1 && Array.isArray(operands[0]) ? [...operands[0]] : operands;
  if (tensors.length === 0) throw new TypeError(`einsum(): '${equation}' needs at least one operand tensor`);
  return wrap(EINSUM(equation, tensors));
}
