// The input check every channel-attention module makes before it computes anything, so that a tensor of
// the wrong rank or channel count fails with the module's name instead of deep inside libtorch.
import type { Tensor } from '../torch/index.js';

/** Throws unless `input` is [N, channels, H, W]. */
export function checkFeatureMap(input: Tensor, channels: number, who: string): void {
  const shape = input.shape;
  if (shape.length !== 4 || shape[1] !== channels) {
    throw new RangeError(`${who}: expected input of shape [N, ${channels}, H, W], got [${shape.join(', ')}]`);
  }
}
