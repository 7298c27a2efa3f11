// libtorch's quantized operators (int8 inference), PyTorch-named: quantizing and dequantizing tensors, the
// prepacked int8 convolution and linear layers, and quantized add/mul. Quantized tensors are ordinary
// Tensors whose dtype senet does not name (quint8, qint8): read them with intRepr() or dequantize().
import { native, type ObjectHandle } from '../native.js';
import type { Tensor } from '../tensor.js';
import { tidy } from '../memory.js';
import { zeros } from '../ops/creation.js';
import { checkNumber } from '../nn/args.js';
import { defineOp, wrap } from '../ops/dispatch.js';

/** The quantized dtypes, by libtorch's c10::ScalarType code (dtype.ts names only the unquantized ones). */
export const QUANTIZED_DTYPES = { qint8: 12, quint8: 13, qint32: 14 } as const;
export type QuantizedDType = keyof typeof QUANTIZED_DTYPES;

/** Whether a tensor is quantized (quint8, qint8, qint32): its `dtype` is not one senet names. */
export function isQuantized(x: Tensor): boolean {
  return Object.values(QUANTIZED_DTYPES).includes(native.dtype(x._h) as 12 | 13 | 14);
}

/**
 * Weights prepacked for one quantized engine (quantized::conv2d_prepack's Conv2dPackedParamsBase,
 * quantized::linear_prepack's LinearPackedParamsBase): opaque, freed by the garbage collector, usable only
 * under the engine that packed them.
 */
export class PackedParams {
  /** @internal */ readonly _h: ObjectHandle;
  readonly engine: string;
  /** What the packed layer takes: a convolution's input channels, a linear layer's input features. */
  readonly kind: 'conv2d' | 'linear';
  readonly inputs: number;
  constructor(handle: ObjectHandle, engine: string, kind: 'conv2d' | 'linear', inputs: number) {
    this._h = handle;
    this.engine = engine;
    this.kind = kind;
    this.inputs = inputs;
  }
}

const QUANTIZE_PER_TENSOR = defineOp('aten::quantize_per_tensor(self, scale, zero_point, dtype)');
const QUANTIZE_PER_CHANNEL = defineOp('aten::quantize_per_channel(self, scales, zero_points, axis, dtype)');
const DEQUANTIZE = defineOp('aten::dequantize.self(self)');
const INT_REPR = defineOp('aten::int_repr(self)');
const Q_SCALE = defineOp('aten::q_scale(self)');
const Q_ZERO_POINT = defineOp('aten::q_zero_point(self)');
const CONV2D_PREPACK = defineOp('quantized::conv2d_prepack(weight, bias, stride, padding, dilation, groups)');
const CONV2D = defineOp('quantized::conv2d.new(qx, packed_weight, output_scale, output_zero_point)');
const CONV2D_RELU = defineOp('quantized::conv2d_relu.new(qx, packed_weight, output_scale, output_zero_point)');
const LINEAR_PREPACK = defineOp('quantized::linear_prepack(W, B)');
const LINEAR = defineOp('quantized::linear(X, W_prepack, Y_scale_i, Y_zero_point_i)');
const LINEAR_RELU = defineOp('quantized::linear_relu(X, W_prepack, Y_scale_i, Y_zero_point_i)');
const ADD = defineOp('quantized::add(qa, qb, scale, zero_point)');
const ADD_RELU = defineOp('quantized::add_relu(qa, qb, scale, zero_point)');
const MUL = defineOp('quantized::mul(qa, qb, scale, zero_point)');

/** An integer in [lo, hi], or one error naming it (BigInts and fractions included). */
function checkInt(value: unknown, what: string, lo: number, hi: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    const shown = typeof value === 'bigint' ? `${value}n` : String(value);
    throw new RangeError(`${what} must be an integer in [${lo}, ${hi}], got ${shown}`);
  }
}

/** The integer range of each quantized dtype (qint32 is only ever an intermediate here). */
const RANGE: Record<QuantizedDType, [number, number]> = {
  quint8: [0, 255],
  qint8: [-128, 127],
  qint32: [-(2 ** 31), 2 ** 31 - 1],
};

/**
 * A scale and zero point, checked: libtorch saturates or wraps a zero point outside the dtype's range
 * without a word, and divides by a zero scale.
 */
function checkQParams(scale: number, zeroPoint: number, fn: string, dtype: QuantizedDType = 'quint8'): void {
  checkNumber(scale, `${fn}: scale`);
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new RangeError(`${fn}: scale must be a positive finite number, got ${scale}`);
  const [lo, hi] = RANGE[dtype];
  checkInt(zeroPoint, `${fn}: zero point`, lo, hi);
}

function quantizedCode(dtype: QuantizedDType, fn: string): number {
  const code = QUANTIZED_DTYPES[dtype];
  if (code === undefined) {
    throw new TypeError(
      `${fn}: dtype must be one of ${Object.keys(QUANTIZED_DTYPES).join(', ')}, got ${String(dtype)}`,
    );
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
  quantizedCode(dtype, 'quantizePerTensor');
  checkQParams(scale, zeroPoint, 'quantizePerTensor', dtype);
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

/**
 * A per-channel qint8 tensor from its integer values (int8) and scales (zero points 0): the inverse of
 * intRepr. Re-quantizes values × scale, which gives back exactly the same integers; libtorch's direct
 * constructor (_make_per_channel_quantized_tensor) checks neither its axis nor its scales' length.
 */
export function makePerChannelQuantized(values: Tensor, scales: Tensor, axis: number): Tensor {
  if (values.dtype !== 'int8') throw new TypeError(`makePerChannelQuantized: values must be int8, got ${values.dtype}`);
  checkInt(axis, 'makePerChannelQuantized: axis', 0, values.ndim - 1);
  if (scales.ndim !== 1 || scales.size(0) !== values.size(axis)) {
    throw new RangeError(
      `makePerChannelQuantized: expected ${values.size(axis)} scales (dimension ${axis} of [${values.shape.join(', ')}]), ` +
        `got shape [${scales.shape.join(', ')}]`,
    );
  }
  return tidy(() => {
    const shape = values.shape.map((n, i) => (i === axis ? n : 1));
    const float = values
      .to('float64')
      .mul(scales.to('float64').view(...shape))
      .float();
    return quantizePerChannel(float, scales.to('float64'), zeros([scales.size(0)], { dtype: 'int64' }), axis, 'qint8');
  });
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
  // qnnpack divides by groups and sizes buffers by stride and padding before checking them (SIGFPE).
  const pair = (v: number[], what: string, min: number) => {
    if (!Array.isArray(v) || v.length !== 2) throw new TypeError(`conv2dPrepack: ${what} must be two integers`);
    for (const n of v) checkInt(n, `conv2dPrepack: ${what}`, min, 2 ** 31 - 1);
  };
  pair(stride, 'stride', 1);
  pair(padding, 'padding', 0);
  pair(dilation, 'dilation', 1);
  if (weight.ndim !== 4)
    throw new RangeError(`conv2dPrepack: weight must be [out, in/groups, kh, kw], got [${weight.shape}]`);
  checkInt(groups, 'conv2dPrepack: groups', 1, weight.size(0));
  if (weight.size(0) % groups !== 0)
    throw new RangeError(`conv2dPrepack: groups (${groups}) must divide ${weight.size(0)} outputs`);
  const handle = CONV2D_PREPACK(weight, bias, stride, padding, dilation, groups) as unknown as ObjectHandle;
  return new PackedParams(handle, engine(), 'conv2d', weight.size(1) * groups);
}

/** Packs a qint8 weight [out, in] and a float bias for quantized linear on the current engine. */
export function linearPrepack(weight: Tensor, bias: Tensor | null): PackedParams {
  if (weight.ndim !== 2) throw new RangeError(`linearPrepack: weight must be [out, in], got [${weight.shape}]`);
  return new PackedParams(LINEAR_PREPACK(weight, bias) as unknown as ObjectHandle, engine(), 'linear', weight.size(1));
}

/**
 * The checks libtorch leaves out: packed weights of the right kind and engine, an input of the width they
 * were packed for (qnnpack reads past a narrower input), and output qparams in range.
 */
function checkCall(
  qx: Tensor,
  packed: PackedParams,
  kind: PackedParams['kind'],
  scale: number,
  zeroPoint: number,
): void {
  const fn = `quantized ${kind}`;
  if (!(packed instanceof PackedParams) || packed.kind !== kind) {
    throw new TypeError(`${fn}: expected weights packed by ${kind}Prepack`);
  }
  if (packed.engine !== native.qEngine()) {
    throw new Error(
      `${fn}: the weights were packed for the '${packed.engine}' engine, but '${native.qEngine()}' is on`,
    );
  }
  const [ndim, dim] = kind === 'conv2d' ? [4, 1] : [2, 1];
  if (qx.ndim !== ndim || qx.size(dim) !== packed.inputs) {
    const expected = kind === 'conv2d' ? `[N, ${packed.inputs}, H, W]` : `[N, ${packed.inputs}]`;
    throw new RangeError(`${fn}: expected an input ${expected}, got [${qx.shape.join(', ')}]`);
  }
  checkQParams(scale, zeroPoint, fn);
}

/** A quantized (quint8) convolution, optionally fused with ReLU, requantized to (scale, zeroPoint). */
export function conv2d(qx: Tensor, packed: PackedParams, scale: number, zeroPoint: number, relu = false): Tensor {
  checkCall(qx, packed, 'conv2d', scale, zeroPoint);
  return wrap((relu ? CONV2D_RELU : CONV2D)(qx, packed._h, scale, zeroPoint));
}

/** A quantized linear layer (input quint8 [N, in]), optionally fused with ReLU. */
export function linear(qx: Tensor, packed: PackedParams, scale: number, zeroPoint: number, relu = false): Tensor {
  checkCall(qx, packed, 'linear', scale, zeroPoint);
  return wrap((relu ? LINEAR_RELU : LINEAR)(qx, packed._h, scale, zeroPoint));
}

/** a + b of two quantized tensors, optionally followed by ReLU, requantized to (scale, zeroPoint). */
export function add(a: Tensor, b: Tensor, scale: number, zeroPoint: number, relu = false): Tensor {
  checkQParams(scale, zeroPoint, 'quantized add');
  if (native.qEngine() === 'qnnpack') {
    // qnnpack's add takes input-to-output scale ratios in [2**-14, 2**8) only, and fails with an internal assert.
    for (const ratio of [qScale(a) / scale, qScale(b) / scale]) {
      if (!(ratio >= 2 ** -14 && ratio < 2 ** 8)) {
        throw new RangeError(
          `quantized add on qnnpack: an input's scale is ${ratio.toExponential(2)}× the output's, outside ` +
            "qnnpack's [2**-14, 2**8); use the onednn engine for this model",
        );
      }
    }
  }
  return wrap((relu ? ADD_RELU : ADD)(a, b, scale, zeroPoint));
}

/** a * b of two quantized tensors (broadcasting, as the SE gate [N, C, 1, 1] over [N, C, H, W]). */
export function mul(a: Tensor, b: Tensor, scale: number, zeroPoint: number): Tensor {
  checkQParams(scale, zeroPoint, 'quantized mul');
  return wrap(MUL(a, b, scale, zeroPoint));
}
