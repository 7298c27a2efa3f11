// The seed program's SimpleCNN, exactly as the original PyTorch: conv1 = Conv2d(3, 64, 3, padding 1) →
// ReLU → MaxPool2d(2, 2) → se1 = SEBlock(64) → flatten → fc = Linear(64·16·16, classes). Its classifier is
// sized for one input size (32×32 by default), so other sizes are refused with a clear message.
import { nn, F, type Tensor } from '../torch/index.js';
import { SEBlock, createAttention, type AttentionConfig, type Layer } from '../se/index.js';
import { resolveModelOptions, type ModelOptions } from './model-options.js';

export interface SimpleCNNOptions extends ModelOptions {
  /**
   * Replaces the seed's SEBlock(64) by another attention unit (e.g. { type: 'none' } for the ablation
   * without SE, or { type: 'eca' }). By default the seed's block is used.
   */
  attention?: AttentionConfig;
}

const FEATURES = 64;

export class SimpleCNN extends nn.Module {
  readonly numClasses: number;
  readonly inputShape: [number, number, number];
  /** The classifier child (see Model). */
  readonly classifierName = 'fc';
  /** The [C, H, W] of the features the classifier reads. */
  private readonly featureShape: [number, number, number];
  // Children in the original's registration order: conv1, se1, pool, fc.
  conv1: nn.Conv2d;
  se1: Layer | null;
  pool: nn.MaxPool2d;
  fc: nn.Linear;

  constructor(options: SimpleCNNOptions = {}) {
    super();
    const o = resolveModelOptions(options, 'SimpleCNN', { numClasses: 10, inputSize: 32 });
    const [h, w] = o.inputSize;
    if (h < 2 || w < 2)
      throw new RangeError(`SimpleCNN: inputSize must be at least 2×2 (it pools by 2), got ${h}×${w}`);
    this.numClasses = o.numClasses;
    this.inputShape = [o.inChannels, h, w];
    this.featureShape = [FEATURES, Math.floor(h / 2), Math.floor(w / 2)];
    const f = o.factory;
    this.conv1 = new nn.Conv2d(o.inChannels, FEATURES, 3, { padding: 1, ...f });
    this.se1 =
      options.attention === undefined ? new SEBlock(FEATURES, 16, f) : createAttention(options.attention, FEATURES, f);
    this.pool = new nn.MaxPool2d(2, { stride: 2 });
    this.fc = new nn.Linear(
      this.featureShape.reduce((a, b) => a * b, 1),
      o.numClasses,
      f,
    );
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    let y = this.pool.call(F.relu(this.conv1.call(x)));
    if (this.se1) y = this.se1.call(y);
    return this.fc.call(y.reshape(y.shape[0], -1));
  }

  private checkInput(x: Tensor): void {
    const shape = x.shape;
    const expected = this.inputShape;
    if (shape.length !== 4 || shape.slice(1).some((d, i) => d !== expected[i])) {
      const got = shape.length === 4 ? shape.slice(1).join('×') : `a tensor of shape [${shape.join(', ')}]`;
      throw new RangeError(
        `SimpleCNN expects ${expected.join('×')} input images (its classifier is sized for ` +
          `${this.featureShape.join('×')} features), got ${got}`,
      );
    }
  }
}
