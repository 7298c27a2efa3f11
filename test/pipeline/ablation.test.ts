// The SE ablation (src/train/ablation.ts): variant syntax, and a tiny two-network ablation on the CIFAR-10
// sample (one epoch of the resnet recipe each) writing its table; run again, it reuses the finished runs.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseVariant, runAblation, writeAblation, ablationMarkdown } from '../../src/pipeline/ablation.js';
import { createModel, summarizeModel } from '../../src/models/index.js';
import { tempDir } from '../data/support.js';
import { makeTinyCifar } from '../cli/support.js';

test('variants: model[:placement|type|rN]...', () => {
  assert.deepEqual(parseVariant('se-resnet20'), { label: 'se-resnet20', values: { model: 'se-resnet20' } });
  assert.deepEqual(parseVariant('se-resnet20:pre:r4').values, {
    model: 'se-resnet20',
    sePlacement: 'pre',
    attention: { reduction: 4 },
  });
  assert.deepEqual(parseVariant('resnet20:eca').values, { model: 'resnet20', attention: { type: 'eca' } });
  assert.deepEqual(parseVariant('se-resnet20:scse:identity').values, {
    model: 'se-resnet20',
    attention: { type: 'scse' },
    sePlacement: 'identity',
  });
  assert.throws(
    () => parseVariant('se-resnet20:middle'),
    /ablation variant 'se-resnet20:middle': unknown modifier 'middle'; expected a placement \(standard, pre, post, identity\)/,
  );
  assert.throws(() => parseVariant(':pre'), /expected model\[:modifier\]/);
});

let work: string;
let cacheDir: string;
before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-ablation-');
  cacheDir = makeTinyCifar(join(work, 'data'));
});

test('a tiny ablation trains each variant under the same recipe and seed, tabulates it, and reuses finished runs', async () => {
  const variants = ['resnet20', 'se-resnet20:r4'].map(parseVariant);
  const layers = [
    { values: { recipe: 'resnet' as const, epochs: 1, seed: 3, threads: 1 }, source: { describe: (k: string) => k } },
  ];
  const out = join(work, 'runs');
  let trainedBatches = 0;
  const first = await runAblation({
    variants,
    layers,
    out,
    cacheDir,
    onEvent: (_v, e) => {
      if (e.type === 'batch') trainedBatches++;
    },
  });
  assert.equal(first.interrupted, false);
  assert.equal(trainedBatches, 2 * Math.ceil(800 / 128));
  const [plain, se] = first.rows;
  assert.equal(plain.model, 'resnet20');
  assert.deepEqual(se.attention, { reduction: 4 });
  for (const [row, name, options] of [
    [plain, 'resnet20', {}],
    [se, 'se-resnet20', { attention: { reduction: 4 } }],
  ] as const) {
    const model = createModel(name, options);
    const summary = summarizeModel(model, [3, 32, 32]);
    model.dispose();
    assert.equal(row.params, summary.params);
    assert.equal(row.macs, summary.macs);
    assert.equal(row.epochs, 1);
    assert.ok(row.testAccuracy >= 0 && row.testAccuracy <= 1);
    assert.ok(row.trainImagesPerSecond > 0 && row.minutes > 0);
    const evalJson = JSON.parse(readFileSync(join(row.runDir, 'eval.json'), 'utf8'));
    assert.equal(row.testAccuracy, evalJson.accuracy);
    const config = JSON.parse(readFileSync(join(row.runDir, 'config.json'), 'utf8'));
    assert.equal(config.recipe, 'resnet');
    assert.equal(config.seed, 3);
    assert.equal(config.lr, 0.1);
  }
  assert.ok(se.params > plain.params, 'SE adds parameters');

  // Again: nothing is trained, the same rows come back.
  trainedBatches = 0;
  const second = await runAblation({
    variants,
    layers,
    out,
    cacheDir,
    onEvent: (_v, e) => {
      if (e.type === 'batch') trainedBatches++;
    },
  });
  assert.equal(trainedBatches, 0);
  assert.deepEqual(second.rows, first.rows);

  const md = join(work, 'results', 'ablation.md');
  const json = writeAblation(md, first.rows, {
    command: 'senet ablate --models resnet20,se-resnet20:r4 --recipe resnet --epochs 1 --seed 3',
    recipe: 'resnet',
    epochs: 1,
    seed: 3,
    data: 'cifar10',
    threads: 1,
  });
  const text = readFileSync(md, 'utf8');
  assert.equal(text, ablationMarkdown(first.rows, JSON.parse(readFileSync(json, 'utf8'))));
  assert.match(text, /\*\*resnet\*\* recipe for \*\*1 epoch\*\*, seed 3/);
  assert.match(text, /senet ablate --models resnet20,se-resnet20:r4/);
  assert.match(text, /longer training raises every absolute number/);
  assert.match(
    text,
    /\| se-resnet20:r4 \| \d+\.\d\d% \| \d+\.\d\d% \| [+-]\d+\.\d\d \| [\d,]+ \| \d+\.\d\dM \| \d+ \| \d+\.\d \|/,
  );
  assert.equal(JSON.parse(readFileSync(json, 'utf8')).rows.length, 2);
});
