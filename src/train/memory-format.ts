// Training in channels-last (NHWC) memory order: oneDNN's convolutions on the CPU run faster on NHWC data
// (measured for SE-FastNet at batch 512 on 2 cores: 307 → 391 training images/s in float32, 490 → 534 in
// bfloat16), so a model's 4-d weights are laid out NHWC before the optimizer is built (its state then
// follows them) and every batch is laid out NHWC before the forward pass. Only the memory order changes:
// shapes, state-dict keys and saved files (written in row-major NCHW order) stay as they are.
import * as torch from '../torch/index.js';
import type { nn, Tensor } from '../torch/index.js';

export const MEMORY_FORMATS = ['contiguous', 'channelsLast'] as const;
export type TrainingMemoryFormat = (typeof MEMORY_FORMATS)[number];

/** Lays out every 4-d parameter and buffer of the model in `format`, in place. */
export function useMemoryFormat(model: nn.Module, format: TrainingMemoryFormat): void {
  if (format === 'contiguous') return;
  torch.noGrad(() => {
    for (const tensor of [...model.parameters(), ...model.buffers()]) {
      if (tensor.ndim !== 4) continue;
      const converted = tensor.contiguous(format);
      tensor.setData_(converted);
      converted.dispose();
    }
  });
}

/** A batch in `format` (the batch itself when it already is). */
export function inMemoryFormat(x: Tensor, format: TrainingMemoryFormat): Tensor {
  return format === 'contiguous' || x.ndim !== 4 ? x : x.contiguous(format);
}
