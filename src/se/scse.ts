// scSE (Roy et al., 2018): channel SE (cSE) and spatial SE (sSE) side by side on the same input, their
// outputs combined by addition or, as the authors also propose, by the elementwise maximum.
import { nn, type Tensor } from '../torch/index.js';
import { checkChoice } from '../torch/nn/args.js';
import { SqueezeExcite, type SqueezeExciteOptions } from './squeeze-excite.js';
import { SpatialSE } from './spatial-se.js';

export type ScseCombine = 'add' | 'max';
export const SCSE_COMBINES: readonly ScseCombine[] = ['add', 'max'];

export interface ChannelSpatialSEOptions extends SqueezeExciteOptions {
  /** How the two recalibrated maps are merged: 'add' (default) or 'max'. */
  combine?: ScseCombine;
}

export class ChannelSpatialSE extends nn.Module {
  readonly combine: ScseCombine;
  // Roy et al.'s names: cSE.fc1/fc2 and sSE.conv in the state dict.
  cSE: SqueezeExcite;
  sSE: SpatialSE;

  constructor(channels: number, options: ChannelSpatialSEOptions = {}) {
    super();
    const { combine, ...se } = options;
    this.combine = checkChoice(combine ?? 'add', SCSE_COMBINES, 'ChannelSpatialSE: combine');
    this.cSE = new SqueezeExcite(channels, se);
    this.sSE = new SpatialSE(channels, { dtype: se.dtype, device: se.device });
  }

  forward(x: Tensor): Tensor {
    const channel = this.cSE.call(x);
    const spatial = this.sSE.call(x);
    return this.combine === 'add' ? channel.add(spatial) : channel.maximum(spatial);
  }

  override extraRepr(): string {
    return `combine=${this.combine}`;
  }
}
