// Each aten operator the exporter knows, as ONNX opset-17 nodes. A lowering reads the call's arguments
// (tensor arguments as ONNX values, the rest as libtorch received them) and returns the ONNX value of
// each result. Shapes baked into the graph keep the batch symbolic: a reshape target whose first size is
// the batch becomes 0 (ONNX's "copy this dimension"), an expand target 1 where the input already has the
// size. Opset 17 has no Gelu, so GELU is written out from Erf (or Tanh) as PyTorch defines it.
import type { AttributeValue } from './graph.js';
import type { Lowering, OpContext } from './tracer.js';

/** An int or a list of ints as a list of `n` (PyTorch's `kernel_size=3` for [3, 3]). */
function tuple(value: unknown, n: number): number[] {
  if (typeof value === 'number') return Array(n).fill(value);
  const list = value as number[];
  return list.length === 1 && n > 1 ? Array(n).fill(list[0]) : [...list];
}

const ints = (values: readonly number[]): AttributeValue => ({ ints: values });
const int = (value: number): AttributeValue => ({ int: value });
const float = (value: number): AttributeValue => ({ float: value });

/** The same op for the in-place form (relu_, add_.Tensor): the tracer maps the mutated tensor. */
function withInPlace(table: Record<string, Lowering>): Record<string, Lowering> {
  const out: Record<string, Lowering> = { ...table };
  for (const [name, lowering] of Object.entries(table)) {
    const [base, overload] = name.split('.');
    out[`${base}_${overload ? `.${overload}` : ''}`] ??= lowering;
  }
  return out;
}

/** Nodes that alias their input in inference (no ONNX node: the result is the input's value). */
const alias: Lowering = (ctx) => ctx.input(0);

/** Dropout does nothing in inference; in training it is random, which an exported graph cannot be. */
const inferenceDropout: Lowering = (ctx) => {
  if (ctx.arg(2)) throw ctx.error('dropout in training mode cannot be exported; export a model in eval mode');
  return ctx.input(0);
};

function unary(opType: string, attributes: Record<string, AttributeValue> = {}): Lowering {
  return (ctx) => ctx.node(opType, [ctx.input(0)], attributes);
}

/** The other operand of a binary op: a tensor, or a scalar of self's type. */
function operand(ctx: OpContext, i: number): string {
  const value = ctx.arg(i);
  return typeof value === 'number' || typeof value === 'boolean' ? ctx.scalarLike(0, Number(value)) : ctx.input(i);
}

function binary(opType: string): Lowering {
  return (ctx) => ctx.node(opType, [operand(ctx, 0), operand(ctx, 1)]);
}

/** add/sub with alpha: a ± alpha·b. */
function addSub(opType: 'Add' | 'Sub'): Lowering {
  return (ctx) => {
    const alpha = ctx.arg<number | undefined>(2) ?? 1;
    let other = operand(ctx, 1);
    if (typeof ctx.arg(1) === 'number') {
      other = ctx.scalarLike(0, Number(ctx.arg(1)) * alpha);
    } else if (alpha !== 1) {
      other = ctx.node('Mul', [other, ctx.scalarLike(0, alpha)]);
    }
    return ctx.node(opType, [ctx.input(0), other]);
  };
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * A reshape to the traced result shape with the batch kept symbolic: 0 (ONNX's "copy the input's size at
 * this index") where the batch dimension stays in place, -1 on the result dimension the batch is merged
 * into (the result then has no batch dimension of its own).
 */
function reshapeTo(ctx: OpContext, outShape: readonly number[] = ctx.outShape()): string {
  const target = [...outShape];
  const axis = ctx.batchAxis(0);
  if (axis !== null) {
    const inShape = ctx.shape(0);
    const before = product(inShape.slice(0, axis));
    if (target[axis] === inShape[axis] && product(target.slice(0, axis)) === before) {
      target[axis] = 0;
    } else {
      let k = 0;
      while (k < target.length - 1 && product(target.slice(0, k + 1)) <= before) k++;
      target[k] = -1;
      ctx.setResultBatchAxis(null);
    }
  }
  return ctx.node('Reshape', [ctx.input(0), ctx.graph.int64s(target)]);
}
const reshape: Lowering = (ctx) => reshapeTo(ctx);

/** Dimension `d` of a rank-`rank` tensor, negatives counted from the end. */
const axis = (d: number, rank: number) => (d < 0 ? d + rank : d);

/** A list of dims as passed (an int, a list, or null/empty for all). */
function dims(value: unknown, rank: number): number[] {
  if (value === null || value === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof value === 'number' ? [value] : (value as number[]);
  return list.length === 0 ? Array.from({ length: rank }, (_, i) => i) : list.map((d) => axis(d, rank));
}

/** ReduceMean/Max/Min (axes an attribute in opset 17). */
function reduce(opType: string, dimArg: number | null, keepdimArg: number | null): Lowering {
  return (ctx) => {
    const rank = ctx.shape(0).length;
    const axes = dims(dimArg === null ? null : ctx.arg(dimArg), rank);
    const keepdims = keepdimArg === null ? false : Boolean(ctx.arg(keepdimArg));
    return ctx.node(opType, [ctx.input(0)], { axes: ints(axes), keepdims: int(keepdims ? 1 : 0) });
  };
}

/** ReduceSum (axes an input since opset 13). */
function reduceSum(dimArg: number | null, keepdimArg: number | null): Lowering {
  return (ctx) => {
    if (ctx.arg(dimArg === null ? 1 : 3) !== null && ctx.arg(dimArg === null ? 1 : 3) !== undefined) {
      throw ctx.error('a sum with a dtype argument has no ONNX mapping');
    }
    const axes = dims(dimArg === null ? null : ctx.arg(dimArg), ctx.shape(0).length);
    const keepdims = keepdimArg === null ? false : Boolean(ctx.arg(keepdimArg));
    return ctx.node('ReduceSum', [ctx.input(0), ctx.graph.int64s(axes)], { keepdims: int(keepdims ? 1 : 0) });
  };
}

/** conv1d/conv2d: weights [out, in/groups, *kernel]. `same`/`valid` padding becomes explicit pads. */
function conv(spatial: number, stringPadding: boolean): Lowering {
  return (ctx) => {
    const kernel = ctx.shape(1).slice(2);
    const strides = tuple(ctx.arg(3), spatial);
    const dilations = tuple(ctx.arg(5), spatial);
    let begin: number[];
    let end: number[];
    if (stringPadding) {
      const mode = ctx.arg<string>(4);
      if (mode === 'valid') {
        begin = end = Array(spatial).fill(0);
      } else {
        // 'same' (stride 1): the total padding d·(k-1), its smaller half first, as PyTorch pads.
        const total = kernel.map((k, i) => dilations[i] * (k - 1));
        begin = total.map((t) => Math.floor(t / 2));
        end = total.map((t, i) => t - begin[i]);
      }
    } else {
      begin = end = tuple(ctx.arg(4), spatial);
    }
    const inputs = [ctx.input(0), ctx.input(1)];
    const bias = ctx.optionalInput(2);
    if (bias) inputs.push(bias);
    return ctx.node('Conv', inputs, {
      kernel_shape: ints(kernel),
      strides: ints(strides),
      pads: ints([...begin, ...end]),
      dilations: ints(dilations),
      group: int(ctx.arg<number>(6)),
    });
  };
}

/** x·Wᵀ + b: Gemm for a batch of vectors, MatMul with the transposed weight otherwise. */
const linear: Lowering = (ctx) => {
  const bias = ctx.optionalInput(2);
  if (ctx.shape(0).length === 2) {
    return ctx.node('Gemm', bias ? [ctx.input(0), ctx.input(1), bias] : [ctx.input(0), ctx.input(1)], {
      transB: int(1),
    });
  }
  const weightT = ctx.node('Transpose', [ctx.input(1)], { perm: ints([1, 0]) });
  const product = ctx.node('MatMul', [ctx.input(0), weightT]);
  return bias ? ctx.node('Add', [product, bias]) : product;
};

/** Inference-mode batch norm over dimension 1 (missing affine parameters become ones and zeros). */
const batchNorm: Lowering = (ctx) => {
  if (ctx.arg(5)) throw ctx.error('batch norm in training mode cannot be exported; export a model in eval mode');
  const channels = ctx.shape(0)[1];
  const filled = (i: number, value: number) =>
    ctx.optionalInput(i) ?? ctx.graph.constant(ctx.type(0), [channels], Array(channels).fill(value));
  if (ctx.optionalInput(3) === null || ctx.optionalInput(4) === null) {
    throw ctx.error('batch norm without running statistics cannot be exported (it normalises by batch statistics)');
  }
  return ctx.node('BatchNormalization', [ctx.input(0), filled(1, 1), filled(2, 0), ctx.input(3), ctx.input(4)], {
    epsilon: float(ctx.arg<number>(7)),
  });
};

const layerNorm: Lowering = (ctx) => {
  const normalized = ctx.arg<number[]>(1);
  const size = normalized.reduce((a, b) => a * b, 1);
  const filled = (i: number, value: number) =>
    ctx.optionalInput(i) ?? ctx.graph.constant(ctx.type(0), normalized, Array(size).fill(value));
  return ctx.node('LayerNormalization', [ctx.input(0), filled(2, 1), filled(3, 0)], {
    axis: int(-normalized.length),
    epsilon: float(ctx.arg<number>(4)),
  });
};

/**
 * GroupNorm (opset 17 has no GroupNormalization): each group's values normalised by InstanceNormalization
 * over [N, G, rest], then the per-channel affine transform.
 */
const groupNorm: Lowering = (ctx) => {
  const shape = ctx.shape(0);
  const [channels, groups] = [shape[1], ctx.arg<number>(1)];
  const grouped = ctx.node('Reshape', [ctx.input(0), ctx.graph.int64s([0, groups, -1])]);
  const unit = (value: number) => ctx.graph.constant(ctx.type(0), [groups], Array(groups).fill(value));
  const normalised = ctx.node('InstanceNormalization', [grouped, unit(1), unit(0)], {
    epsilon: float(ctx.arg<number>(4)),
  });
  let y = ctx.node('Reshape', [normalised, ctx.graph.int64s([0, ...shape.slice(1)])]);
  const perChannel = ctx.graph.int64s([channels, ...Array(shape.length - 2).fill(1)]);
  const weight = ctx.optionalInput(2);
  const bias = ctx.optionalInput(3);
  if (weight) y = ctx.node('Mul', [y, ctx.node('Reshape', [weight, perChannel])]);
  if (bias) y = ctx.node('Add', [y, ctx.node('Reshape', [bias, perChannel])]);
  return y;
};

/**
 * Nearest and bilinear upsampling as Resize by scale factors (so the batch stays symbolic), with the
 * coordinate conventions PyTorch uses: nearest takes floor(dst · in/out), bilinear maps pixel centres
 * (or corners with align_corners).
 */
function upsample(mode: 'nearest' | 'linear'): Lowering {
  return (ctx) => {
    const inShape = ctx.shape(0);
    const outShape = ctx.outShape();
    const scales = outShape.map((size, i) => (i < 2 ? 1 : size / inShape[i]));
    const attributes: Record<string, AttributeValue> =
      mode === 'nearest'
        ? {
            mode: { string: 'nearest' },
            coordinate_transformation_mode: { string: 'asymmetric' },
            nearest_mode: { string: 'floor' },
          }
        : {
            mode: { string: 'linear' },
            coordinate_transformation_mode: { string: ctx.arg(2) ? 'align_corners' : 'pytorch_half_pixel' },
          };
    return ctx.node('Resize', [ctx.input(0), '', ctx.graph.constant('float32', [scales.length], scales)], attributes);
  };
}

/** PyTorch's GELU: x·Φ(x) exactly (through Erf), or its tanh approximation. */
const gelu: Lowering = (ctx) => {
  const x = ctx.input(0);
  const half = ctx.scalarLike(0, 0.5);
  const one = ctx.scalarLike(0, 1);
  let inner: string;
  if (ctx.arg(1) === 'tanh') {
    const cube = ctx.node('Mul', [ctx.node('Mul', [x, x]), x]);
    const sum = ctx.node('Add', [x, ctx.node('Mul', [cube, ctx.scalarLike(0, 0.044715)])]);
    inner = ctx.node('Tanh', [ctx.node('Mul', [sum, ctx.scalarLike(0, Math.sqrt(2 / Math.PI))])]);
  } else {
    inner = ctx.node('Erf', [ctx.node('Div', [x, ctx.scalarLike(0, Math.SQRT2)])]);
  }
  return ctx.node('Mul', [ctx.node('Mul', [x, half]), ctx.node('Add', [inner, one])]);
};

/** Pooling windows: kernel, strides (PyTorch's empty stride is the kernel), symmetric pads. */
function poolAttributes(ctx: OpContext, ceilArg: number): Record<string, AttributeValue> {
  const kernel = tuple(ctx.arg(1), 2);
  const stride = ctx.arg<number[]>(2);
  const pads = tuple(ctx.arg(3), 2);
  return {
    kernel_shape: ints(kernel),
    strides: ints(stride === null || (Array.isArray(stride) && stride.length === 0) ? kernel : tuple(stride, 2)),
    pads: ints([...pads, ...pads]),
    ceil_mode: int(ctx.arg(ceilArg) ? 1 : 0),
  };
}

const maxPool2d: Lowering = (ctx) =>
  ctx.node('MaxPool', [ctx.input(0)], { ...poolAttributes(ctx, 5), dilations: ints(tuple(ctx.arg(4), 2)) });

const avgPool2d: Lowering = (ctx) => {
  if (ctx.arg(6) !== null && ctx.arg(6) !== undefined) throw ctx.error('divisor_override has no ONNX mapping');
  return ctx.node('AveragePool', [ctx.input(0)], {
    ...poolAttributes(ctx, 4),
    count_include_pad: int(ctx.arg(5) ? 1 : 0),
  });
};

/** Adaptive pooling: global to 1×1, else an exact window where the input size divides evenly. */
function adaptivePool(global: string, windowed: string, spatial: number): Lowering {
  return (ctx) => {
    const size = ctx.shape(0).slice(-spatial);
    const out = tuple(ctx.arg(1), spatial);
    let value: string;
    if (out.every((o) => o === 1)) {
      value = ctx.node(global, [ctx.input(0)]);
    } else if (out.every((o, i) => size[i] % o === 0)) {
      const kernel = out.map((o, i) => size[i] / o);
      value = ctx.node(windowed, [ctx.input(0)], { kernel_shape: ints(kernel), strides: ints(kernel) });
    } else {
      throw ctx.error(
        `adaptive pooling of ${size.join('×')} to ${out.join('×')} (not a whole window) has no ONNX mapping`,
      );
    }
    return windowed === 'MaxPool' ? [value, null] : value;
  };
}

/** PyTorch pads last dimension first ([left, right, top, bottom]); ONNX all begins, then all ends. */
const pad: Lowering = (ctx) => {
  const rank = ctx.shape(0).length;
  const torchPads = ctx.arg<number[]>(1);
  const begins = Array(rank).fill(0);
  const ends = Array(rank).fill(0);
  for (let k = 0; k < torchPads.length / 2; k++) {
    begins[rank - 1 - k] = torchPads[2 * k];
    ends[rank - 1 - k] = torchPads[2 * k + 1];
  }
  const modes: Record<string, string> = { constant: 'constant', reflect: 'reflect', replicate: 'edge' };
  const mode = modes[ctx.arg<string>(2) ?? 'constant'];
  if (!mode) throw ctx.error(`padding mode '${ctx.arg(2)}' has no ONNX mapping`);
  const inputs = [ctx.input(0), ctx.graph.int64s([...begins, ...ends])];
  if (mode === 'constant') inputs.push(ctx.scalarLike(0, ctx.arg<number | null>(3) ?? 0));
  return ctx.node('Pad', inputs, { mode: { string: mode } });
};

/** Transposes by a permutation. */
const permute: Lowering = (ctx) =>
  transposeBy(
    ctx,
    ctx.arg<number[]>(1).map((d) => axis(d, ctx.shape(0).length)),
  );

/** A Transpose; the batch dimension moves with it. */
function transposeBy(ctx: OpContext, perm: number[]): string {
  const batch = ctx.batchAxis(0);
  ctx.setResultBatchAxis(batch === null ? null : perm.indexOf(batch));
  return ctx.node('Transpose', [ctx.input(0)], { perm: ints(perm) });
}

const transpose: Lowering = (ctx) => {
  const rank = ctx.shape(0).length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  const [a, b] = [axis(ctx.arg<number>(1), rank), axis(ctx.arg<number>(2), rank)];
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return transposeBy(ctx, perm);
};

/** An expand target with 1 wherever the input already has the size (so a symbolic batch passes through). */
const expand: Lowering = (ctx) => {
  const inShape = ctx.shape(0);
  const out = ctx.outShape();
  const offset = out.length - inShape.length;
  const target = out.map((size, i) => (i >= offset && inShape[i - offset] === size ? 1 : size));
  return ctx.node('Expand', [ctx.input(0), ctx.graph.int64s(target)]);
};

/** Slices along one dimension, end clipped to the size (PyTorch's end may be huge or absent). */
function sliceAlong(ctx: OpContext, dim: number, start: number, end: number, step: number): string {
  const size = ctx.shape(0)[dim];
  const clip = (v: number) => Math.max(-size, Math.min(v, size));
  return ctx.node('Slice', [
    ctx.input(0),
    ctx.graph.int64s([clip(start)]),
    ctx.graph.int64s([clip(end)]),
    ctx.graph.int64s([dim]),
    ctx.graph.int64s([step]),
  ]);
}

/** Splits along a dimension into pieces of the traced sizes. */
const split: Lowering = (ctx) => {
  const rank = ctx.shape(0).length;
  const dim = axis(ctx.arg<number>(2), rank);
  const sizes = (ctx.call.result as unknown[]).map((_, k) => ctx.outShape(k)[dim]);
  return ctx.nodes('Split', [ctx.input(0), ctx.graph.int64s(sizes)], { axis: int(dim) }, sizes.length);
};

const clamp: Lowering = (ctx) => {
  const bound = (i: number) => {
    const value = ctx.arg<number | null>(i);
    return value === null || value === undefined ? '' : ctx.scalarLike(0, value);
  };
  return ctx.node('Clip', [ctx.input(0), bound(1), bound(2)]);
};

const softmax =
  (opType: string): Lowering =>
  (ctx) => {
    if (ctx.arg(2) !== null && ctx.arg(2) !== undefined) throw ctx.error('a dtype argument has no ONNX mapping');
    return ctx.node(opType, [ctx.input(0)], { axis: int(ctx.arg<number>(1)) });
  };

const toDType: Lowering = (ctx) => {
  const target = ctx.arg<number | null>(ctx.op === 'aten::to.device' ? 2 : 1);
  // The dtype arrives as libtorch's scalar-type code; the result's own type says what it became.
  if (target === null || target === undefined) return ctx.input(0);
  const from = ctx.type(0);
  const resultType = ctx.outType();
  return resultType === from ? ctx.input(0) : ctx.node('Cast', [ctx.input(0)], { to: int(ctx.onnxType(resultType)) });
};

export const LOWERINGS: Record<string, Lowering> = withInPlace({
  'aten::conv2d': conv(2, false),
  'aten::conv2d.padding': conv(2, true),
  'aten::conv1d': conv(1, false),
  'aten::conv1d.padding': conv(1, true),
  'aten::linear': linear,
  'aten::matmul': binary('MatMul'),
  'aten::mm': binary('MatMul'),
  'aten::bmm': binary('MatMul'),
  'aten::t': (ctx) => transposeBy(ctx, [1, 0]),
  'aten::batch_norm': batchNorm,
  'aten::layer_norm': layerNorm,
  'aten::group_norm': groupNorm,
  'aten::upsample_nearest1d.vec': upsample('nearest'),
  'aten::upsample_nearest2d.vec': upsample('nearest'),
  'aten::upsample_nearest3d.vec': upsample('nearest'),
  'aten::upsample_bilinear2d.vec': upsample('linear'),

  'aten::relu': unary('Relu'),
  'aten::sigmoid': unary('Sigmoid'),
  'aten::tanh': unary('Tanh'),
  'aten::gelu': gelu,
  'aten::silu': (ctx) => ctx.node('Mul', [ctx.input(0), ctx.node('Sigmoid', [ctx.input(0)])]),
  'aten::mish': (ctx) => ctx.node('Mul', [ctx.input(0), ctx.node('Tanh', [ctx.node('Softplus', [ctx.input(0)])])]),
  'aten::hardsigmoid': unary('HardSigmoid', { alpha: float(1 / 6), beta: float(0.5) }),
  'aten::hardswish': unary('HardSwish'),
  'aten::relu6': (ctx) => ctx.node('Clip', [ctx.input(0), ctx.scalarLike(0, 0), ctx.scalarLike(0, 6)]),
  'aten::leaky_relu': (ctx) => ctx.node('LeakyRelu', [ctx.input(0)], { alpha: float(ctx.arg<number>(1)) }),
  'aten::elu': (ctx) => {
    if (ctx.arg(2) !== 1 || ctx.arg(3) !== 1) throw ctx.error('ELU with scale or input_scale has no ONNX mapping');
    return ctx.node('Elu', [ctx.input(0)], { alpha: float(ctx.arg<number>(1)) });
  },
  'aten::softplus': (ctx) => {
    const beta = ctx.arg<number>(1);
    if (beta === 1) return ctx.node('Softplus', [ctx.input(0)]);
    const scaled = ctx.node('Softplus', [ctx.node('Mul', [ctx.input(0), ctx.scalarLike(0, beta)])]);
    return ctx.node('Div', [scaled, ctx.scalarLike(0, beta)]);
  },
  'aten::softmax.int': softmax('Softmax'),
  'aten::log_softmax.int': softmax('LogSoftmax'),
  'aten::clamp': clamp,
  'aten::neg': unary('Neg'),
  'aten::abs': unary('Abs'),
  'aten::sqrt': unary('Sqrt'),
  'aten::rsqrt': (ctx) => ctx.node('Reciprocal', [ctx.node('Sqrt', [ctx.input(0)])]),
  'aten::reciprocal': unary('Reciprocal'),
  'aten::exp': unary('Exp'),
  'aten::log': unary('Log'),
  'aten::erf': unary('Erf'),
  'aten::sin': unary('Sin'),
  'aten::cos': unary('Cos'),
  'aten::floor': unary('Floor'),
  'aten::ceil': unary('Ceil'),

  'aten::add.Tensor': addSub('Add'),
  'aten::add.Scalar': addSub('Add'),
  'aten::sub.Tensor': addSub('Sub'),
  'aten::sub.Scalar': addSub('Sub'),
  'aten::mul.Tensor': binary('Mul'),
  'aten::mul.Scalar': binary('Mul'),
  'aten::div.Tensor': binary('Div'),
  'aten::div.Scalar': binary('Div'),
  'aten::pow.Tensor_Scalar': binary('Pow'),
  'aten::pow.Tensor_Tensor': binary('Pow'),
  'aten::maximum': binary('Max'),
  'aten::minimum': binary('Min'),

  'aten::max_pool2d': maxPool2d,
  'aten::avg_pool2d': avgPool2d,
  'aten::adaptive_avg_pool2d': adaptivePool('GlobalAveragePool', 'AveragePool', 2),
  'aten::adaptive_max_pool2d': adaptivePool('GlobalMaxPool', 'MaxPool', 2),
  'aten::adaptive_avg_pool1d': adaptivePool('GlobalAveragePool', 'AveragePool', 1),
  'aten::mean.dim': reduce('ReduceMean', 1, 2),
  'aten::mean': reduce('ReduceMean', null, null),
  'aten::amax': reduce('ReduceMax', 1, 2),
  'aten::amin': reduce('ReduceMin', 1, 2),
  'aten::sum.dim_IntList': reduceSum(1, 2),
  'aten::sum': reduceSum(null, null),

  'aten::view': reshape,
  'aten::reshape': reshape,
  'aten::flatten.using_ints': reshape,
  'aten::unflatten.int': reshape,
  'aten::squeeze': reshape,
  'aten::squeeze.dim': reshape,
  'aten::unsqueeze': reshape,
  'aten::expand': expand,
  'aten::permute': permute,
  'aten::transpose.int': transpose,
  'aten::cat': (ctx) => ctx.node('Concat', ctx.inputList(0), { axis: int(ctx.arg<number>(1)) }),
  'aten::stack': (ctx) => {
    const rank = ctx.outShape().length;
    const dim = axis(ctx.arg<number>(1), rank);
    const parts = ctx.inputList(0).map((v) => ctx.node('Unsqueeze', [v, ctx.graph.int64s([dim])]));
    return ctx.node('Concat', parts, { axis: int(dim) });
  },
  'aten::slice.Tensor': (ctx) => {
    const dim = axis(ctx.arg<number>(1), ctx.shape(0).length);
    return sliceAlong(ctx, dim, ctx.arg<number | null>(2) ?? 0, ctx.arg<number | null>(3) ?? 2 ** 53, ctx.arg(4) ?? 1);
  },
  'aten::narrow': (ctx) => {
    const dim = axis(ctx.arg<number>(1), ctx.shape(0).length);
    return sliceAlong(ctx, dim, ctx.arg<number>(2), ctx.arg<number>(2) + ctx.arg<number>(3), 1);
  },
  'aten::select.int': (ctx) => {
    const dim = axis(ctx.arg<number>(1), ctx.shape(0).length);
    return ctx.node('Gather', [ctx.input(0), ctx.graph.scalar(ctx.arg<number>(2), 'int64')], { axis: int(dim) });
  },
  'aten::split.Tensor': split,
  'aten::split_with_sizes': split,
  'aten::chunk': split,
  'aten::pad': pad,

  'aten::dropout': inferenceDropout,
  'aten::feature_dropout': inferenceDropout,
  'aten::contiguous': alias,
  'aten::clone': alias,
  'aten::detach': alias,
  'aten::to.dtype': toDType,
  'aten::to.device': toDType,
});
