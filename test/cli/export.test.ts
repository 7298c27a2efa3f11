// `senet export --format onnx`: weights written by real PyTorch (moskomule's se_resnet20, made by
// scripts/fixtures/make_weight_sources.py) exported to ONNX give PyTorch's logits in onnxruntime, the
// file carries the classes, input size and normalisation as metadata, and bad requests are one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { modelProtoType } from '../../src/export/onnx/onnx-schema.js';
import { ROOT, fromFixture, loadFixture, maxRelativeError, type FixtureTensor } from '../helpers.js';
import { detInput } from '../models/deterministic-fill.js';
import { tempDir } from '../data/support.js';
import { runOnnx } from '../export/support.js';
import { loadTrainedModel } from '../../src/train/trained-model.js';
import { errorLine, makeTinyCifar, runCli, senetInProcess } from './support.js';

interface LogitsCase {
  file: string;
  inputShape: number[];
  logits: FixtureTensor;
}

const moskomule = loadFixture<Record<string, LogitsCase>>('weight-sources')['moskomule-cifar'];

/** The metadata_props of an .onnx file, decoded with the ONNX schema. */
function metadataOf(bytes: Uint8Array): Record<string, string> {
  const model = modelProtoType().toObject(modelProtoType().decode(bytes)) as {
    metadata_props: { key: string; value: string }[];
  };
  return Object.fromEntries(model.metadata_props.map((p) => [p.key, p.value]));
}

test("export writes PyTorch-trained weights as ONNX that gives PyTorch's logits, with senet's metadata", async (t) => {
  const dir = tempDir(t, 'senet-export-');
  const out = join(dir, 'nested', 'model.onnx');
  const weights = join(ROOT, 'test', 'fixtures', moskomule.file);
  const args = ['export', '--weights', weights, '--model', 'se-resnet20', '--normalize', 'cifar10', '-o', out];
  const result = await senetInProcess(...args);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^wrote .*model\.onnx: se-resnet20 as ONNX \(opset 17, \d+ nodes, 21 BatchNorms folded/);

  const bytes = new Uint8Array(readFileSync(out));
  const x = detInput(moskomule.inputShape);
  const { logits } = await runOnnx(bytes, { input: x });
  const error = maxRelativeError(logits, fromFixture(moskomule.logits));
  t.diagnostic(`relative error against PyTorch: ${error.toExponential(2)}`);
  assert.ok(error <= 1e-5, `relative error ${error}`);

  const metadata = metadataOf(bytes);
  assert.equal(metadata['senet.model'], 'se-resnet20');
  assert.deepEqual(JSON.parse(metadata['senet.input_shape']), [3, 32, 32]);
  assert.deepEqual(JSON.parse(metadata['senet.mean']), [0.4914, 0.4822, 0.4465]);
  assert.equal(JSON.parse(metadata['senet.classes']).length, 10);
  assert.match(metadata['senet.version'], /^\d+\.\d+\.\d+/);
  torch.dispose([x, logits]);
});

test('export refuses bad requests with one line', async (t) => {
  const dir = tempDir(t, 'senet-export-');
  const weights = join(ROOT, 'test', 'fixtures', moskomule.file);
  const out = join(dir, 'model.onnx');
  const noSource = await senetInProcess('export', '-o', out);
  assert.match(errorLine(noSource.stderr), /name the trained model: a run directory \(--run DIR\) or a weights file/);
  const both = await senetInProcess(
    'export',
    '--weights',
    weights,
    '--model',
    'se-resnet20',
    '-o',
    out,
    '--fp16',
    '--bf16',
  );
  assert.match(errorLine(both.stderr), /choose one of --fp16 and --bf16/);
  const directory = await senetInProcess('export', '--weights', weights, '--model', 'se-resnet20', '-o', dir);
  assert.match(errorLine(directory.stderr), /cannot write '.*': it is a directory; name the file to write/);
  const format = await senetInProcess('export', '--weights', weights, '--format', 'tflite', '-o', out);
  assert.match(errorLine(format.stderr), /--format expects one of onnx, web, got 'tflite'/);
});

test("export --run: the run's classes and normalisation as metadata, its best checkpoint's logits", async (t) => {
  const dir = tempDir(t, 'senet-export-run-');
  const env = { SENET_DATA: makeTinyCifar(join(dir, 'data')) };
  const run = join(dir, 'run');
  const trained = await runCli(['train', '--epochs', '1', '--batch-size', '64', '--threads', '1', '--out', run], {
    env,
  });
  assert.equal(trained.code, 0, trained.stderr);
  const out = join(dir, 'model.onnx');
  const result = await senetInProcess('export', '--run', run, '--output', out, '--se-gates');
  assert.equal(result.code, 0, result.stderr);

  const bytes = new Uint8Array(readFileSync(out));
  const metadata = metadataOf(bytes);
  const model = loadTrainedModel({ run });
  assert.equal(metadata['senet.model'], 'simple-cnn');
  assert.deepEqual(JSON.parse(metadata['senet.classes']), model.context.classes);
  assert.ok(model.context.classes.includes('airplane'), model.context.classes.join(', '));
  assert.deepEqual(JSON.parse(metadata['senet.mean']), model.context.mean);
  assert.deepEqual(JSON.parse(metadata['senet.std']), model.context.std);
  const x = torch.randn(5, 3, 32, 32);
  const { logits, se_gates } = await runOnnx(bytes, { input: x });
  const expected = torch.noGrad(() => model.model.call(x));
  assert.ok(maxRelativeError(logits, expected) <= 1e-5);
  assert.deepEqual(se_gates.shape, [5, 64]);
  torch.dispose([x, logits, se_gates, expected]);
  model.model.dispose();
});
