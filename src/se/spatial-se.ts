// sSE, spatial squeeze and channel excitation (Roy et al., "Concurrent Spatial and Channel Squeeze &
// Excitation in Fully Convolutional Networks", 2018): a 1×1 convolution squeezes the channels into one
// map, a sigmoid turns it into a weight per position, and every channel is scaled by it.
import { nn, type Tensor } from '../torch/index.js';
import { checkInt } from '../torch/nn/args.js';
import { checkFeatureMap } from './check-input.js';

export class SpatialSE extends nn.Module {
  readonly channels: number;
  /** Conv2d(C, 1, 1) with bias: weight [1, C, 1, 1], bias [1]. */
  conv: nn.Conv2d;
  gate: nn.Sigmoid;

  constructor(channels: number, factory: nn.FactoryOptions = {}) {
    super();
    this.channels = checkInt(channels, 'SpatialSE: channels', 1);
    this.conv = new nn.Conv2d(channels, 1, 1, { dtype: factory.dtype, device: factory.device });
    this.gate = new nn.Sigmoid();
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.channels, 'SpatialSE');
    return x.mul(this.gate.call(this.conv.call(x)));
  }

  override extraRepr(): string {
    return `${this.channels}`;
  }
}
