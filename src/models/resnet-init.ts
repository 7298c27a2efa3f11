// timm's initialisation of the ResNet families (timm/models/resnet.py, ResNet.init_weights), applied by
// every ResNet constructor here after its layers are built (so a seeded build draws PyTorch's numbers:
// first each layer's default initialisation, then these):
//   - every Conv2d weight (SE units' 1×1 convolutions included) from Kaiming-normal, fan-out, ReLU gain:
//     N(0, 2 / fan_out), fan_out = out channels × kernel elements; conv biases keep their default;
//   - BatchNorm weight 1, bias 0 (PyTorch's defaults, which timm relies on);
//   - Linear layers keep PyTorch's default (Kaiming-uniform with a = √5, i.e. U(±1/√fan_in), bias alike);
//   - zero_init_last (on by default, as timm's): the last BN of every residual block starts with scale 0,
//     so each block starts as the identity (Goyal et al., "Accurate, Large Minibatch SGD", 2017).
import { nn, noGrad } from '../torch/index.js';

/** The BatchNorm that ends `module`'s residual branch if it is a residual block, else null. */
export type LastBatchNormOf = (module: nn.Module) => nn.BatchNorm2d | null;

/**
 * Initialises `model` as timm initialises its ResNets, in module order; with `zeroInitLast` (default
 * true) the last BN of each residual block (as `lastBnOf` finds it) gets weight 0.
 */
export function initResNet(model: nn.Module, lastBnOf: LastBatchNormOf, zeroInitLast = true): void {
  noGrad(() => {
    for (const module of model.modules()) {
      if (module instanceof nn.Conv2d) {
        nn.init.kaimingNormal_(module.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      } else if (module instanceof nn.BatchNorm2d) {
        if (module.weight) nn.init.ones_(module.weight);
        if (module.bias) nn.init.zeros_(module.bias);
      }
    }
    if (!zeroInitLast) return;
    for (const module of model.modules()) {
      const weight = lastBnOf(module)?.weight;
      if (weight) nn.init.zeros_(weight);
    }
  });
}
