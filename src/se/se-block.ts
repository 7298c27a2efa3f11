// The seed program's SEBlock, kept exactly as the original PyTorch: squeeze by adaptive average pooling
// to 1×1, excite with two bias-free Linear layers (C → ⌊C/r⌋ → C) around a ReLU, gate with a sigmoid,
// and scale each channel of the input. State-dict keys: fc1.weight, fc2.weight.
import { nn, tidy, F, type Tensor } from '../torch/index.js';
import { checkInt } from '../torch/nn/args.js';
import { checkFeatureMap } from './check-input.js';

export class SEBlock extends nn.Module {
  readonly inChannels: number;
  readonly reduction: number;
  /** [⌊C/r⌋, C] */
  fc1: nn.Linear;
  /** [C, ⌊C/r⌋] */
  fc2: nn.Linear;

  constructor(inChannels: number, reduction = 16, factory: nn.FactoryOptions = {}) {
    super();
    this.inChannels = checkInt(inChannels, 'SEBlock: inChannels', 1);
    this.reduction = checkInt(reduction, 'SEBlock: reduction', 1);
    const hidden = Math.floor(inChannels / reduction);
    if (hidden === 0) {
      throw new RangeError(`SEBlock: ${inChannels} channels with reduction ${reduction} leave 0 hidden units; ` +
        `expected reduction <= ${inChannels}`);
    }
    const where = { bias: false, dtype: factory.dtype, device: factory.device };
    this.fc1 = new nn.Linear(inChannels, hidden, where);
    this.fc2 = new nn.Linear(hidden, inChannels, where);
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.inChannels, 'SEBlock');
    return tidy(() => {
      const [b, c] = x.shape;
      const squeezed = F.adaptiveAvgPool2d(x, [1, 1]).view(b, c);
      const weights = F.sigmoid(this.fc2.forward(F.relu(this.fc1.forward(squeezed)))).view(b, c, 1, 1);
      return x.mul(weights);
    });
  }
}
