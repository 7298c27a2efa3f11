// ECA, Efficient Channel Attention (Wang et al., ECA-Net, CVPR 2020): SE without the bottleneck. Each
// channel's average is mixed with its k neighbours by one 1-D convolution over the channel axis (k
// weights in all, no bias), then gated by a sigmoid. The kernel size adapts to the channel count:
// k = |log2(C)/γ + b/γ| rounded up to an odd number (γ = 2, b = 1), as in the authors' code.
import { nn, type Tensor } from '../torch/index.js';
import { checkInt, checkNumber } from '../torch/nn/args.js';
import { checkFeatureMap } from './check-input.js';

export interface EcaOptions extends nn.FactoryOptions {
  /** γ of the adaptive kernel size (default 2). */
  gamma?: number;
  /** b of the adaptive kernel size (default 1). */
  beta?: number;
  /** An explicit (odd) kernel size, overriding the adaptive one. */
  kernelSize?: number;
}

/** The ECA paper's kernel size for C channels: t = ⌊|(log2 C + b) / γ|⌋, then t or t + 1, whichever is odd. */
export function ecaKernelSize(channels: number, gamma = 2, beta = 1): number {
  const t = Math.floor(Math.abs((Math.log2(channels) + beta) / gamma));
  return t % 2 === 1 ? t : t + 1;
}

export class EcaModule extends nn.Module {
  readonly channels: number;
  readonly kernelSize: number;
  /** Conv1d(1, 1, k, padding (k-1)/2, no bias): weight [1, 1, k]. */
  conv: nn.Conv1d;
  gate: nn.Sigmoid;

  constructor(channels: number, options: EcaOptions = {}) {
    super();
    this.channels = checkInt(channels, 'EcaModule: channels', 1);
    const gamma = checkNumber(options.gamma ?? 2, 'EcaModule: gamma');
    const beta = checkNumber(options.beta ?? 1, 'EcaModule: beta');
    if (gamma === 0) throw new RangeError('EcaModule: gamma must not be 0');
    this.kernelSize =
      options.kernelSize === undefined
        ? ecaKernelSize(channels, gamma, beta)
        : checkInt(options.kernelSize, 'EcaModule: kernelSize', 1);
    if (this.kernelSize % 2 === 0) {
      throw new RangeError(
        `EcaModule: kernelSize must be odd (so the output keeps every channel), got ${this.kernelSize}`,
      );
    }
    this.conv = new nn.Conv1d(1, 1, this.kernelSize, {
      padding: (this.kernelSize - 1) / 2,
      bias: false,
      dtype: options.dtype,
      device: options.device,
    });
    this.gate = new nn.Sigmoid();
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.channels, 'EcaModule');
    const n = x.shape[0];
    // The channel averages as a one-channel sequence of length C: [N, 1, C].
    const sequence = x.mean([2, 3]).view(n, 1, this.channels);
    const weights = this.gate.call(this.conv.call(sequence)).view(n, this.channels, 1, 1);
    return x.mul(weights);
  }

  override extraRepr(): string {
    return `${this.channels}, kernel_size=${this.kernelSize}`;
  }
}
