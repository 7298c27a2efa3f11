// Elementwise arithmetic (with broadcasting and scalars), comparisons and their in-place forms.
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { defineOp, wrap, type OpFn } from './dispatch.js';

export type Operand = Tensor | number;
type Scalar = number | boolean;

const isScalar = (v: unknown): v is Scalar => typeof v === 'number' || typeof v === 'boolean';

/** An out-of-place binary op choosing the Tensor or Scalar overload by the second operand (named `operand`). */
function binary(name: string, tensorOverload = 'Tensor', scalarOverload = 'Scalar', operand = 'other') {
  const onTensor = defineOp(`${name}.${tensorOverload}(self, ${operand})`);
  const onScalar = defineOp(`${name}.${scalarOverload}(self, ${operand})`);
  return (a: Tensor, b: Operand | boolean): Tensor => wrap(isScalar(b) ? onScalar(a, b) : onTensor(a, b));
}

/** The in-place form: updates `a` and returns it. */
function binaryInPlace(name: string, tensorOverload = 'Tensor', scalarOverload = 'Scalar', operand = 'other') {
  const onTensor = defineOp(`${name}.${tensorOverload}(self, ${operand})`);
  const onScalar = defineOp(`${name}.${scalarOverload}(self, ${operand})`);
  return (a: Tensor, b: Operand | boolean): Tensor => {
    if (isScalar(b)) onScalar(a, b);
    else onTensor(a, b);
    return a;
  };
}

function unary(name: string, overload = ''): (a: Tensor) => Tensor {
  const op = defineOp(`${name}${overload ? `.${overload}` : ''}(self)`);
  return (a: Tensor) => wrap(op(a));
}

function unaryInPlace(name: string, overload = ''): (a: Tensor) => Tensor {
  const op = defineOp(`${name}${overload ? `.${overload}` : ''}(self)`);
  return (a: Tensor) => {
    op(a);
    return a;
  };
}

const ADD_T = defineOp('aten::add.Tensor(self, other, alpha)');
const ADD_S = defineOp('aten::add.Scalar(self, other, alpha)');
const SUB_T = defineOp('aten::sub.Tensor(self, other, alpha)');
const SUB_S = defineOp('aten::sub.Scalar(self, other, alpha)');
const ADD_T_ = defineOp('aten::add_.Tensor(self, other, alpha)');
const ADD_S_ = defineOp('aten::add_.Scalar(self, other, alpha)');
const SUB_T_ = defineOp('aten::sub_.Tensor(self, other, alpha)');
const SUB_S_ = defineOp('aten::sub_.Scalar(self, other, alpha)');

/** a + alpha * b */
export function add(a: Tensor, b: Operand, alpha = 1): Tensor {
  return wrap(isScalar(b) ? ADD_S(a, b, alpha) : ADD_T(a, b, alpha));
}

/** a - alpha * b */
export function sub(a: Tensor, b: Operand, alpha = 1): Tensor {
  return wrap(isScalar(b) ? SUB_S(a, b, alpha) : SUB_T(a, b, alpha));
}

export function add_(a: Tensor, b: Operand, alpha = 1): Tensor {
  if (isScalar(b)) ADD_S_(a, b, alpha);
  else ADD_T_(a, b, alpha);
  return a;
}

export function sub_(a: Tensor, b: Operand, alpha = 1): Tensor {
  if (isScalar(b)) SUB_S_(a, b, alpha);
  else SUB_T_(a, b, alpha);
  return a;
}

export const mul = binary('aten::mul');
export const div = binary('aten::div');
export const mul_ = binaryInPlace('aten::mul_');
export const div_ = binaryInPlace('aten::div_');
export const pow = binary('aten::pow', 'Tensor_Tensor', 'Tensor_Scalar', 'exponent');
export const pow_ = binaryInPlace('aten::pow_', 'Tensor', 'Scalar', 'exponent');
export const eq = binary('aten::eq');
export const ne = binary('aten::ne');
export const lt = binary('aten::lt');
export const le = binary('aten::le');
export const gt = binary('aten::gt');
export const ge = binary('aten::ge');

const MAXIMUM = defineOp('aten::maximum(self, other)');
const MINIMUM = defineOp('aten::minimum(self, other)');
export const maximum = (a: Tensor, b: Tensor): Tensor => wrap(MAXIMUM(a, b));
export const minimum = (a: Tensor, b: Tensor): Tensor => wrap(MINIMUM(a, b));
const LOGICAL_AND = defineOp('aten::logical_and(self, other)');
const LOGICAL_OR = defineOp('aten::logical_or(self, other)');
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => wrap(LOGICAL_AND(a, b));
export const logicalOr = (a: Tensor, b: Tensor): Tensor => wrap(LOGICAL_OR(a, b));

export const neg = unary('aten::neg');
export const abs = unary('aten::abs');
export const sign = unary('aten::sign');
export const sqrt = unary('aten::sqrt');
export const rsqrt = unary('aten::rsqrt');
export const square = unary('aten::square');
export const reciprocal = unary('aten::reciprocal');
export const exp = unary('aten::exp');
export const log = unary('aten::log');
export const log1p = unary('aten::log1p');
export const sin = unary('aten::sin');
export const cos = unary('aten::cos');
export const tanh = unary('aten::tanh');
export const sigmoid = unary('aten::sigmoid');
export const relu = unary('aten::relu');
export const floor = unary('aten::floor');
export const ceil = unary('aten::ceil');
export const round = unary('aten::round');
export const logicalNot = unary('aten::logical_not');
export const isnan = unary('aten::isnan');
export const isinf = unary('aten::isinf');
export const isfinite = unary('aten::isfinite');

export const neg_ = unaryInPlace('aten::neg_');
export const sqrt_ = unaryInPlace('aten::sqrt_');
export const exp_ = unaryInPlace('aten::exp_');
export const relu_ = unaryInPlace('aten::relu_');
export const sigmoid_ = unaryInPlace('aten::sigmoid_');
export const zero_ = unaryInPlace('aten::zero_');

const CLAMP = defineOp('aten::clamp(self, min, max)');
const CLAMP_ = defineOp('aten::clamp_(self, min, max)');
/** Limits values to [min, max]; either bound may be omitted (null). */
export function clamp(a: Tensor, min: number | null = null, max: number | null = null): Tensor {
  return wrap(CLAMP(a, min, max));
}
export function clamp_(a: Tensor, min: number | null = null, max: number | null = null): Tensor {
  CLAMP_(a, min, max);
  return a;
}

const WHERE: Record<string, OpFn> = {
  TT: defineOp('aten::where.self(condition, self, other)'),
  TS: defineOp('aten::where.ScalarOther(condition, self, other)'),
  ST: defineOp('aten::where.ScalarSelf(condition, self, other)'),
  SS: defineOp('aten::where.Scalar(condition, self, other)'),
};
/** Elementwise choice: `a` where `condition` is true, else `b` (tensors or scalars, broadcast). */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  const key = (isScalar(a) ? 'S' : 'T') + (isScalar(b) ? 'S' : 'T');
  return wrap(WHERE[key](condition, a, b));
}

const LERP_S = defineOp('aten::lerp.Scalar(self, end, weight)');
const LERP_T = defineOp('aten::lerp.Tensor(self, end, weight)');
const LERP_S_ = defineOp('aten::lerp_.Scalar(self, end, weight)');
const LERP_T_ = defineOp('aten::lerp_.Tensor(self, end, weight)');
/** a + weight * (end - a) */
export function lerp(a: Tensor, end: Tensor, weight: Operand): Tensor {
  return wrap(isScalar(weight) ? LERP_S(a, end, weight) : LERP_T(a, end, weight));
}
export function lerp_(a: Tensor, end: Tensor, weight: Operand): Tensor {
  if (isScalar(weight)) LERP_S_(a, end, weight);
  else LERP_T_(a, end, weight);
  return a;
}

const ADDCMUL = defineOp('aten::addcmul(self, tensor1, tensor2, value)');
const ADDCDIV = defineOp('aten::addcdiv(self, tensor1, tensor2, value)');
const ADDCMUL_ = defineOp('aten::addcmul_(self, tensor1, tensor2, value)');
const ADDCDIV_ = defineOp('aten::addcdiv_(self, tensor1, tensor2, value)');
/** a + value * t1 * t2 */
export const addcmul = (a: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor => wrap(ADDCMUL(a, t1, t2, value));
/** a + value * t1 / t2 */
export const addcdiv = (a: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor => wrap(ADDCDIV(a, t1, t2, value));
export function addcmul_(a: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor {
  ADDCMUL_(a, t1, t2, value);
  return a;
}
export function addcdiv_(a: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor {
  ADDCDIV_(a, t1, t2, value);
  return a;
}

const FILL_S_ = defineOp('aten::fill_.Scalar(self, value)');
const COPY_ = defineOp('aten::copy_(self, src, non_blocking)');
const UNIFORM_ = defineOp('aten::uniform_(self, from, to, generator)');
const NORMAL_ = defineOp('aten::normal_(self, mean, std, generator)');
const MASKED_FILL_ = defineOp('aten::masked_fill_.Scalar(self, mask, value)');

export function fill_(a: Tensor, value: number | boolean): Tensor {
  FILL_S_(a, value);
  return a;
}

/** Copies `src` (broadcast, converted to a's dtype and device) into `a`. */
export function copy_(a: Tensor, src: Tensor): Tensor {
  COPY_(a, src);
  return a;
}

export function maskedFill_(a: Tensor, mask: Tensor, value: number | boolean): Tensor {
  MASKED_FILL_(a, mask, value);
  return a;
}

export function uniform_(a: Tensor, from = 0, to = 1, generator?: Generator): Tensor {
  UNIFORM_(a, from, to, generator ?? null);
  return a;
}

export function normal_(a: Tensor, mean = 0, std = 1, generator?: Generator): Tensor {
  NORMAL_(a, mean, std, generator ?? null);
  return a;
}

const ALLCLOSE = defineOp('aten::allclose(self, other, rtol, atol, equal_nan)');
const EQUAL = defineOp('aten::equal(self, other)');
/** True when |a - b| <= atol + rtol * |b| everywhere (torch.allclose). */
export function allclose(a: Tensor, b: Tensor, rtol = 1e-5, atol = 1e-8, equalNan = false): boolean {
  return ALLCLOSE(a, b, rtol, atol, equalNan) as boolean;
}
/** True when a and b have the same shape and elements. */
export function equal(a: Tensor, b: Tensor): boolean {
  return EQUAL(a, b) as boolean;
}
