// Int8 layers for post-training static quantization. Each one has two lives: until convert() it runs in
// float32 and records the range of its output (calibration: the model's forward pass is written once);
// after, it runs libtorch's quantized kernels on quint8 activations with the recorded scale and zero
// point. Models are quantized after BatchNorm folding, so a convolution carries its folded bias.
import { Module } from '../nn/module.js';
import type { Conv2d } from '../nn/conv.js';
import type { Linear } from '../nn/linear.js';
import type { Tensor } from '../tensor.js';
import { tidy, keep, dispose } from '../memory.js';
import * as F from '../functional/index.js';
import { zeros } from '../ops/creation.js';
import { MinMaxObserver, weightScales, type QParams } from './observer.js';
import * as q from './ops.js';

/** A layer whose output is quantized with one scale and zero point, recorded during calibration. */
export abstract class Int8Layer extends Module {
  /** The output's quantization parameters; null while calibrating. */
  output: QParams | null = null;
  /** @internal */ readonly observer = new MinMaxObserver();

  get converted(): boolean {
    return this.output !== null;
  }

  /** Records the range of a float output during calibration and passes it on. */
  protected observed(y: Tensor): Tensor {
    this.observer.observe(y);
    return y;
  }

  /** Ends calibration: the output qparams come from the observed range unless given (loading). */
  convert(output: QParams = this.observer.qparams()): void {
    this.output = { scale: output.scale, zeroPoint: output.zeroPoint };
  }
}

/** The model input, float32 to quint8 (PyTorch's QuantStub). */
export class Quantize extends Int8Layer {
  forward(x: Tensor): Tensor {
    return this.output ? q.quantizePerTensor(x, this.output.scale, this.output.zeroPoint, 'quint8') : this.observed(x);
  }
}

/** The int8 form of a weight: qint8 values, per-output-channel scales (zero points 0), a float32 bias. */
export interface Int8Weight {
  /** int8 [out, ...] */
  values: Tensor;
  /** float64 [out] */
  scales: Tensor;
  bias: Tensor | null;
}

/** Quantizes a float weight per output channel (symmetric qint8). */
function quantizeWeight(float: Tensor, bias: Tensor | null): { qweight: Tensor; weight: Int8Weight } {
  return tidy(() => {
    const scales = weightScales(float);
    const qweight = q.quantizePerChannel(float, scales, zeros([scales.size(0)], { dtype: 'int64' }), 0, 'qint8');
    return { qweight, weight: { values: q.intRepr(qweight), scales, bias: bias ? bias.float().contiguous() : null } };
  });
}

/** A stored int8 weight as a per-channel quantized tensor. */
function restoreWeight(weight: Int8Weight): Tensor {
  return tidy(() => {
    return q.makePerChannelQuantized(weight.values, weight.scales, 0);
  });
}

/** A layer with prepacked int8 weights (convolution or linear). */
abstract class Int8WeightedLayer extends Int8Layer {
  /** The float weight and bias (calibration runs on them; dropped at convert()). */
  protected floatWeight: Tensor | null;
  protected floatBias: Tensor | null;
  /** The int8 weight as saved, once converted. */
  protected weight: Int8Weight | null = null;
  protected packed: q.PackedParams | null = null;
  readonly relu: boolean;

  constructor(weight: Tensor, bias: Tensor | null, relu: boolean) {
    super();
    this.floatWeight = keep(weight.detach().float().contiguous());
    this.floatBias = bias ? keep(bias.detach().float().contiguous()) : null;
    this.relu = relu;
  }

  protected abstract pack(qweight: Tensor, bias: Tensor | null): q.PackedParams;

  /** Converts with the calibrated (or given) output qparams; `weight` restores a saved int8 weight. */
  override convert(output?: QParams, weight?: Int8Weight): void {
    if (!weight && !this.floatWeight) throw new Error('convert: this layer was converted already');
    super.convert(output);
    tidy(() => {
      let qweight: Tensor;
      if (weight) {
        qweight = restoreWeight(weight);
        // Copies the layer owns: the caller frees what it loaded.
        const bias = weight.bias ? weight.bias.float().clone() : null;
        this.weight = keep({ values: weight.values.clone(), scales: weight.scales.to('float64').clone(), bias });
      } else {
        ({ qweight, weight: this.weight } = keep(quantizeWeight(this.floatWeight!, this.floatBias)));
      }
      // The packed copy lives as long as the layer; the quantized tensor it was made from can go.
      this.packed = this.pack(qweight, this.weight.bias);
    });
    dispose([this.floatWeight, this.floatBias]);
    this.floatWeight = null;
    this.floatBias = null;
  }

  /** The int8 weight as it is saved: int8 values, float64 scales, float32 bias. */
  int8Weight(): Int8Weight {
    if (!this.weight) throw new Error('int8Weight: convert the layer first');
    return this.weight;
  }

  override dispose(): void {
    dispose([this.floatWeight, this.floatBias, this.weight]);
    this.packed = null;
    super.dispose();
  }
}

/** A convolution (BatchNorm folded in), optionally fused with the ReLU after it. */
export class QuantizedConv2d extends Int8WeightedLayer {
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly groups: number;

  constructor(conv: Conv2d, relu = false) {
    super(conv.weight, conv.bias, relu);
    if (typeof conv.padding === 'string' || conv.paddingMode !== 'zeros') {
      throw new Error('QuantizedConv2d: only convolutions with explicit zero padding can be quantized');
    }
    this.stride = [...conv.stride];
    this.padding = [...conv.padding];
    this.dilation = [...conv.dilation];
    this.groups = conv.groups;
  }

  protected pack(qweight: Tensor, bias: Tensor | null): q.PackedParams {
    return q.conv2dPrepack(qweight, bias, this.stride, this.padding, this.dilation, this.groups);
  }

  forward(x: Tensor): Tensor {
    if (this.output) return q.conv2d(x, this.packed!, this.output.scale, this.output.zeroPoint, this.relu);
    const { stride, padding, dilation, groups } = this;
    const y = F.conv2d(x, this.floatWeight!, this.floatBias, { stride, padding, dilation, groups });
    return this.observed(this.relu ? F.relu(y) : y);
  }
}

/** A linear layer, optionally fused with the ReLU after it. */
export class QuantizedLinear extends Int8WeightedLayer {
  constructor(linear: Linear, relu = false) {
    super(linear.weight, linear.bias, relu);
  }

  protected pack(qweight: Tensor, bias: Tensor | null): q.PackedParams {
    return q.linearPrepack(qweight, bias);
  }

  forward(x: Tensor): Tensor {
    if (this.output) return q.linear(x, this.packed!, this.output.scale, this.output.zeroPoint, this.relu);
    const y = F.linear(x, this.floatWeight!, this.floatBias);
    return this.observed(this.relu ? F.relu(y) : y);
  }
}

/** a + b (a residual connection), optionally followed by ReLU (PyTorch's FloatFunctional.add(_relu)). */
export class QuantizedAdd extends Int8Layer {
  constructor(readonly relu = false) {
    super();
  }

  forward(a: Tensor, b: Tensor): Tensor {
    if (this.output) return q.add(a, b, this.output.scale, this.output.zeroPoint, this.relu);
    const y = a.add(b);
    return this.observed(this.relu ? F.relu(y) : y);
  }
}

/** a * b with broadcasting (an SE gate [N, C, 1, 1] rescaling a feature map [N, C, H, W]). */
export class QuantizedMul extends Int8Layer {
  forward(a: Tensor, b: Tensor): Tensor {
    return this.output ? q.mul(a, b, this.output.scale, this.output.zeroPoint) : this.observed(a.mul(b));
  }
}
