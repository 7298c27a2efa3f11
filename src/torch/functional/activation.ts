// Activation functions (torch.nn.functional).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';
import { type DType, dtypeCode } from '../dtype.js';

const RELU = defineOp('aten::relu(self)');
const RELU_ = defineOp('aten::relu_(self)');
const RELU6 = defineOp('aten::relu6(self)');
const LEAKY_RELU = defineOp('aten::leaky_relu(self, negative_slope)');
const ELU = defineOp('aten::elu(self, alpha, scale, input_scale)');
const SIGMOID = defineOp('aten::sigmoid(self)');
const TANH = defineOp('aten::tanh(self)');
const GELU = defineOp('aten::gelu(self, approximate)');
const SILU = defineOp('aten::silu(self)');
const MISH = defineOp('aten::mish(self)');
const HARDSIGMOID = defineOp('aten::hardsigmoid(self)');
const HARDSWISH = defineOp('aten::hardswish(self)');
const SOFTPLUS = defineOp('aten::softplus(self, beta, threshold)');
const SOFTMAX = defineOp('aten::softmax.int(self, dim, dtype)');
const LOG_SOFTMAX = defineOp('aten::log_softmax.int(self, dim, dtype)');

/** max(x, 0); with `inplace` the input is overwritten and returned. */
export function relu(x: Tensor, inplace = false): Tensor {
  if (inplace) {
    RELU_(x);
    return x;
  }
  return wrap(RELU(x));
}

export const relu6 = (x: Tensor): Tensor => wrap(RELU6(x));
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => wrap(LEAKY_RELU(x, negativeSlope));
export const elu = (x: Tensor, alpha = 1): Tensor => wrap(ELU(x, alpha));
export const sigmoid = (x: Tensor): Tensor => wrap(SIGMOID(x));
export const tanh = (x: Tensor): Tensor => wrap(TANH(x));
/** GELU; `approximate: 'tanh'` uses the tanh approximation. */
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => wrap(GELU(x, approximate));
/** x * sigmoid(x) (a.k.a. swish). */
export const silu = (x: Tensor): Tensor => wrap(SILU(x));
export const mish = (x: Tensor): Tensor => wrap(MISH(x));
/** relu6(x + 3) / 6: the piecewise-linear sigmoid of MobileNetV3. */
export const hardsigmoid = (x: Tensor): Tensor => wrap(HARDSIGMOID(x));
export const hardswish = (x: Tensor): Tensor => wrap(HARDSWISH(x));
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor => wrap(SOFTPLUS(x, beta, threshold));

export function softmax(x: Tensor, dim: number, dtype?: DType): Tensor {
  return wrap(SOFTMAX(x, dim, dtype ? dtypeCode(dtype) : null));
}

export function logSoftmax(x: Tensor, dim: number, dtype?: DType): Tensor {
  return wrap(LOG_SOFTMAX(x, dim, dtype ? dtypeCode(dtype) : null));
}
