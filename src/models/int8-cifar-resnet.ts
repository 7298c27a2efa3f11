// The int8 form of a CIFAR (SE-)ResNet, for post-training static quantization (prepare → calibrate →
// convert). Built from a BatchNorm-folded float model, it runs the same graph as PyTorch's FX graph-mode
// quantization of the reference model: quint8 activations between fused conv(+ReLU) layers, the
// residual as a quantized add+ReLU, and the SE unit in int8 (channel means on the quantized map,
// linear+ReLU, linear, sigmoid with its fixed 1/256 scale, a broadcast quantized multiply); only the
// input is quantized and the logits dequantized. Until converted it runs in float32 and records ranges.
import { nn, F, noGrad, tidy, type Tensor } from '../torch/index.js';
import {
  Int8Layer,
  Quantize,
  QuantizedAdd,
  QuantizedConv2d,
  QuantizedLinear,
  QuantizedMul,
  dequantize,
  isQuantized,
  type Int8Weight,
  type QParams,
} from '../torch/quantization/index.js';
import { SqueezeExcite } from '../se/squeeze-excite.js';
import { checkFeatureMap } from '../se/index.js';
import { CifarBasicBlock, type CifarResNet } from './cifar-resnet.js';
import { foldBatchNorm } from './fold-batchnorm.js';

/**
 * Each channel's mean, [N, C]. On a quantized map adaptive_avg_pool2d is the fast kernel (channels-last,
 * in int8); libtorch's quantized mean dequantizes the whole map first (35× slower here).
 */
function channelMeans(x: Tensor): Tensor {
  const [n, c] = x.shape;
  return isQuantized(x) ? F.adaptiveAvgPool2d(x, [1, 1]).view(n, c) : x.mean([2, 3]);
}

/**
 * The gate [N, C] laid out as the map it scales. In float32 a broadcast view; in int8 materialised in the
 * map's memory format, because libtorch's quantized mul broadcasts slowly (over 100× slower than
 * copying the gate out and multiplying tensors of one shape, on a 16×32×32 map).
 */
function spread(gate: Tensor, x: Tensor): Tensor {
  const [n, c] = x.shape;
  const view = gate.view(n, c, 1, 1);
  if (!isQuantized(x)) return view;
  return view.expand(x.shape).contiguous(x.isContiguous('channelsLast') ? 'channelsLast' : 'contiguous');
}

/** The SE unit: squeeze (mean over H, W), excite (fc1 + ReLU, fc2), sigmoid gate, rescale. */
class Int8SqueezeExcite extends nn.Module {
  fc1: QuantizedLinear;
  fc2: QuantizedLinear;
  scale: QuantizedMul;

  constructor(se: SqueezeExcite) {
    super();
    this.fc1 = new QuantizedLinear(se.fc1 as nn.Linear, true);
    this.fc2 = new QuantizedLinear(se.fc2 as nn.Linear);
    this.scale = new QuantizedMul();
  }

  forward(x: Tensor): Tensor {
    const gate = this.fc2.call(this.fc1.call(channelMeans(x))).sigmoid();
    return this.scale.call(x, spread(gate, x));
  }
}

class Int8BasicBlock extends nn.Module {
  conv1: QuantizedConv2d;
  conv2: QuantizedConv2d;
  se: Int8SqueezeExcite | null;
  downsample: QuantizedConv2d | null;
  add: QuantizedAdd;

  constructor(block: CifarBasicBlock) {
    super();
    this.conv1 = new QuantizedConv2d(block.conv1, true);
    this.conv2 = new QuantizedConv2d(block.conv2);
    this.se = block.se ? new Int8SqueezeExcite(block.se as SqueezeExcite) : null;
    this.downsample = block.downsample ? new QuantizedConv2d(block.downsample.children()[0] as nn.Conv2d) : null;
    this.add = new QuantizedAdd(true);
  }

  forward(x: Tensor): Tensor {
    let y = this.conv2.call(this.conv1.call(x));
    if (this.se) y = this.se.call(y);
    return this.add.call(y, this.downsample ? this.downsample.call(x) : x);
  }
}

/** Why a CIFAR ResNet cannot take the int8 path, or null when it can. */
function unsupported(model: CifarResNet): string | null {
  for (const block of model.modules()) {
    if (!(block instanceof CifarBasicBlock)) continue;
    if (!block.se) continue;
    if (block.placement !== 'standard') return `SE placement '${block.placement}' (only 'standard' is)`;
    const se = block.se;
    if (!(se instanceof SqueezeExcite)) return `the attention unit ${se.constructor.name} (only the SE unit is)`;
    if (se.excitation !== 'linear' || se.squeezeMode !== 'avg' || se.gateName !== 'sigmoid') {
      return 'an SE unit other than avg squeeze, linear excitation and sigmoid gate';
    }
  }
  return null;
}

/** The int8 layers of a model by their state-dict style names ('conv1', 'layer1.0.se.fc1', ...). */
export function int8Layers(model: nn.Module): [string, Int8Layer][] {
  return model.namedModules().filter((e): e is [string, Int8Layer] => e[1] instanceof Int8Layer);
}

export class Int8CifarResNet extends nn.Module {
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  readonly classifierName = 'fc';
  quant: Quantize;
  conv1: QuantizedConv2d;
  layer1: nn.Sequential;
  layer2: nn.Sequential;
  layer3: nn.Sequential;
  fc: QuantizedLinear;

  /**
   * The int8 model (still calibrating) of `model`, whose BatchNorms are folded here in place: pass a
   * model you do not use otherwise. Throws for the variants the int8 path does not cover.
   */
  constructor(model: CifarResNet) {
    super();
    const why = unsupported(model);
    if (why) throw new Error(`int8 quantization does not support ${why}`);
    foldBatchNorm(model);
    this.inputShape = model.inputShape;
    this.numClasses = model.numClasses;
    this.quant = new Quantize();
    this.conv1 = new QuantizedConv2d(model.conv1, true);
    const stage = (s: nn.Sequential) =>
      new nn.Sequential(...s.children().map((b) => new Int8BasicBlock(b as CifarBasicBlock)));
    this.layer1 = stage(model.layer1);
    this.layer2 = stage(model.layer2);
    this.layer3 = stage(model.layer3);
    this.fc = new QuantizedLinear(model.fc);
    this.eval();
  }

  get converted(): boolean {
    return this.quant.converted;
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.inputShape[0], 'Int8CifarResNet');
    let y = this.conv1.call(this.quant.call(x.contiguous()));
    for (const stage of [this.layer1, this.layer2, this.layer3]) y = stage.call(y) as Tensor;
    const logits = this.fc.call(channelMeans(y));
    return this.converted ? dequantize(logits) : logits;
  }

  /**
   * Ends calibration: every layer takes the qparams of its observed range, or with `saved` (loading) the
   * stored qparams and int8 weights by layer name.
   */
  convert(saved?: { qparams: Record<string, QParams>; weights: Record<string, Int8Weight> }): void {
    for (const [name, layer] of int8Layers(this)) {
      const qparams = saved ? saved.qparams[name] : undefined;
      if (saved && !qparams) throw new Error(`the int8 model has no quantization parameters for layer '${name}'`);
      if (layer instanceof QuantizedConv2d || layer instanceof QuantizedLinear) {
        const weight = saved ? saved.weights[name] : undefined;
        if (saved && !weight) throw new Error(`the int8 model has no weight for layer '${name}'`);
        layer.convert(qparams, weight);
      } else {
        layer.convert(qparams);
      }
    }
  }

  override dispose(): void {
    for (const [, layer] of int8Layers(this)) layer.dispose();
    super.dispose();
  }
}

/** Runs calibration batches through a not yet converted int8 model (float forward, ranges recorded). */
export function calibrate(model: Int8CifarResNet, batches: Iterable<Tensor>): number {
  if (model.converted) throw new Error('calibrate: the model is converted already');
  let images = 0;
  for (const x of batches) {
    noGrad(() => tidy(() => void model.call(x)));
    images += x.size(0);
  }
  return images;
}
