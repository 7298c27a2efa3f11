// The seed program's SEBlock: SqueezeExcite configured as the original PyTorch block (squeeze by the
// channel mean, two bias-free Linear layers C → ⌊C/r⌋ → C around a ReLU, sigmoid gate), with its
// constructor, its checks and its state-dict keys (fc1.weight, fc2.weight). One implementation serves
// both, so the seed's block gets SqueezeExcite's gate module (what forward hooks probe) for free.
import type { nn } from '../torch/index.js';
import { checkInt } from '../torch/nn/args.js';
import { SqueezeExcite } from './squeeze-excite.js';

/** The seed's hidden width ⌊C/r⌋, refused when it is 0 (the seed had no max(1, ·) guard). */
function seedHiddenWidth(inChannels: number, reduction: number): number {
  const hidden = Math.floor(inChannels / reduction);
  if (hidden === 0) {
    throw new RangeError(
      `SEBlock: ${inChannels} channels with reduction ${reduction} leave 0 hidden units; ` +
        `expected reduction <= ${inChannels}`,
    );
  }
  return hidden;
}

export class SEBlock extends SqueezeExcite {
  readonly inChannels: number;
  readonly reduction: number;

  constructor(inChannels: number, reduction = 16, factory: nn.FactoryOptions = {}) {
    const channels = checkInt(inChannels, 'SEBlock: inChannels', 1);
    const r = checkInt(reduction, 'SEBlock: reduction', 1);
    super(channels, {
      rdChannels: seedHiddenWidth(channels, r),
      excitation: 'linear',
      bias: false,
      squeeze: 'avg',
      gate: 'sigmoid',
      dtype: factory.dtype,
      device: factory.device,
    });
    this.inChannels = channels;
    this.reduction = r;
  }
}
