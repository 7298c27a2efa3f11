// airbench's partial identity initialisation of a FastNet: each group's first convolution starts by passing
// its input channels straight through to its first output channels (the rest keep their random
// initialisation), and the second, square one starts as the identity. The fresh network then carries the
// whitened image through the groups largely unchanged instead of through random filters, and the first
// epochs train faster from there (Jordan, "94% on CIFAR-10 in 3.29 seconds", section 3.3).
import * as torch from '../torch/index.js';
import { FastNet } from './fastnet.js';
import type { Model } from './model-options.js';

/** Sets the identity parts of every FastNet group's convolutions; refuses other models. */
export function identityInitFastNet(model: Model): void {
  if (!(model instanceof FastNet)) {
    throw new Error(`identityInit needs a FastNet (fastnet, se-fastnet), not ${model.constructor.name}`);
  }
  torch.noGrad(() =>
    torch.tidy(() => {
      for (const group of [model.layer1, model.layer2, model.layer3]) {
        for (const conv of [group.conv1, group.conv2]) {
          const [out, inChannels] = conv.weight.shape;
          torch.nn.init.dirac_(conv.weight.narrow(0, 0, Math.min(out, inChannels)));
        }
      }
    }),
  );
}
