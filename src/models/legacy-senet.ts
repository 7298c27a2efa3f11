// The SENet family as the SE paper's released (Caffe) models were ported to PyTorch — Cadene's
// pretrainedmodels `senet.py`, kept by timm as `legacy_seresnet50`, `legacy_senet154`, ... — under those
// ports' state-dict names, so their checkpoints load by name:
//   layer0.{conv1, bn1} (SENet-154: layer0.{conv1..3, bn1..3}),
//   layerN.M.{conv1..3, bn1..3, se_module.fc1, se_module.fc2, downsample.0, downsample.1}, last_linear
// The layout differs from timm's own SE-ResNets (resnet.ts) where the Caffe models did: the stem's max
// pooling rounds up (ceil_mode) instead of padding; SE-ResNet bottlenecks stride their first 1×1
// convolution, not the 3×3; the SE units have ⌊C/16⌋ hidden channels (1×1 convolutions with bias); the
// basic blocks (legacy_seresnet18/34) apply a ReLU after bn2, before the SE unit. SENet-154 has a stem of
// three 3×3 convolutions, 64-group bottlenecks that widen 2×planes → 4×planes, 3×3 shortcut projections
// and dropout before the classifier. As in the ports, a block's shortcut projection is built before the
// block itself (it decides which random numbers a seeded initialisation draws).
import { nn, F, type Tensor } from '../torch/index.js';
import { checkChoice, checkInt, checkProbability } from '../torch/nn/args.js';
import {
  createAttention,
  checkAttentionConfig,
  checkFeatureMap,
  type AttentionConfig,
  type Layer,
} from '../se/index.js';
import { resolveModelOptions, type ModelOptions } from './model-options.js';
import { checkFour } from './resnet.js';

/** The ports' SEModule: spatial mean, 1×1 convs with bias, C → ⌊C/16⌋ → C, sigmoid gate. */
export const LEGACY_SE: AttentionConfig = Object.freeze({
  type: 'se',
  reduction: 16,
  rdMode: 'floor',
  excitation: 'conv',
  bias: true,
  squeeze: 'avg',
  gate: 'sigmoid',
});

/**
 * The block of each model: 'basic' (SEResNetBlock: legacy_seresnet18/34), 'resnet' (SEResNetBottleneck,
 * stride in conv1), 'resnext' (SEResNeXtBottleneck, grouped and strided 3×3), 'senet' (SEBottleneck of
 * SENet-154: 1×1 to 2·planes, grouped and strided 3×3 to 4·planes).
 */
export type LegacyBlockType = 'basic' | 'resnet' | 'resnext' | 'senet';
export const LEGACY_BLOCK_TYPES: readonly LegacyBlockType[] = ['basic', 'resnet', 'resnext', 'senet'];

function shortcut(downsample: nn.Sequential | null, x: Tensor): Tensor {
  return downsample ? (downsample.call(x) as Tensor) : x;
}

/** Two 3×3 convolutions (the first strided) with BN and ReLU each, then SE, the shortcut and a ReLU. Expansion 1. */
export class LegacySEBasicBlock extends nn.Module {
  static readonly expansion = 1;
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  se_module: Layer | null;
  downsample: nn.Sequential | null;

  constructor(
    inChannels: number,
    planes: number,
    stride: number,
    downsample: nn.Sequential | null,
    groups: number,
    attention: AttentionConfig,
    factory: nn.FactoryOptions = {},
  ) {
    super();
    const f = factory;
    this.conv1 = new nn.Conv2d(inChannels, planes, 3, { stride, padding: 1, bias: false, ...f });
    this.bn1 = new nn.BatchNorm2d(planes, f);
    this.conv2 = new nn.Conv2d(planes, planes, 3, { padding: 1, groups, bias: false, ...f });
    this.bn2 = new nn.BatchNorm2d(planes, f);
    this.se_module = createAttention(attention, planes, f);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    // The ReLU before the SE unit belongs to this layout (timm's SEResNetBlock), unlike resnet.ts's BasicBlock.
    y = F.relu(this.bn2.call(this.conv2.call(y)));
    if (this.se_module) y = this.se_module.call(y);
    return F.relu(y.add(shortcut(this.downsample, x)));
  }
}

/**
 * 1×1 → 3×3 → 1×1 with BN, SE after bn3, the shortcut and a ReLU; the widths, the stride's position and
 * the groups by `kind`. Expansion 4.
 */
export class LegacySEBottleneck extends nn.Module {
  static readonly expansion = 4;
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  conv3: nn.Conv2d;
  bn3: nn.BatchNorm2d;
  se_module: Layer | null;
  downsample: nn.Sequential | null;

  constructor(
    kind: Exclude<LegacyBlockType, 'basic'>,
    inChannels: number,
    planes: number,
    stride: number,
    downsample: nn.Sequential | null,
    groups: number,
    baseWidth: number,
    attention: AttentionConfig,
    factory: nn.FactoryOptions = {},
  ) {
    super();
    const f = factory;
    const outChannels = planes * LegacySEBottleneck.expansion;
    const resnextWidth = Math.floor(planes * (baseWidth / 64)) * groups;
    // [conv1's output, conv2's output, conv1's stride, conv2's stride]
    const [mid1, mid2, stride1, stride2] =
      kind === 'resnet'
        ? [planes, planes, stride, 1]
        : kind === 'resnext'
          ? [resnextWidth, resnextWidth, 1, stride]
          : [planes * 2, planes * 4, 1, stride];
    this.conv1 = new nn.Conv2d(inChannels, mid1, 1, { stride: stride1, bias: false, ...f });
    this.bn1 = new nn.BatchNorm2d(mid1, f);
    this.conv2 = new nn.Conv2d(mid1, mid2, 3, { stride: stride2, padding: 1, groups, bias: false, ...f });
    this.bn2 = new nn.BatchNorm2d(mid2, f);
    this.conv3 = new nn.Conv2d(mid2, outChannels, 1, { bias: false, ...f });
    this.bn3 = new nn.BatchNorm2d(outChannels, f);
    this.se_module = createAttention(attention, outChannels, f);
    this.downsample = downsample;
  }

  forward(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    y = F.relu(this.bn2.call(this.conv2.call(y)));
    y = this.bn3.call(this.conv3.call(y));
    if (this.se_module) y = this.se_module.call(y);
    return F.relu(y.add(shortcut(this.downsample, x)));
  }
}

/** layer0: a 7×7 stride-2 convolution with BN and ReLU, or (SENet-154) three 3×3 ones, the first strided. */
export class LegacyStem extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d | null = null;
  bn2: nn.BatchNorm2d | null = null;
  conv3: nn.Conv2d | null = null;
  bn3: nn.BatchNorm2d | null = null;

  constructor(
    inChannels: number,
    outChannels: number,
    input3x3: boolean,
    stemWidth: number,
    factory: nn.FactoryOptions = {},
  ) {
    super();
    const f = factory;
    if (!input3x3) {
      this.conv1 = new nn.Conv2d(inChannels, outChannels, 7, { stride: 2, padding: 3, bias: false, ...f });
      this.bn1 = new nn.BatchNorm2d(outChannels, f);
      return;
    }
    this.conv1 = new nn.Conv2d(inChannels, stemWidth, 3, { stride: 2, padding: 1, bias: false, ...f });
    this.bn1 = new nn.BatchNorm2d(stemWidth, f);
    this.conv2 = new nn.Conv2d(stemWidth, stemWidth, 3, { padding: 1, bias: false, ...f });
    this.bn2 = new nn.BatchNorm2d(stemWidth, f);
    this.conv3 = new nn.Conv2d(stemWidth, outChannels, 3, { padding: 1, bias: false, ...f });
    this.bn3 = new nn.BatchNorm2d(outChannels, f);
  }

  forward(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    if (this.conv2 && this.bn2 && this.conv3 && this.bn3) {
      y = F.relu(this.bn2.call(this.conv2.call(y)));
      y = F.relu(this.bn3.call(this.conv3.call(y)));
    }
    return y;
  }
}

export interface LegacySENetOptions extends ModelOptions {
  block: LegacyBlockType;
  /** Blocks per stage, e.g. [3, 4, 6, 3] for legacy_seresnet50. */
  layers: readonly [number, number, number, number];
  /** Groups of every 3×3 block convolution (1; 32 for the SE-ResNeXts, 64 for SENet-154). */
  groups?: number;
  /** Channels out of the stem, into stage 1 (64; 128 for SENet-154). */
  inplanes?: number;
  /** The three-3×3 stem of SENet-154 (default false: one 7×7 convolution). */
  input3x3?: boolean;
  /** Width of the first two 3×3 stem convolutions (default 64). */
  stemWidth?: number;
  /** Kernel size and padding of the shortcut projections of stages 2-4 (1 and 0; 3 and 1 for SENet-154). */
  downsampleKernelSize?: number;
  downsamplePadding?: number;
  /** Dropout before last_linear (0; 0.2 for SENet-154). */
  dropRate?: number;
  /** The planes of the four stages (default [64, 128, 256, 512]); smaller values make small test nets. */
  widths?: readonly [number, number, number, number];
  /** SE-ResNeXt width per group (default 4: "32x4d"). */
  baseWidth?: number;
  /** The SE unit of every block; default LEGACY_SE. */
  attention?: AttentionConfig;
}

export class LegacySENet extends nn.Module {
  readonly numClasses: number;
  readonly inputShape: [number, number, number];
  /** The classifier child (see Model). */
  readonly classifierName = 'last_linear';
  layer0: LegacyStem;
  pool0: nn.MaxPool2d;
  layer1: nn.Sequential;
  layer2: nn.Sequential;
  layer3: nn.Sequential;
  layer4: nn.Sequential;
  dropout: nn.Dropout | null;
  last_linear: nn.Linear;

  constructor(options: LegacySENetOptions) {
    super();
    const who = 'LegacySENet';
    const o = resolveModelOptions(options, who, { numClasses: 1000, inputSize: 224 });
    const block = checkChoice(options.block, LEGACY_BLOCK_TYPES, `${who}: block`);
    const layers = checkFour(options.layers, `${who}: layers`, 1);
    const widths = checkFour(options.widths ?? [64, 128, 256, 512], `${who}: widths`, 1);
    const groups = checkInt(options.groups ?? 1, `${who}: groups`, 1);
    const inplanes = checkInt(options.inplanes ?? 64, `${who}: inplanes`, 1);
    const stemWidth = checkInt(options.stemWidth ?? 64, `${who}: stemWidth`, 1);
    const kernel = checkInt(options.downsampleKernelSize ?? 1, `${who}: downsampleKernelSize`, 1);
    const padding = checkInt(options.downsamplePadding ?? 0, `${who}: downsamplePadding`, 0);
    const dropRate = checkProbability(options.dropRate ?? 0, `${who}: dropRate`);
    const baseWidth = checkInt(options.baseWidth ?? 4, `${who}: baseWidth`, 1);
    const attention = checkAttentionConfig(options.attention ?? LEGACY_SE, `${who}: attention`);
    this.numClasses = o.numClasses;
    this.inputShape = [o.inChannels, ...o.inputSize];
    const f = o.factory;
    this.layer0 = new LegacyStem(o.inChannels, inplanes, options.input3x3 ?? false, stemWidth, f);
    // ceil_mode without padding, as Caffe pooled (the ports keep it for the weights' sake).
    this.pool0 = new nn.MaxPool2d(3, { stride: 2, ceilMode: true });
    const expansion = block === 'basic' ? LegacySEBasicBlock.expansion : LegacySEBottleneck.expansion;
    let channels = inplanes;
    const stages = widths.map((planes, i) => {
      const stage = new nn.Sequential();
      for (let j = 0; j < layers[i]; j++) {
        const stride = j === 0 && i > 0 ? 2 : 1;
        const outChannels = planes * expansion;
        let downsample: nn.Sequential | null = null;
        if (stride !== 1 || channels !== outChannels) {
          // Stage 1's projection is always 1×1; SENet-154's later ones are 3×3 with padding 1.
          const [k, p] = i === 0 ? [1, 0] : [kernel, padding];
          const conv = new nn.Conv2d(channels, outChannels, k, { stride, padding: p, bias: false, ...f });
          downsample = new nn.Sequential(conv, new nn.BatchNorm2d(outChannels, f));
        }
        stage.append(
          block === 'basic'
            ? new LegacySEBasicBlock(channels, planes, stride, downsample, groups, attention, f)
            : new LegacySEBottleneck(block, channels, planes, stride, downsample, groups, baseWidth, attention, f),
        );
        channels = outChannels;
      }
      return stage;
    });
    [this.layer1, this.layer2, this.layer3, this.layer4] = stages;
    this.dropout = dropRate > 0 ? new nn.Dropout(dropRate) : null;
    this.last_linear = new nn.Linear(channels, o.numClasses, f);
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.inputShape[0], 'LegacySENet');
    let y = this.pool0.call(this.layer0.call(x));
    for (const stage of [this.layer1, this.layer2, this.layer3, this.layer4]) y = stage.call(y) as Tensor;
    // The global mean: the ports' 7×7 average pooling at 224×224 input, and right at any other size.
    y = y.mean([2, 3]);
    if (this.dropout) y = this.dropout.call(y);
    return this.last_linear.call(y);
  }
}
