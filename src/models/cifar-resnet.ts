// CIFAR ResNets (He et al. 2016, §4.2) and SE-ResNets: a 3×3 stem of 16 channels, three stages of n basic
// blocks with 16, 32 and 64 channels (depth = 6n + 2), global average pooling and a linear classifier.
// Names and construction order follow the project's reference `CifarSEResNet`, so its state dicts load
// as they are and a seeded build draws the same numbers as the reference initialised as timm does
// (resnet-init.ts):
//   conv1, bn1, layerN.M.{conv1, bn1, conv2, bn2, se.fc1, se.fc2, downsample.0, downsample.1}, fc
// Where the SE unit sits in a block is an option, after the SE paper's integration study (Fig. 5 / Table 14).
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

/**
 * Where a block's SE unit goes: 'standard' (on the residual branch, after bn2, before the addition),
 * 'pre' (on the block input, before the branch; the shortcut still sees the raw input), 'post' (after
 * the addition and its ReLU), 'identity' (on the shortcut path, in parallel to the branch).
 */
export type SEPlacement = 'standard' | 'pre' | 'post' | 'identity';
export const SE_PLACEMENTS: readonly SEPlacement[] = ['standard', 'pre', 'post', 'identity'];

/** The reference's SE unit: Linear layers without bias, hidden width max(1, ⌊C/16⌋), sigmoid gate. */
export const CIFAR_SE: AttentionConfig = Object.freeze({
  type: 'se',
  reduction: 16,
  rdMode: 'floor',
  excitation: 'linear',
  bias: false,
  squeeze: 'avg',
  gate: 'sigmoid',
});

const STAGE_WIDTHS = [16, 32, 64] as const;

/** Two 3×3 convolutions with BN, a shortcut (1×1 conv + BN where the shape changes), and an optional SE unit. */
export class CifarBasicBlock extends nn.Module {
  readonly placement: SEPlacement;
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  se: Layer | null;
  downsample: nn.Sequential | null;

  constructor(
    inChannels: number,
    outChannels: number,
    stride: number,
    attention: AttentionConfig,
    placement: SEPlacement,
    factory: nn.FactoryOptions = {},
  ) {
    super();
    const f = factory;
    this.placement = placement;
    this.conv1 = new nn.Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false, ...f });
    this.bn1 = new nn.BatchNorm2d(outChannels, f);
    this.conv2 = new nn.Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false, ...f });
    this.bn2 = new nn.BatchNorm2d(outChannels, f);
    // 'pre' recalibrates the block's input, which has the input's channel count.
    this.se = createAttention(attention, placement === 'pre' ? inChannels : outChannels, f);
    this.downsample =
      stride !== 1 || inChannels !== outChannels
        ? new nn.Sequential(
            new nn.Conv2d(inChannels, outChannels, 1, { stride, bias: false, ...f }),
            new nn.BatchNorm2d(outChannels, f),
          )
        : null;
  }

  private attend(x: Tensor, at: SEPlacement): Tensor {
    return this.se && this.placement === at ? this.se.call(x) : x;
  }

  forward(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(this.attend(x, 'pre'))));
    y = this.attend(this.bn2.call(this.conv2.call(y)), 'standard');
    const shortcut = this.attend(this.downsample ? (this.downsample.call(x) as Tensor) : x, 'identity');
    return this.attend(F.relu(y.add(shortcut)), 'post');
  }
}

export interface CifarResNetOptions extends ModelOptions {
  /** 6n + 2 layers: 20, 32, 44, 56, 110, ... (default 20). */
  depth?: number;
  /** The SE unit of every block; default none (a plain ResNet). CIFAR_SE is the reference's. */
  attention?: AttentionConfig;
  /** Where the SE unit sits in each block (default 'standard'). */
  placement?: SEPlacement;
  /** Start every block's last BN scale at zero, so each block starts as the identity (default true, as timm). */
  zeroInitLastBn?: boolean;
}

export class CifarResNet extends nn.Module {
  readonly depth: number;
  readonly numClasses: number;
  readonly inputShape: [number, number, number];
  /** The classifier child (see Model). */
  readonly classifierName = 'fc';
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  layer1: nn.Sequential;
  layer2: nn.Sequential;
  layer3: nn.Sequential;
  fc: nn.Linear;

  constructor(options: CifarResNetOptions = {}) {
    super();
    const o = resolveModelOptions(options, 'CifarResNet', { numClasses: 10, inputSize: 32 });
    this.depth = checkInt(options.depth ?? 20, 'CifarResNet: depth', 8);
    if ((this.depth - 2) % 6 !== 0) {
      throw new RangeError(`CifarResNet: depth must be 6n + 2 (20, 32, 44, 56, 110, ...), got ${this.depth}`);
    }
    const attention = checkAttentionConfig(options.attention ?? { type: 'none' }, 'CifarResNet: attention');
    const placement = checkChoice(options.placement ?? 'standard', SE_PLACEMENTS, 'CifarResNet: placement');
    this.numClasses = o.numClasses;
    this.inputShape = [o.inChannels, ...o.inputSize];
    const blocksPerStage = (this.depth - 2) / 6;
    const f = o.factory;
    this.conv1 = new nn.Conv2d(o.inChannels, STAGE_WIDTHS[0], 3, { padding: 1, bias: false, ...f });
    this.bn1 = new nn.BatchNorm2d(STAGE_WIDTHS[0], f);
    let channels: number = STAGE_WIDTHS[0];
    const stages = STAGE_WIDTHS.map((width, i) => {
      const stage = new nn.Sequential();
      for (let j = 0; j < blocksPerStage; j++) {
        const stride = j === 0 && i > 0 ? 2 : 1;
        stage.append(new CifarBasicBlock(channels, width, stride, attention, placement, f));
        channels = width;
      }
      return stage;
    });
    [this.layer1, this.layer2, this.layer3] = stages;
    this.fc = new nn.Linear(channels, o.numClasses, f);
    initResNet(this, (m) => (m instanceof CifarBasicBlock ? m.bn2 : null), options.zeroInitLastBn ?? true);
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.inputShape[0], 'CifarResNet');
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    for (const stage of [this.layer1, this.layer2, this.layer3]) y = stage.call(y) as Tensor;
    return this.fc.call(y.mean([2, 3]));
  }
}
