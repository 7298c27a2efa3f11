// ONNX export against senet's own forward: each exported model runs in onnxruntime-node on a batch of
// another size than the one traced (the batch axis is symbolic) and must give senet's logits within a
// relative error of 1e-5 (float32 weights; BatchNorm folded or kept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { nn, Tensor } from '../../src/torch/index.js';
import { createModel, type ModelName } from '../../src/models/index.js';
import { toOnnx, type OnnxOptions } from '../../src/export/index.js';
import { maxRelativeError } from '../helpers.js';
import { randomizeBatchNorms, runOnnx } from './support.js';

/** Exports `model` traced on a batch of 2 and compares onnxruntime's logits on a batch of 3 with senet's. */
async function parityError(model: nn.Module, inputShape: number[], options: OnnxOptions = {}): Promise<number> {
  const example = torch.randn([2, ...inputShape]);
  const x = torch.randn([3, ...inputShape]);
  try {
    const bytes = toOnnx(model, example, options);
    const expected = torch.noGrad(() => model.call(x) as Tensor);
    const { logits } = await runOnnx(bytes, { input: x });
    assert.deepEqual(logits.shape, expected.shape);
    const error = maxRelativeError(logits, expected);
    torch.dispose([logits, expected]);
    return error;
  } finally {
    torch.dispose([example, x]);
  }
}

async function zooParity(name: ModelName, side: number, options: OnnxOptions = {}): Promise<number> {
  torch.manualSeed(0);
  const model = createModel(name, { inputSize: side, numClasses: 10 });
  try {
    randomizeBatchNorms(model);
    model.eval();
    return await parityError(model, [3, side, side], options);
  } finally {
    model.dispose();
  }
}

test('simple-cnn: onnxruntime gives senet logits (relative error <= 1e-5)', async () => {
  const error = await zooParity('simple-cnn', 32);
  assert.ok(error <= 1e-5, `relative error ${error}`);
});

test('se-resnet20: BatchNorm folded and kept both match senet', async () => {
  assert.ok((await zooParity('se-resnet20', 32)) <= 1e-5);
  assert.ok((await zooParity('se-resnet20', 32, { keepBatchNorm: true })) <= 1e-5);
});
