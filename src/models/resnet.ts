// ImageNet ResNets, SE-ResNets, ResNeXts and SE-ResNeXts in timm's layout (models/resnet.py), which is
// also torchvision's for the plain nets: a 7×7 stride-2 stem, 3×3 max pooling, four stages of basic
// (ResNet-18/34) or bottleneck blocks with the stride in the 3×3 convolution ("ResNet v1.5"), global
// average pooling and a linear classifier. State-dict names:
//   conv1, bn1, layerN.M.{conv1..3, bn1..3, se.fc1, se.fc2, downsample.0, downsample.1}, fc
// so timm's and torchvision's checkpoints load by name. As in both, a block's shortcut projection is built
// before the block itself (it matters for which random numbers a seeded initialisation draws).
import { nn, F, type Tensor } from '../torch/index.js';
import { checkChoice, checkInt } from '../torch/nn/args.js';
import {
  createAttention,
  checkAttentionConfig,
  checkFeatureMap,
  type AttentionConfig,
  type Layer,
} from '../se/index.js';
import { resolveModelOptions, type ModelOptions } from './model-options.js';
import { initResNet } from './resnet-init.js';

/** timm's SE unit for ResNets: 1×1 convs with bias, hidden width makeDivisible(C/16, 8), sigmoid gate. */
export const TIMM_SE: AttentionConfig = Object.freeze({
  type: 'se',
  reduction: 16,
  rdMode: 'divisible',
  excitation: 'conv',
  bias: true,
  squeeze: 'avg',
  gate: 'sigmoid',
});

export type BlockType = 'basic' | 'bottleneck';

function projection(inChannels: number, outChannels: number, stride: number, f: nn.FactoryOptions): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(inChannels, outChannels, 1, { stride, bias: false, ...f }),
    new nn.BatchNorm2d(outChannels, f),
  );
}

function shortcut(downsample: nn.Sequential | null, x: Tensor): Tensor {
  return downsample ? (downsample.call(x) as Tensor) : x;
}

/** Two 3×3 convolutions (the first strided) with BN, SE after bn2, and the shortcut. Expansion 1. */
export class BasicBlock extends nn.Module {
  static readonly expansion = 1;
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  se: Layer | null;
  downsample: nn.Sequential | null;

  constructor(
    inChannels: number,
    planes: number,
    stride: number,
    downsample: nn.Sequential | null,
    attention: AttentionConfig,
    factory: nn.FactoryOptions = {},
  ) {
    super();
    const f = factory;
    this.conv1 = new nn.Conv2d(inChannels, planes, 3, { stride, padding: 1, bias: false, ...f });
    this.bn1 = new nn.BatchNorm2d(planes, f);
    this.conv2 = new nn.Conv2d(planes, planes, 3, { padding: 1, bias: false, ...f });
    this.bn2 = new nn.BatchNorm2d(planes, f);
    this.se = createAttention(attention, planes, f);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    y = this.bn2.call(this.conv2.call(y));
    if (this.se) y = this.se.call(y);
    return F.relu(y.add(shortcut(this.downsample, x)));
  }
}

/**
 * 1×1 → 3×3 (strided, grouped for ResNeXt) → 1×1 with BN, SE after bn3, and the shortcut. The middle
 * width is ⌊planes·baseWidth/64⌋·cardinality (planes for a ResNet, 128 in the first stage of a 32x4d
 * ResNeXt); the output has 4·planes channels.
 */
export class Bottleneck extends nn.Module {
  static readonly expansion = 4;
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  conv3: nn.Conv2d;
  bn3: nn.BatchNorm2d;
  se: Layer | null;
  downsample: nn.Sequential | null;

  constructor(
    inChannels: number,
    planes: number,
    stride: number,
    downsample: nn.Sequential | null,
    attention: AttentionConfig,
    cardinality: number,
    baseWidth: number,
    factory: nn.FactoryOptions = {},
  ) {
    super();
    const f = factory;
    const width = Math.floor(planes * (baseWidth / 64)) * cardinality;
    const outChannels = planes * Bottleneck.expansion;
    this.conv1 = new nn.Conv2d(inChannels, width, 1, { bias: false, ...f });
    this.bn1 = new nn.BatchNorm2d(width, f);
    this.conv2 = new nn.Conv2d(width, width, 3, { stride, padding: 1, groups: cardinality, bias: false, ...f });
    this.bn2 = new nn.BatchNorm2d(width, f);
    this.conv3 = new nn.Conv2d(width, outChannels, 1, { bias: false, ...f });
    this.bn3 = new nn.BatchNorm2d(outChannels, f);
    this.se = createAttention(attention, outChannels, f);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    y = F.relu(this.bn2.call(this.conv2.call(y)));
    y = this.bn3.call(this.conv3.call(y));
    if (this.se) y = this.se.call(y);
    return F.relu(y.add(shortcut(this.downsample, x)));
  }
}

export interface ResNetOptions extends ModelOptions {
  /** Blocks per stage, e.g. [3, 4, 6, 3] for ResNet-50. */
  layers: readonly [number, number, number, number];
  block: BlockType;
  /** ResNeXt groups in the 3×3 convolutions (default 1). */
  cardinality?: number;
  /** ResNeXt width per group (default 64; 4 for "32x4d"). */
  baseWidth?: number;
  /** Channels of the stem convolution (default 64). */
  stemWidth?: number;
  /** The planes of the four stages (default [64, 128, 256, 512]); smaller values make small test nets. */
  widths?: readonly [number, number, number, number];
  /** The SE unit of every block; default none. TIMM_SE is timm's. */
  attention?: AttentionConfig;
  /**
   * Start every block's last BN scale at zero, so each block starts as the identity (timm's
   * zero_init_last; default true, as timm). The rest of timm's initialisation always applies.
   */
  zeroInitLastBn?: boolean;
}

export class ResNet extends nn.Module {
  readonly numClasses: number;
  readonly inputShape: [number, number, number];
  /** The classifier child (see Model). */
  readonly classifierName = 'fc';
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  maxpool: nn.MaxPool2d;
  layer1: nn.Sequential;
  layer2: nn.Sequential;
  layer3: nn.Sequential;
  layer4: nn.Sequential;
  fc: nn.Linear;

  constructor(options: ResNetOptions) {
    super();
    const o = resolveModelOptions(options, 'ResNet', { numClasses: 1000, inputSize: 224 });
    const block = checkChoice(options.block, ['basic', 'bottleneck'] as const, 'ResNet: block');
    const layers = checkFour(options.layers, 'ResNet: layers', 1);
    const widths = checkFour(options.widths ?? [64, 128, 256, 512], 'ResNet: widths', 1);
    const cardinality = checkInt(options.cardinality ?? 1, 'ResNet: cardinality', 1);
    const baseWidth = checkInt(options.baseWidth ?? 64, 'ResNet: baseWidth', 1);
    const stemWidth = checkInt(options.stemWidth ?? 64, 'ResNet: stemWidth', 1);
    if (block === 'basic' && (cardinality !== 1 || baseWidth !== 64)) {
      throw new RangeError(
        `ResNet: basic blocks support only cardinality 1 and baseWidth 64 (got ${cardinality} and ${baseWidth}); ` +
          `use bottleneck blocks for ResNeXt`,
      );
    }
    const attention = checkAttentionConfig(options.attention ?? { type: 'none' }, 'ResNet: attention');
    this.numClasses = o.numClasses;
    this.inputShape = [o.inChannels, ...o.inputSize];
    const f = o.factory;
    this.conv1 = new nn.Conv2d(o.inChannels, stemWidth, 7, { stride: 2, padding: 3, bias: false, ...f });
    this.bn1 = new nn.BatchNorm2d(stemWidth, f);
    this.maxpool = new nn.MaxPool2d(3, { stride: 2, padding: 1 });
    const expansion = block === 'basic' ? BasicBlock.expansion : Bottleneck.expansion;
    let channels = stemWidth;
    const stages = widths.map((planes, i) => {
      const stage = new nn.Sequential();
      for (let j = 0; j < layers[i]; j++) {
        const stride = j === 0 && i > 0 ? 2 : 1;
        const outChannels = planes * expansion;
        const downsample =
          stride !== 1 || channels !== outChannels ? projection(channels, outChannels, stride, f) : null;
        stage.append(
          block === 'basic'
            ? new BasicBlock(channels, planes, stride, downsample, attention, f)
            : new Bottleneck(channels, planes, stride, downsample, attention, cardinality, baseWidth, f),
        );
        channels = outChannels;
      }
      return stage;
    });
    [this.layer1, this.layer2, this.layer3, this.layer4] = stages;
    this.fc = new nn.Linear(channels, o.numClasses, f);
    initResNet(
      this,
      (m) => (m instanceof BasicBlock ? m.bn2 : m instanceof Bottleneck ? m.bn3 : null),
      options.zeroInitLastBn ?? true,
    );
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.inputShape[0], 'ResNet');
    let y = this.maxpool.call(F.relu(this.bn1.call(this.conv1.call(x))));
    for (const stage of [this.layer1, this.layer2, this.layer3, this.layer4]) y = stage.call(y) as Tensor;
    return this.fc.call(y.mean([2, 3]));
  }
}

export function checkFour(values: readonly number[], what: string, min = 0): [number, number, number, number] {
  if (!Array.isArray(values) || values.length !== 4) {
    throw new TypeError(`${what} must list 4 stages, got ${JSON.stringify(values)}`);
  }
  return values.map((v, i) => checkInt(v, `${what}[${i}]`, min)) as [number, number, number, number];
}
