// FastNet: a small all-convolutional CIFAR network laid out for fast training, after the nets of the fast
// CIFAR-10 training literature (Page's DAWNBench ResNet-9, Jordan's airbench): no residual blocks, few but
// wide layers, pooling early so that most work happens on small maps, GELU, and a max-pooled head.
//   stem      2×2 convolution (3 → 24, with bias, no padding: 32×32 → 31×31) → GELU
//   layerN    3×3 conv → max-pool 2 → BN → GELU → 3×3 conv → BN → GELU → SE (se-fastnet)   widths 64, 256, 256
//   head      global max-pool → linear (no bias) → × logitScale (default 1; airbench: 1/9)
// The stem's 2×2 filters are 12-dimensional patches: 24 = 2 × 12 lets whitenStem_() set them to the
// ± eigenvectors of the training images' patch covariance (airbench's frozen whitening layer).
import { nn, tidy, F, noGrad, cat, linalg, type Tensor } from '../torch/index.js';
import { checkInt } from '../torch/nn/args.js';
import {
  createAttention,
  checkAttentionConfig,
  checkFeatureMap,
  type AttentionConfig,
  type Layer,
} from '../se/index.js';
import { resolveModelOptions, type ModelOptions } from './model-options.js';

export const FASTNET_WIDTHS: readonly [number, number, number] = [64, 256, 256];
const STEM_KERNEL = 2;

/** conv → max-pool 2 → BN → GELU → conv → BN → GELU, then the group's attention unit (if any). */
export class FastNetGroup extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  se: Layer | null;

  constructor(
    inChannels: number,
    outChannels: number,
    attention: AttentionConfig,
    factory: nn.FactoryOptions = {},
    batchNorm: { momentum?: number; eps?: number } = {},
  ) {
    super();
    const f = factory;
    // Pooling right after the first convolution: the second one and everything after run on a quarter of the positions.
    this.conv1 = new nn.Conv2d(inChannels, outChannels, 3, { padding: 1, bias: false, ...f });
    this.bn1 = new nn.BatchNorm2d(outChannels, { ...batchNorm, ...f });
    this.conv2 = new nn.Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false, ...f });
    this.bn2 = new nn.BatchNorm2d(outChannels, { ...batchNorm, ...f });
    this.se = createAttention(attention, outChannels, f);
  }

  forward(x: Tensor): Tensor {
    let y = F.gelu(this.bn1.call(F.maxPool2d(this.conv1.call(x), 2)));
    y = F.gelu(this.bn2.call(this.conv2.call(y)));
    return this.se ? this.se.call(y) : y;
  }
}

export interface FastNetOptions extends ModelOptions {
  /** The attention unit after each group; default none (the plain net). */
  attention?: AttentionConfig;
  /** Channels of the three groups (default 64, 256, 256). */
  widths?: readonly [number, number, number];
  /** BatchNorm momentum, PyTorch's convention (default 0.1; airbench 0.4, its "0.6"). */
  bnMomentum?: number;
  /** BatchNorm epsilon (default 1e-5; airbench 1e-12). */
  bnEps?: number;
  /** The logits are multiplied by this (default 1; airbench 1/9): a cooler softmax early in training. */
  logitScale?: number;
}

export class FastNet extends nn.Module {
  readonly numClasses: number;
  readonly inputShape: [number, number, number];
  /** The classifier child (see Model). */
  readonly classifierName = 'fc';
  readonly widths: [number, number, number];
  readonly logitScale: number;
  stem: nn.Conv2d;
  layer1: FastNetGroup;
  layer2: FastNetGroup;
  layer3: FastNetGroup;
  fc: nn.Linear;

  constructor(options: FastNetOptions = {}) {
    super();
    const o = resolveModelOptions(options, 'FastNet', { numClasses: 10, inputSize: 32 });
    const attention = checkAttentionConfig(options.attention ?? { type: 'none' }, 'FastNet: attention');
    const widths = options.widths ?? FASTNET_WIDTHS;
    if (!Array.isArray(widths) || widths.length !== 3)
      throw new TypeError(`FastNet: widths must be three channel counts, got ${JSON.stringify(widths)}`);
    this.widths = widths.map((w, i) => checkInt(w, `FastNet: widths[${i}]`, 1)) as [number, number, number];
    const [h, w] = o.inputSize;
    // Three halvings after the 2×2 stem must leave at least one position.
    if (h < 9 || w < 9)
      throw new RangeError(`FastNet: inputSize must be at least 9×9 (a 2×2 stem and three 2× poolings), got ${h}×${w}`);
    this.numClasses = o.numClasses;
    this.inputShape = [o.inChannels, h, w];
    const f = o.factory;
    const positive = (v: number | undefined, name: string, max = Number.POSITIVE_INFINITY) => {
      if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= max))
        throw new RangeError(`FastNet: ${name} must be a number in (0, ${max}], got ${JSON.stringify(v)}`);
      return v;
    };
    const batchNorm = {
      ...(options.bnMomentum === undefined ? {} : { momentum: positive(options.bnMomentum, 'bnMomentum', 1) }),
      ...(options.bnEps === undefined ? {} : { eps: positive(options.bnEps, 'bnEps', 1) }),
    };
    this.logitScale = positive(options.logitScale, 'logitScale') ?? 1;
    const stemWidth = 2 * o.inChannels * STEM_KERNEL * STEM_KERNEL;
    this.stem = new nn.Conv2d(o.inChannels, stemWidth, STEM_KERNEL, { bias: true, ...f });
    const [w1, w2, w3] = this.widths;
    this.layer1 = new FastNetGroup(stemWidth, w1, attention, f, batchNorm);
    this.layer2 = new FastNetGroup(w1, w2, attention, f, batchNorm);
    this.layer3 = new FastNetGroup(w2, w3, attention, f, batchNorm);
    this.fc = new nn.Linear(w3, o.numClasses, { bias: false, ...f });
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.inputShape[0], 'FastNet');
    let y = F.gelu(this.stem.call(x));
    for (const group of [this.layer1, this.layer2, this.layer3]) y = group.call(y);
    const logits = this.fc.call(y.amax([2, 3]));
    return this.logitScale === 1 ? logits : logits.mul(this.logitScale);
  }

  /**
   * Sets the stem to a whitening transform of the 2×2 patches of `images` ([N, C, H, W], normalised as
   * for training) and freezes it: with Σ = V diag(λ) Vᵀ the patches' covariance, the filters are
   * vᵢ / √(λᵢ + eps) and their negatives (so that GELU passes both signs), the bias zero and still
   * trained. Whitened inputs make the first layers train in fewer steps (airbench, Page's post 8).
   */
  whitenStem_(images: Tensor, eps = 5e-4): void {
    checkFeatureMap(images, this.inputShape[0], 'FastNet.whitenStem_');
    noGrad(() =>
      tidy(() => {
        const c = this.inputShape[0];
        const k = STEM_KERNEL;
        // [N, C·k·k, L] patches → [N·L, C·k·k] rows, in the weight's (c, ky, kx) order.
        const patches = F.unfold(images.float(), k)
          .transpose(1, 2)
          .reshape(-1, c * k * k)
          .double();
        const centred = patches.sub(patches.mean(0, true));
        const covariance = centred
          .t()
          .mm(centred)
          .div(patches.size(0) - 1);
        const { eigenvalues, eigenvectors } = linalg.eigh(covariance);
        const filters = eigenvectors.t().div(eigenvalues.add(eps).sqrt().unsqueeze(1));
        const weight = cat([filters, filters.neg()]).view(this.stem.weight.shape);
        this.stem.weight.copy_(weight.to(this.stem.weight.dtype));
        this.stem.bias!.zero_();
      }),
    );
    this.stem.weight.requiresGrad_(false);
  }
}
