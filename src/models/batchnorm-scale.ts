// BatchNorm with a learned shift only (airbench's BatchNorm): every BatchNorm's scale γ is fixed at 1 and
// left out of training. The convolution before it can still scale a channel, so the network loses nothing
// it could express, and with decayed convolution weights the scale no longer drifts against the decay.
import * as torch from '../torch/index.js';
import { nn } from '../torch/index.js';

/** Sets every affine BatchNorm's weight to 1 and stops it training; returns how many were frozen. */
export function freezeBatchNormScales(model: nn.Module): number {
  let frozen = 0;
  torch.noGrad(() => {
    for (const module of model.modules()) {
      if (!(module instanceof nn.BatchNormNd) || !module.weight) continue;
      module.weight.fill_(1);
      module.weight.requiresGrad_(false);
      frozen += 1;
    }
  });
  return frozen;
}
