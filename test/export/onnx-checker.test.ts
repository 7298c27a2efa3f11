// ONNX's own checker accepts what senet exports: files covering every kind of node the exporter writes
// (folded and kept BatchNorm, half-precision weights behind Casts, the se_gates output, GELU written out,
// ECA's 1-D convolution, scSE, the legacy SENet-154 block, a user's module with LayerNorm, GroupNorm,
// Resize, Split and Transpose) go through onnx.checker.check_model(full_check=True) and strict shape inference in
// scripts/fixtures/check_onnx.py, run with Debian's python3-onnx (installed by scripts/setup.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import type { nn } from '../../src/torch/index.js';
import { createModel, LegacySENet, LEGACY_SE, PreActResNet, CIFAR_SE } from '../../src/models/index.js';
import { toOnnx, type OnnxOptions } from '../../src/export/index.js';
import { ROOT } from '../helpers.js';
import { tempDir } from '../data/support.js';
import { UserNet } from './support.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(ROOT, 'scripts', 'fixtures', 'check_onnx.py');

interface CheckResult {
  ok: boolean;
  error?: string;
  ir_version: number;
  opsets: Record<string, number>;
  inputs: Record<string, (number | string)[]>;
  outputs: Record<string, (number | string)[]>;
  metadata: Record<string, string>;
}

const cases: [string, () => nn.Module, number[], OnnxOptions][] = [
  ['simple-cnn', () => createModel('simple-cnn'), [3, 32, 32], {}],
  ['se-resnet20', () => createModel('se-resnet20'), [3, 32, 32], { seGates: true }],
  [
    'se-resnet20-kept-bn-fp16',
    () => createModel('se-resnet20'),
    [3, 32, 32],
    { keepBatchNorm: true, weightType: 'float16' },
  ],
  ['se-resnet20-bf16', () => createModel('se-resnet20'), [3, 32, 32], { weightType: 'bfloat16' }],
  ['eca-resnet20', () => createModel('se-resnet20', { attention: { type: 'eca' } }), [3, 32, 32], {}],
  ['scse-resnet20', () => createModel('se-resnet20', { attention: { type: 'scse', combine: 'max' } }), [3, 32, 32], {}],
  ['preact', () => new PreActResNet({ depth: 11, attention: CIFAR_SE }), [3, 32, 32], {}],
  ['se-fastnet', () => createModel('se-fastnet'), [3, 32, 32], {}],
  [
    'senet-block',
    () =>
      new LegacySENet({
        block: 'senet',
        layers: [1, 1, 1, 1],
        widths: [16, 16, 32, 32],
        groups: 8,
        inplanes: 16,
        stemWidth: 8,
        input3x3: true,
        downsampleKernelSize: 3,
        downsamplePadding: 1,
        dropRate: 0.2,
        numClasses: 10,
        attention: LEGACY_SE,
      }),
    [3, 64, 64],
    {},
  ],
  ['user-module', () => new UserNet(), [3, 16, 16], { metadata: { classes: ['a', 'b', 'c', 'd', 'e'] } }],
];

test('onnx.checker (full check) and strict shape inference accept every kind of exported graph', (t) => {
  const importable = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
  assert.equal(
    importable.status,
    0,
    `${PYTHON} cannot import onnx (${importable.stderr.trim() || importable.error?.message}): ` +
      "install Debian's python3-onnx (bash scripts/setup.sh does)",
  );
  const dir = tempDir(t, 'senet-onnx-check-');
  const files: Record<string, string> = {};
  for (const [name, build, shape, options] of cases) {
    torch.manualSeed(0);
    const model = build();
    const example = torch.randn([2, ...shape]);
    files[name] = join(dir, `${name}.onnx`);
    writeFileSync(files[name], toOnnx(model, example, options));
    example.dispose();
    model.dispose();
  }
  const run = spawnSync(PYTHON, [SCRIPT, ...Object.values(files)], { encoding: 'utf8' });
  const results = JSON.parse(run.stdout) as Record<string, CheckResult>;
  for (const [name, file] of Object.entries(files)) {
    const result = results[file];
    assert.ok(result.ok, `${name}: ${result.error}`);
    assert.equal(result.ir_version, 8);
    assert.deepEqual(result.opsets, { 'ai.onnx': 17 });
    assert.equal(result.inputs.input[0], 'batch', name);
    assert.equal(result.outputs.logits[0], 'batch', name);
  }
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(results[files['se-resnet20']].outputs, { logits: ['batch', 10], se_gates: ['batch', 64] });
  assert.deepEqual(results[files['user-module']].outputs, { logits: ['batch', 5] });
  assert.deepEqual(JSON.parse(results[files['user-module']].metadata['senet.classes']), ['a', 'b', 'c', 'd', 'e']);
});
