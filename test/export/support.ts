// Helpers of the export tests: running an exported model in onnxruntime-node (a dev dependency, loaded
// only here) and giving a model's BatchNorms trained-looking statistics, so that folding them is tested
// against something other than the identity a freshly built model has.
import * as torch from '../../src/torch/index.js';
import type { Tensor, nn } from '../../src/torch/index.js';

/** Runs an .onnx model in onnxruntime-node; returns each output as a senet tensor. */
export async function runOnnx(bytes: Uint8Array, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const feeds = Object.fromEntries(
    Object.entries(inputs).map(([name, t]) => [
      name,
      new ort.Tensor('float32', Float32Array.from(t.data() as Float32Array), t.shape),
    ]),
  );
  const results = await session.run(feeds);
  await session.release();
  return Object.fromEntries(
    Object.entries(results).map(([name, value]) => [
      name,
      torch.tensor(Float32Array.from(value.data as Float32Array), { shape: value.dims as number[] }),
    ]),
  );
}

/** Seeded random BatchNorm parameters and running statistics (γ, σ² in [0.5, 1.5]; β, μ around 0). */
export function randomizeBatchNorms(model: nn.Module, seed = 1): void {
  const generator = new torch.Generator(seed);
  torch.noGrad(() => {
    for (const module of model.modules()) {
      if (!(module instanceof torch.nn.BatchNorm2d)) continue;
      module.weight?.uniform_(0.5, 1.5, generator);
      module.bias?.normal_(0, 0.2, generator);
      module.runningMean?.normal_(0, 0.2, generator);
      module.runningVar?.uniform_(0.5, 1.5, generator);
    }
  });
}
