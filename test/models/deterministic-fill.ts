// Deterministic weights and inputs, computed with the same libtorch ops as fill_/det_input in
// scripts/fixtures/make_models.py, so that a model's logits can be compared with PyTorch's without
// committing its weights.
import * as torch from '../../src/torch/index.js';
import type { nn, Tensor } from '../../src/torch/index.js';

/** sin(0.37 i + 0.0013 i²) for i = 0..n-1, computed in float64, as float32. */
function wave(n: number): Tensor {
  return torch.tidy(() => {
    const i = torch.arange(n, { dtype: 'float64' });
    return i.mul(i).mul(0.0013).add(i.mul(0.37)).sin().float();
  });
}

const WINDOWS = 65536;

/**
 * Fills the k-th floating-point tensor of the state dict with wave() from element (7919 k) mod 65536 on,
 * scaled in place: conv/linear weights by 1.5/√fan_in, norm scales and running variances to 1 + 0.2·wave,
 * biases and running means by 0.02. Integer buffers stay.
 */
export function fill_(model: nn.Module): void {
  const state = Object.entries(model.stateDict());
  torch.noGrad(() =>
    torch.tidy(() => {
      const table = wave(Math.max(...state.map(([, v]) => v.numel())) + WINDOWS);
      state.forEach(([name, v], k) => {
        if (!v.isFloatingPoint()) return;
        const shape = v.shape;
        torch.tidy(() => v.copy_(table.narrow(0, (7919 * k) % WINDOWS, v.numel()).view(shape)));
        const leaf = name.slice(name.lastIndexOf('.') + 1);
        if (leaf === 'running_var' || (leaf === 'weight' && shape.length === 1)) v.mul_(0.2).add_(1.0);
        else if (shape.length === 1) v.mul_(0.02);
        else v.mul_(1.5 / Math.sqrt(v.numel() / shape[0]));
      });
    }),
  );
}

/** sin(0.123 i + 0.0007 i²) over the elements of `shape`, in float32. */
export function detInput(shape: number[]): Tensor {
  return torch.tidy(() => {
    const i = torch.arange(
      shape.reduce((a, b) => a * b, 1),
      { dtype: 'float64' },
    );
    return i.mul(i).mul(0.0007).add(i.mul(0.123)).sin().float().view(shape);
  });
}
