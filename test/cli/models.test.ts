// `senet models --json`: every registry model, measured for real (this builds every model once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listModels } from '../../src/models/index.js';
import { runCli } from './support.js';

test('models --json lists every registry model with its parameters and MACs at its default input', async () => {
  const result = await runCli(['models', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const models = JSON.parse(result.stdout) as { name: string; params: number; macs: number; input: number[] }[];
  assert.deepEqual(
    models.map((m) => m.name),
    listModels().map((m) => m.name),
  );
  for (const m of models) {
    assert.deepEqual(Object.keys(m), ['name', 'params', 'macs', 'input']);
    assert.ok(Number.isInteger(m.params) && m.params > 0, `${m.name} params`);
    assert.ok(Number.isInteger(m.macs) && m.macs > 0, `${m.name} MACs`);
    assert.deepEqual(m.input, listModels().find((i) => i.name === m.name)!.defaultInput);
  }
  const byName = new Map(models.map((m) => [m.name, m]));
  // Published sizes (torchvision's and the SENet paper's counts): ResNet-50 25,557,032 parameters and
  // about 4.1 G multiply-accumulates at 224×224; SE adds about 10% parameters and very little compute.
  assert.equal(byName.get('resnet50')!.params, 25_557_032);
  assert.ok(Math.abs(byName.get('resnet50')!.macs / 4.09e9 - 1) < 0.01);
  const se = byName.get('seresnet50')!;
  assert.ok(se.params > byName.get('resnet50')!.params * 1.05 && se.macs < byName.get('resnet50')!.macs * 1.01);
});
