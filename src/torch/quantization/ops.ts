// libtorch's quantized operators (int8 inference), PyTorch-named: quantizing and dequantizing tensors, the
// prepacked int8 convolution and linear layers, and quantized add/mul. Quantized tensors are ordinary
// Tensors whose dtype senet does not name (quint8, qint8): read them with intRepr() or dequantize().
import { native, type ObjectHandle } from '../native.js';
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

/** The quantized dtypes, by libtorch's c10::ScalarType code (dtype.ts names only the unquantized ones). */
export const QUANTIZED_DTYPES = { qint8: 12, quint8: 13, qint32: 14 } as const;
export type QuantizedDType = keyof typeof QUANTIZED_DTYPES;

/**
 * Weights prepacked for one quantized engine (quantized::conv2d_prepack's Conv2dPackedParamsBase,
 * quantized::linear_prepack's LinearPackedParamsBase): opaque, freed by the garbage collector, usable only
 * under the engine that packed them.
 */
export class PackedParams {
  /** @internal */ readonly _h: ObjectHandle;
  readonly engine: string;
  constructor(handle: ObjectHandle, engine: string) {
    this._h = handle;
    this.engine = engine;
  }
}

const QUANTIZE_PER_TENSOR = defineOp('aten::quantize_per_tensor(self, scale, zero_point, dtype)');
const QUANTIZE_PER_CHANNEL = defineOp('aten::quantize_per_channel(self, scales, zero_points, axis, dtype)');
const DEQUANTIZE = defineOp('aten::dequantize.self(self)');
const INT_REPR = defineOp('aten::int_repr(self)');
const Q_SCALE = defineOp('aten::q_scale(self)');
const Q_ZERO_POINT = defineOp('aten::q_zero_point(self)');
const MAKE_PER_CHANNEL = defineOp('aten::_make_per_channel_quantized_tensor(self, scale, zero_point, axis)');
const CONV2D_PREPACK = defineOp('quantized::conv2d_prepack(weight, bias, stride, padding, dilation, groups)');
const CONV2D = defineOp('quantized::conv2d.new(qx, packed_weight, output_scale, output_zero_point)');
const CONV2D_RELU = defineOp('quantized::conv2d_relu.new(qx, packed_weight, output_scale, output_zero_point)');
const LINEAR_PREPACK = defineOp('quantized::linear_prepack(W, B)');
const LINEAR = defineOp('quantized::linear(X, W_prepack, Y_scale_i, Y_zero_point_i)');
const LINEAR_RELU = defineOp('quantized::linear_relu(X, W_prepack, Y_scale_i, Y_zero_point_i)');
const ADD = defineOp('quantized::add(qa, qb, scale, zero_point)');
const ADD_RELU = defineOp('quantized::add_relu(qa, qb, scale, zero_point)');
const MUL = defineOp('quantized::mul(qa, qb, scale, zero_point)');

function quantizedCode(dtype: QuantizedDType, fn: string): number {
  const code = QUANTIZED_DTYPES[dtype];
  if (code === undefined) {
    throw new TypeError(`${fn}: dtype must be one of ${Object.keys(QUANTIZED_DTYPES).join(', ')}, got ${String(dtype)}`);
  }
  return code;
}

/** The quantized engines this libtorch has (Debian's: 'onednn', 'qnnpack'; never 'none'). */
export function supportedEngines(): string[] {
  return native.supportedQEngines().filter((e) => e !== 'none');
}

/** The engine quantized operators run on now (torch.backends.quantized.engine). */
export function engine(): string {
  return native.qEngine();
}

/** Chooses the quantized engine; weights must be prepacked under the engine they run with. */
export function setEngine(name: string): void {
  if (!supportedEngines().includes(name)) {
    throw new Error(`quantized engine '${name}' is not in this libtorch: use one of ${supportedEngines().join(', ')}`);
  }
  native.setQEngine(name);
}

/** round(x / scale) + zeroPoint, saturated to the dtype (torch.quantize_per_tensor). */
export function quantizePerTensor(x: Tensor, scale: number, zeroPoint: number, dtype: QuantizedDType): Tensor {
  return wrap(QUANTIZE_PER_TENSOR(x, scale, zeroPoint, quantizedCode(dtype, 'quantizePerTensor')));
}

/** One scale and zero point per slice along `axis` (scales float64, zero points int64). */
export function quantizePerChannel(
  x: Tensor,
  scales: Tensor,
  zeroPoints: Tensor,
  axis: number,
  dtype: QuantizedDType,
): Tensor {
  return wrap(QUANTIZE_PER_CHANNEL(x, scales, zeroPoints, axis, quantizedCode(dtype, 'quantizePerChannel')));
}

/** A per-channel quantized tensor from its integer values (int8) and qparams: the inverse of intRepr. */
export function makePerChannelQuantized(values: Tensor, scales: Tensor, zeroPoints: Tensor, axis: number): Tensor {
  return wrap(MAKE_PER_CHANNEL(values, scales, zeroPoints, axis));
}

/** (q - zeroPoint) * scale as float32. */
export function dequantize(q: Tensor): Tensor {
  return wrap(DEQUANTIZE(q));
}

/** The stored integers of a quantized tensor (uint8 for quint8, int8 for qint8). */
export function intRepr(q: Tensor): Tensor {
  return wrap(INT_REPR(q));
}

export function qScale(q: Tensor): number {
  return Q_SCALE(q) as number;
}

export function qZeroPoint(q: Tensor): number {
  return Q_ZERO_POINT(q) as number;
}

/** Packs a qint8 weight [out, in/groups, kh, kw] and a float bias for quantized conv2d on the current engine. */
export function conv2dPrepack(
  weight: Tensor,
  bias: Tensor | null,
  stride: number[],
  padding: number[],
  dilation: number[],
  groups: number,
): PackedParams {
  const handle = CONV2D_PREPACK(weight, bias, stride, padding, dilation, groups) as unknown as ObjectHandle;
  return new PackedParams(handle, engine());
}

/** Packs a qint8 weight [out, in] and a float bias for quantized linear on the current engine. */
export function linearPrepack(weight: Tensor, bias: Tensor | null): PackedParams {
  return new PackedParams(LINEAR_PREPACK(weight, bias) as unknown as ObjectHandle, engine());
}

function checkEngine(packed: PackedParams, fn: string): void {
  if (packed.engine !== native.qEngine()) {
    throw new Error(`${fn}: the weights were packed for the '${packed.engine}' engine, but '${native.qEngine()}' is on`);
  }
}

/** A quantized (quint8) convolution, optionally fused with ReLU, requantized to (scale, zeroPoint). */
export function conv2d(qx: Tensor, packed: PackedParams, scale: number, zeroPoint: number, relu = false): Tensor {
  checkEngine(packed, 'quantized conv2d');
  return wrap((relu ? CONV2D_RELU : CONV2D)(qx, packed._h, scale, zeroPoint));
}

/** A quantized linear layer (input quint8 [N, in]), optionally fused with ReLU. */
export function linear(qx: Tensor, packed: PackedParams, scale: number, zeroPoint: number, relu = false): Tensor {
  checkEngine(packed, 'quantized linear');
  return wrap((relu ? LINEAR_RELU : LINEAR)(qx, packed._h, scale, zeroPoint));
}

/** a + b of two quantized tensors, optionally followed by ReLU, requantized to (scale, zeroPoint). */
export function add(a: Tensor, b: Tensor, scale: number, zeroPoint: number, relu = false): Tensor {
  return wrap((relu ? ADD_RELU : ADD)(a, b, scale, zeroPoint));
}

/** a * b of two quantized tensors (broadcasting, as the SE gate [N, C, 1, 1] over [N, C, H, W]). */
export function mul(a: Tensor, b: Tensor, scale: number, zeroPoint: number): Tensor {
  return wrap(MUL(a, b, scale, zeroPoint));
}
