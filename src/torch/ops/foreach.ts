// libtorch's multi-tensor ("_foreach_") operators: one call applies the same arithmetic to every tensor of a
// list, so an optimizer step over a model's parameters crosses the binding a handful of times instead of a
// few times per parameter. Internal to src/torch (the optimizers' foreach paths), as torch._foreach_* is
// private in PyTorch. On the CPU libtorch 1.13 loops over the tensors calling the single-tensor kernels, so
// the results are bit for bit those of the per-tensor calls.
import type { Tensor } from '../tensor.js';
import { defineOp, wrapList } from './dispatch.js';

const ADD_LIST = defineOp('aten::_foreach_add.List(self, other, alpha)');
const ADD_LIST_ = defineOp('aten::_foreach_add_.List(self, other, alpha)');
const ADD_SCALAR = defineOp('aten::_foreach_add.Scalar(self, scalar)');
const ADD_SCALAR_ = defineOp('aten::_foreach_add_.Scalar(self, scalar)');
const MUL_SCALAR_ = defineOp('aten::_foreach_mul_.Scalar(self, scalar)');
const DIV_SCALARS_ = defineOp('aten::_foreach_div_.ScalarList(self, scalars)');
const ADDCMUL_ = defineOp('aten::_foreach_addcmul_.Scalar(self, tensor1, tensor2, value)');
const ADDCDIV_SCALARS_ = defineOp('aten::_foreach_addcdiv_.ScalarList(self, tensor1, tensor2, scalars)');
const MAXIMUM_ = defineOp('aten::_foreach_maximum_.List(self, other)');
const NEG = defineOp('aten::_foreach_neg(self)');
const SQRT = defineOp('aten::_foreach_sqrt(self)');

/** [a_i + alpha * b_i] */
export const foreachAdd = (a: Tensor[], b: Tensor[], alpha = 1): Tensor[] => wrapList(ADD_LIST(a, b, alpha));

/** a_i += alpha * b_i */
export function foreachAdd_(a: Tensor[], b: Tensor[], alpha = 1): void {
  ADD_LIST_(a, b, alpha);
}

/** [a_i + s] */
export const foreachAddScalar = (a: Tensor[], s: number): Tensor[] => wrapList(ADD_SCALAR(a, s));

/** a_i += s */
export function foreachAddScalar_(a: Tensor[], s: number): void {
  ADD_SCALAR_(a, s);
}

/** a_i *= s */
export function foreachMul_(a: Tensor[], s: number): void {
  MUL_SCALAR_(a, s);
}

/** a_i /= s_i, one number per tensor */
export function foreachDiv_(a: Tensor[], s: number[]): void {
  DIV_SCALARS_(a, s);
}

/** a_i += value * t1_i * t2_i */
export function foreachAddcmul_(a: Tensor[], t1: Tensor[], t2: Tensor[], value: number): void {
  ADDCMUL_(a, t1, t2, value);
}

/** a_i += s_i * t1_i / t2_i, one number per tensor */
export function foreachAddcdiv_(a: Tensor[], t1: Tensor[], t2: Tensor[], s: number[]): void {
  ADDCDIV_SCALARS_(a, t1, t2, s);
}

/** a_i = max(a_i, b_i), elementwise */
export function foreachMaximum_(a: Tensor[], b: Tensor[]): void {
  MAXIMUM_(a, b);
}

/** [-a_i] */
export const foreachNeg = (a: Tensor[]): Tensor[] => wrapList(NEG(a));

/** [sqrt(a_i)] */
export const foreachSqrt = (a: Tensor[]): Tensor[] => wrapList(SQRT(a));
