// What an exported file holds and the export options: the graph's interface (input `input` and output
// `logits` with a symbolic batch, IR 8, opset 17), the metadata, BatchNorm folded or kept, half-precision
// weights behind Cast nodes (exact against senet with the same rounded weights; measured against float32),
// and the `se_gates` output against the gates senet's own probe reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import { createModel, type Model } from '../../src/models/index.js';
import { excitationUnits, probeExcitation, type Excitation } from '../../src/se/probe.js';
import { toOnnx, type OnnxOptions } from '../../src/export/index.js';
import { maxRelativeError } from '../helpers.js';
import { decodeModel, opTypes, randomizeBatchNorms, runOnnx } from './support.js';

function seResnet20(): Model {
  torch.manualSeed(0);
  const model = createModel('se-resnet20', { numClasses: 10 });
  randomizeBatchNorms(model);
  return model.eval();
}

/** Exports traced on a batch of 2. */
function exported(model: Model, options: OnnxOptions = {}): Uint8Array {
  const example = torch.randn(2, 3, 32, 32);
  try {
    return toOnnx(model, example, options);
  } finally {
    example.dispose();
  }
}

const dims = (value: { type: { tensor_type: { shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }) =>
  value.type.tensor_type.shape.dim.map((d) => d.dim_param || d.dim_value);

test('the graph: input [batch, 3, 32, 32], logits [batch, 10], IR 8, opset 17, weights under state-dict names', () => {
  const model = seResnet20();
  const decoded = decodeModel(exported(model));
  assert.equal(decoded.ir_version, 8);
  assert.deepEqual(decoded.opset_import, [{ domain: '', version: 17 }]);
  assert.deepEqual(
    decoded.graph.input.map((v) => [v.name, dims(v)]),
    [['input', ['batch', 3, 32, 32]]],
  );
  assert.deepEqual(
    decoded.graph.output.map((v) => [v.name, dims(v)]),
    [['logits', ['batch', 10]]],
  );
  const names = decoded.graph.initializer.map((i) => i.name);
  for (const name of [
    'fc.weight',
    'layer3.2.se.fc2.weight',
    'conv1.weight',
    'conv1.bias',
    'layer2.0.downsample.0.weight',
  ]) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
  assert.ok(!names.some((n) => n.startsWith('bn') || n.includes('.bn')), 'folded BatchNorms leave no initializers');
  assert.ok(!names.some((n) => n.includes('num_batches_tracked')), 'buffers forward does not read are left out');
  model.dispose();
});

test('metadata: the version, model name and input shape by default; classes and normalisation when given', () => {
  const model = seResnet20();
  const props = (bytes: Uint8Array) =>
    Object.fromEntries(decodeModel(bytes).metadata_props.map((p) => [p.key, p.value]));
  const plain = props(exported(model));
  assert.deepEqual(Object.keys(plain), ['senet.version', 'senet.model', 'senet.input_shape']);
  assert.equal(plain['senet.model'], 'CifarResNet');
  assert.equal(plain['senet.input_shape'], '[3,32,32]');
  const classes = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const full = props(
    exported(model, { metadata: { model: 'se-resnet20', classes, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } }),
  );
  assert.equal(full['senet.model'], 'se-resnet20');
  assert.deepEqual(JSON.parse(full['senet.classes']), classes);
  assert.deepEqual(JSON.parse(full['senet.mean']), [0.5, 0.5, 0.5]);
  assert.deepEqual(JSON.parse(full['senet.std']), [0.25, 0.25, 0.25]);
  model.dispose();
});

test('BatchNorm is folded into the convolutions by default and kept with keepBatchNorm', () => {
  const model = seResnet20();
  const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;
  const folded = opTypes(exported(model));
  const kept = opTypes(exported(model, { keepBatchNorm: true }));
  assert.equal(count(folded, 'BatchNormalization'), 0);
  assert.equal(count(kept, 'BatchNormalization'), 21);
  assert.equal(count(folded, 'Conv'), count(kept, 'Conv'));
  model.dispose();
});

/** A copy of the model's float parameters and buffers rounded to `dtype` and back. */
function roundWeights(model: Model, dtype: 'float16' | 'bfloat16'): void {
  torch.noGrad(() => {
    for (const t of [...model.parameters(), ...model.buffers()]) {
      if (t.dtype === 'float32') torch.tidy(() => t.copy_(t.to(dtype).to('float32')));
    }
  });
}

for (const [dtype, tolerance, code] of [
  ['float16', 1e-3, 10],
  ['bfloat16', 1e-2, 16],
] as const) {
  test(`${dtype} weights: half the file, Cast to float32 in the graph, senet's logits with the same rounding`, async (t) => {
    const model = seResnet20();
    const x = torch.randn(4, 3, 32, 32);
    const full = exported(model, { keepBatchNorm: true });
    const half = exported(model, { keepBatchNorm: true, weightType: dtype });
    const decoded = decodeModel(half);
    assert.ok(half.length < 0.55 * full.length, `${half.length} bytes against ${full.length}`);
    const weights = decoded.graph.initializer.filter((i) => i.data_type === code);
    assert.ok(weights.some((w) => w.name === 'conv1.weight'));
    assert.equal(decoded.graph.node.filter((n) => n.op_type === 'Cast').length, weights.length);

    // Against float32 senet: the rounding of the weights is all that differs (measured, stated in the README).
    const folded = exported(model, { weightType: dtype });
    const float32Logits = torch.noGrad(() => model.call(x));
    const { logits: halfLogits } = await runOnnx(folded, { input: x });
    const measured = maxRelativeError(halfLogits, float32Logits);
    t.diagnostic(`${dtype} weights against float32 senet: relative error ${measured.toExponential(2)}`);
    assert.ok(measured <= tolerance, `relative error ${measured}`);

    // Against senet with the same rounded weights (BatchNorm kept, so both round the same numbers): exact.
    roundWeights(model, dtype);
    const roundedLogits = torch.noGrad(() => model.call(x));
    const { logits } = await runOnnx(half, { input: x });
    const error = maxRelativeError(logits, roundedLogits);
    assert.ok(error <= 1e-5, `relative error ${error}`);
    torch.dispose([x, float32Logits, halfLogits, roundedLogits, logits]);
    model.dispose();
  });
}

test('seGates: a second output se_gates [batch, C], the gates of the last SE unit senet probes', async () => {
  const model = seResnet20();
  const units = excitationUnits(model);
  const [lastName, lastUnit] = units.at(-1)!;
  assert.equal(lastName, 'layer3.2.se');
  const bytes = exported(model, { seGates: true });
  assert.deepEqual(
    decodeModel(bytes).graph.output.map((v) => [v.name, dims(v)]),
    [
      ['logits', ['batch', 10]],
      ['se_gates', ['batch', 64]],
    ],
  );
  const x = torch.randn(3, 3, 32, 32);
  let probed: Excitation | null = null;
  const hook = probeExcitation(lastUnit, (e) => {
    probed = e;
  });
  torch.noGrad(() => model.call(x)).dispose();
  hook.remove();
  const outputs = await runOnnx(bytes, { input: x });
  const gates = outputs.se_gates as Tensor;
  assert.deepEqual(gates.shape, [3, 64]);
  const expected = torch.tensor(Float32Array.from(probed!.values), { shape: [3, 64] });
  assert.ok(maxRelativeError(gates, expected) <= 1e-5);
  torch.dispose([x, gates, outputs.logits, expected]);
  model.dispose();
});

test('seGates on a model without SE units is refused, naming the model', () => {
  const model = createModel('resnet20');
  const x = torch.randn(2, 3, 32, 32);
  assert.throws(() => toOnnx(model, x, { seGates: true }), /se_gates were asked for, but CifarResNet has no SE unit/);
  torch.dispose([x]);
  model.dispose();
});

test('bad arguments are one clear error each', () => {
  const model = createModel('simple-cnn');
  const x = torch.randn(2, 3, 32, 32);
  assert.throws(() => toOnnx({} as never, x), /toOnnx: expected an nn.Module to export/);
  assert.throws(() => toOnnx(model, [1, 2] as never), /the example input must be a live Tensor/);
  assert.throws(
    () => toOnnx(model, x, { weightType: 'int8' as never }),
    /weightType must be float32, float16 or bfloat16/,
  );
  const wrong = torch.randn(2, 3, 8, 8); // SimpleCNN's classifier is sized for 32×32
  assert.throws(() => toOnnx(model, wrong));
  assert.equal(model.training, true, 'the model is left in the mode it was in');
  torch.dispose([x, wrong]);
  model.dispose();
});
