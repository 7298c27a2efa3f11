// The gating functions an excitation can end in. The paper uses a sigmoid and, in its ablation of the
// excitation's nonlinearity (Table 12 of the journal version), also tries tanh; MobileNetV3 made the
// cheaper piecewise-linear hard sigmoid popular.
import { nn } from '../torch/index.js';
import type { Layer } from './layer.js';

export type GateName = 'sigmoid' | 'hardsigmoid' | 'tanh';
export const GATE_NAMES: readonly GateName[] = ['sigmoid', 'hardsigmoid', 'tanh'];

/** The gate as a module, so that forward hooks can record the gate values an SE unit produced. */
export function createGate(name: GateName): Layer {
  switch (name) {
    case 'sigmoid':
      return new nn.Sigmoid();
    case 'hardsigmoid':
      return new nn.Hardsigmoid();
    case 'tanh':
      return new nn.Tanh();
    default:
      throw new TypeError(
        `unknown gate '${String(name)}': expected one of ${GATE_NAMES.map((g) => `'${g}'`).join(', ')}`,
      );
  }
}
