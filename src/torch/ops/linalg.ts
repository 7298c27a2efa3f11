// Matrix products.
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from './dispatch.js';

const MATMUL = defineOp('aten::matmul(self, other)');
const MM = defineOp('aten::mm(self, mat2)');
const BMM = defineOp('aten::bmm(self, mat2)');

/** Matrix product with NumPy-style broadcasting of batch dimensions (torch.matmul). */
export const matmul = (a: Tensor, b: Tensor): Tensor => wrap(MATMUL(a, b));
/** 2-D matrix product. */
export const mm = (a: Tensor, b: Tensor): Tensor => wrap(MM(a, b));
/** Batched 3-D matrix product. */
export const bmm = (a: Tensor, b: Tensor): Tensor => wrap(BMM(a, b));
