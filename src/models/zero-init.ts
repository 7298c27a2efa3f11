// timm's zero_init_last: the last BN of every residual block starts with scale 0, so each block starts
// as the identity (Goyal et al., "Accurate, Large Minibatch SGD", 2017). Off by default in senet, for
// parity with PyTorch's module defaults.
import { nn } from '../torch/index.js';

/** Zeroes the scale of `lastBn(block)` for every block of the given class inside `model`. */
export function zeroInit<B extends nn.Module>(model: nn.Module, blockClass: abstract new (...args: never[]) => B,
  lastBn: (block: B) => nn.BatchNorm2d): void {
  for (const module of model.modules()) {
    const weight = module instanceof blockClass ? lastBn(module).weight : null;
    if (weight) nn.init.zeros_(weight);
  }
}
