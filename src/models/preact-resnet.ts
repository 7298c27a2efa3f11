// Pre-activation ResNets for CIFAR (He et al., "Identity Mappings in Deep Residual Networks", 2016) with
// bottleneck blocks: the family of the SE paper's CIFAR ResNet-164. Each block is BN-ReLU-conv three
// times (1×1 to width w, 3×3 at stride, 1×1 to 4w), widths 16/32/64 (outputs 64/128/256), n = (depth-2)/9
// blocks per stage (18 for depth 164), the SE unit on the branch output before the addition, and a final
// BN-ReLU before pooling. Names follow the widely used PyTorch port (bearpaw/pytorch-classification):
//   conv1, layerN.M.{bn1, conv1, bn2, conv2, bn3, conv3, se.fc1, se.fc2, downsample.0}, bn, fc
// The shortcut projection is a bare 1×1 conv: in a pre-activation net the block input is not normalised.
import { nn, F, type Tensor } from '../torch/index.js';
import { checkInt } from '../torch/nn/args.js';
import {
  createAttention,
  checkAttentionConfig,
  checkFeatureMap,
  type AttentionConfig,
  type Layer,
} from '../se/index.js';
import { resolveModelOptions, type ModelOptions } from './model-options.js';
import { initResNet } from './resnet-init.js';

const EXPANSION = 4;
const STAGE_WIDTHS = [16, 32, 64] as const;

export class PreActBottleneck extends nn.Module {
  bn1: nn.BatchNorm2d;
  conv1: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn3: nn.BatchNorm2d;
  conv3: nn.Conv2d;
  se: Layer | null;
  downsample: nn.Sequential | null;

  constructor(
    inChannels: number,
    width: number,
    stride: number,
    attention: AttentionConfig,
    factory: nn.FactoryOptions = {},
  ) {
    super();
    const f = factory;
    const outChannels = width * EXPANSION;
    this.bn1 = new nn.BatchNorm2d(inChannels, f);
    this.conv1 = new nn.Conv2d(inChannels, width, 1, { bias: false, ...f });
    this.bn2 = new nn.BatchNorm2d(width, f);
    this.conv2 = new nn.Conv2d(width, width, 3, { stride, padding: 1, bias: false, ...f });
    this.bn3 = new nn.BatchNorm2d(width, f);
    this.conv3 = new nn.Conv2d(width, outChannels, 1, { bias: false, ...f });
    this.se = createAttention(attention, outChannels, f);
    this.downsample =
      stride !== 1 || inChannels !== outChannels
        ? new nn.Sequential(new nn.Conv2d(inChannels, outChannels, 1, { stride, bias: false, ...f }))
        : null;
  }

  forward(x: Tensor): Tensor {
    let y = this.conv1.call(F.relu(this.bn1.call(x)));
    y = this.conv2.call(F.relu(this.bn2.call(y)));
    y = this.conv3.call(F.relu(this.bn3.call(y)));
    if (this.se) y = this.se.call(y);
    return y.add(this.downsample ? (this.downsample.call(x) as Tensor) : x);
  }
}

export interface PreActResNetOptions extends ModelOptions {
  /** 9n + 2 layers: 164 (default), 56, 110, ... */
  depth?: number;
  /** The SE unit of every block; default none. CIFAR_SE is the paper's (⌊C/16⌋, Linear, no bias). */
  attention?: AttentionConfig;
  /**
   * Start every block's bn3 scale at zero (default true, as timm's zero_init_last): its ReLU then passes
   * zeros to conv3, so the branch adds nothing and each block starts as the identity.
   */
  zeroInitLastBn?: boolean;
}

export class PreActResNet extends nn.Module {
  readonly depth: number;
  readonly numClasses: number;
  readonly inputShape: [number, number, number];
  /** The classifier child (see Model). */
  readonly classifierName = 'fc';
  conv1: nn.Conv2d;
  layer1: nn.Sequential;
  layer2: nn.Sequential;
  layer3: nn.Sequential;
  bn: nn.BatchNorm2d;
  fc: nn.Linear;

  constructor(options: PreActResNetOptions = {}) {
    super();
    const o = resolveModelOptions(options, 'PreActResNet', { numClasses: 10, inputSize: 32 });
    this.depth = checkInt(options.depth ?? 164, 'PreActResNet: depth', 11);
    if ((this.depth - 2) % 9 !== 0) {
      throw new RangeError(`PreActResNet: depth must be 9n + 2 (56, 110, 164, ...), got ${this.depth}`);
    }
    const attention = checkAttentionConfig(options.attention ?? { type: 'none' }, 'PreActResNet: attention');
    this.numClasses = o.numClasses;
    this.inputShape = [o.inChannels, ...o.inputSize];
    const blocksPerStage = (this.depth - 2) / 9;
    const f = o.factory;
    this.conv1 = new nn.Conv2d(o.inChannels, STAGE_WIDTHS[0], 3, { padding: 1, bias: false, ...f });
    let channels: number = STAGE_WIDTHS[0];
    const stages = STAGE_WIDTHS.map((width, i) => {
      const stage = new nn.Sequential();
      for (let j = 0; j < blocksPerStage; j++) {
        stage.append(new PreActBottleneck(channels, width, j === 0 && i > 0 ? 2 : 1, attention, f));
        channels = width * EXPANSION;
      }
      return stage;
    });
    [this.layer1, this.layer2, this.layer3] = stages;
    this.bn = new nn.BatchNorm2d(channels, f);
    this.fc = new nn.Linear(channels, o.numClasses, f);
    initResNet(this, (m) => (m instanceof PreActBottleneck ? m.bn3 : null), options.zeroInitLastBn ?? true);
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.inputShape[0], 'PreActResNet');
    let y = this.conv1.call(x);
    for (const stage of [this.layer1, this.layer2, this.layer3]) y = stage.call(y) as Tensor;
    return this.fc.call(F.relu(this.bn.call(y)).mean([2, 3]));
  }
}
