// A model's memory order, NCHW ('contiguous') or NHWC ('channelsLast'): oneDNN's convolutions on the CPU
// often run faster on NHWC data (measured for SE-FastNet at batch 512 on 2 cores: 307 → 391 training
// images/s in float32, 490 → 534 in bfloat16). Training lays the 4-d weights out before the optimizer is
// built (its state then follows them) and every batch before the forward pass; inference times both orders
// and keeps the faster. Only the memory order changes: shapes, state-dict keys and saved files (written in
// row-major NCHW order) stay as they are.
import * as torch from '../torch/index.js';
import type { nn, Tensor } from '../torch/index.js';

export const MEMORY_FORMATS = ['contiguous', 'channelsLast'] as const;
export type TrainingMemoryFormat = (typeof MEMORY_FORMATS)[number];

/** Lays out every 4-d parameter and buffer of the model in `format`, in place (either way). */
export function useMemoryFormat(model: nn.Module, format: TrainingMemoryFormat): void {
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
