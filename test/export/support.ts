// Helpers of the export tests: running an exported model in onnxruntime-node (a dev dependency, loaded
// only here) and giving a model's BatchNorms trained-looking statistics, so that folding them is tested
// against something other than the identity a freshly built model has.
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import { modelProtoType } from '../../src/export/onnx/onnx-schema.js';

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

/** Seeded random BatchNorm parameters and running statistics (γ in [0.5, 1], σ² in [1, 2], β and μ around 0: activations stay in range through deep nets). */
export function randomizeBatchNorms(model: nn.Module, seed = 1): void {
  const generator = new torch.Generator(seed);
  torch.noGrad(() => {
    for (const module of model.modules()) {
      if (!(module instanceof torch.nn.BatchNormNd)) continue;
      module.weight?.uniform_(0.5, 1, generator);
      module.bias?.normal_(0, 0.2, generator);
      module.runningMean?.normal_(0, 0.2, generator);
      module.runningVar?.uniform_(1, 2, generator);
    }
  });
}

/** The op types of an .onnx file's nodes, in order, decoded with the ONNX schema. */
export function opTypes(bytes: Uint8Array): string[] {
  return decodeModel(bytes).graph.node.map((n) => n.op_type);
}

export interface DecodedModel {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  graph: {
    node: { op_type: string; input: string[]; output: string[] }[];
    initializer: { name: string; data_type: number; dims: number[]; raw_data: Uint8Array }[];
    input: { name: string; type: { tensor_type: { shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
    output: { name: string; type: { tensor_type: { shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
  };
  metadata_props: { key: string; value: string }[];
}

/** An .onnx file as a plain object (int64s as numbers). */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  const type = modelProtoType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: true }) as DecodedModel;
}

/** A user's own model: layers and functional calls the zoo does not use. */
export class UserNet extends nn.Module {
  stem = new nn.Conv2d(3, 8, 3, { padding: 'same' });
  norm = new nn.LayerNorm([8, 16, 16]);
  act = new nn.GELU({ approximate: 'tanh' });
  pool = new nn.AvgPool2d(2);
  groups = new nn.GroupNorm(4, 8);
  up = new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' });
  head = new nn.Linear(16, 5);

  forward(x: Tensor): Tensor {
    const y = this.act.call(this.norm.call(this.stem.call(x)));
    const [a, b] = y.chunk(2, 1);
    const mixed = torch.cat([torch.F.silu(a), b.sigmoid().mul(2).sub(1)], 1);
    const grown = this.up.call(this.groups.call(this.pool.call(mixed))); // [N, 8, 16, 16]
    const shrunk = torch.F.interpolate(grown, { size: 5 }); // nearest, not a whole factor
    const pooled = shrunk.amax([2, 3]); // [N, 8]
    const wide = torch.cat([pooled, pooled.neg()], 1); // [N, 16]
    return torch.F.softmax(this.head.call(wide.transpose(0, 1).transpose(0, 1)), 1).log();
  }
}
