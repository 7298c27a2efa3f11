// Matrix products.
import { Tensor } from '../tensor.js';
import { defineOp, wrap } from './dispatch.js';

const MATMUL = defineOp('aten::matmul');
const MM = defineOp('aten::mm');
const BMM = defineOp('aten::bmm');

/** Matrix product with NumPy-style broadcasting of batch dimensions (torch.matmul). */
export const matmul = (a: Tensor, b: Tensor): Tensor => wrap(MATMUL(a, b));
/** 2-D matrix product. */
export const mm = (a: Tensor, b: Tensor): Tensor => wrap(MM(a, b));
/** Batched 3-D matrix product. */
export const bmm = (a: Tensor, b: Tensor): Tensor => wrap(BMM(a, b));
