// `senet eval`, `senet predict` and `senet infer` on a run trained here (1 epoch on the tiny CIFAR-10
// sample), each checked against the same computation done in this process.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/torch/index.js';
import { loadTrainedModel } from '../../src/train/trained-model.js';
import { assertClose } from '../helpers.js';
import { CIFAR10_CLASSES, JPEG_FOLDER, tempDir } from '../data/support.js';
import { errorLine, makeTinyCifar, runCli, SAMPLE_TEST, SAMPLE_TRAIN, senetInProcess } from './support.js';

let work: string;
let env: Record<string, string>;
let run: string;
const IMAGES = [join(JPEG_FOLDER, 'test', 'cat', '0000.jpg'), join(JPEG_FOLDER, 'test', 'ship', '0001.jpg')];

before(async () => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-cli-infer-');
  env = { SENET_DATA: makeTinyCifar(join(work, 'data')) };
  run = join(work, 'run');
  const trained = await runCli(['train', '--epochs', '1', '--batch-size', '32', '--threads', '1', '--out', run], {
    env,
  });
  assert.equal(trained.code, 0, trained.stderr);
});

test("eval --json reproduces the run's final evaluation; the table shows per-class accuracy and the confusion matrix", async () => {
  const json = await runCli(
    ['eval', '--run', run, '--checkpoint', 'last', '--batch-size', '32', '--threads', '1', '--json'],
    { env },
  );
  // The same command inside this process for the other forms (the data cache is the tiny sample's).
  process.env.SENET_DATA = env.SENET_DATA;
  const table = await senetInProcess('eval', '--run', run, '--threads', '1');
  const fromWeights = await senetInProcess(
    'eval',
    '--weights',
    join(run, 'checkpoints', 'last', 'model.safetensors'),
    '--data',
    'cifar10',
    '--batch-size',
    '32',
    '--threads',
    '1',
    '--json',
  );
  assert.equal(json.code, 0, json.stderr);
  const result = JSON.parse(json.stdout);
  const recorded = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8'));
  assert.equal(result.accuracy, recorded.accuracy);
  assert.deepEqual(result.confusion, recorded.confusion);
  assert.deepEqual(result.perClass, recorded.perClass);
  assert.ok(Math.abs(result.loss - recorded.loss) < 1e-6);
  assert.deepEqual(result.classes, CIFAR10_CLASSES);
  assert.equal(result.count, SAMPLE_TEST);
  assert.equal(result.model, 'simple-cnn');

  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^Accuracy: \d+\.\d{2}% \(\d+ of 200 images\), mean loss \d+\.\d{4}$/m);
  assert.match(table.stdout, /^airplane +\d+\.\d{2}% +20$/m);
  assert.match(table.stdout, /Confusion matrix \(rows: true class, columns: predicted class\):/);
  assert.match(table.stdout, /^9 truck( +\d+){10}$/m);

  assert.equal(fromWeights.code, 0, fromWeights.stderr);
  assert.equal(
    JSON.parse(fromWeights.stdout).accuracy,
    recorded.accuracy,
    'the weights file alone says which model and normalisation',
  );
});

/** The top-k classes of an image, computed here: sharp decode, ToTensor + Normalize(0.5, 0.5) by hand, forward, softmax. */
async function expectedTop(model: ReturnType<typeof loadTrainedModel>['model'], file: string, k: number) {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [32, 32, 3]);
  const planar = new Float32Array(3 * 32 * 32);
  for (let p = 0; p < 32 * 32; p++)
    for (let c = 0; c < 3; c++) planar[c * 1024 + p] = (data[p * 3 + c] / 255 - 0.5) / 0.5;
  const logits = torch.noGrad(() =>
    torch.tidy(() => model.forward(torch.tensor(planar, { shape: [1, 3, 32, 32] })).toArray() as number[][]),
  )[0];
  const exps = logits.map(Math.exp);
  const total = exps.reduce((a, b) => a + b, 0);
  return logits
    .map((_, i) => i)
    .sort((a, b) => logits[b] - logits[a])
    .slice(0, k)
    .map((index) => ({ class: CIFAR10_CLASSES[index], index, probability: exps[index] / total }));
}

test('eval --split reads the named split: train and test of CIFAR; val is refused where there is none', async () => {
  process.env.SENET_DATA = env.SENET_DATA;
  const evalSplit = (split: string) =>
    senetInProcess('eval', '--run', run, '--checkpoint', 'last', '--threads', '1', '--json', '--split', split);
  const train = await evalSplit('train');
  assert.equal(train.code, 0, train.stderr);
  assert.equal(JSON.parse(train.stdout).count, SAMPLE_TRAIN);
  assert.equal(JSON.parse(train.stdout).split, 'train');
  const testSplit = await evalSplit('test');
  assert.equal(JSON.parse(testSplit.stdout).count, SAMPLE_TEST);
  const val = await evalSplit('val');
  assert.equal(val.code, 1);
  assert.equal(errorLine(val.stderr), 'senet: cifar10 has no validation split; choose --split test or train');
  const unknown = await evalSplit('dev');
  assert.match(unknown.stderr, /--split expects one of train, val, test, got 'dev'/);
});

test("predict --json gives each image's top-k classes with the probabilities the model assigns", async () => {
  const json = await runCli(['predict', '--run', run, '--top-k', '3', '--json', ...IMAGES], { env });
  const text = await senetInProcess('predict', '--run', run, IMAGES[0]);
  assert.equal(json.code, 0, json.stderr);
  const predictions = JSON.parse(json.stdout) as {
    file: string;
    top: { class: string; index: number; probability: number }[];
  }[];
  assert.deepEqual(
    predictions.map((p) => p.file),
    IMAGES,
  );
  const trained = loadTrainedModel({ run });
  try {
    for (const p of predictions) {
      const expected = await expectedTop(trained.model, p.file, 3);
      assert.deepEqual(
        p.top.map((t) => [t.class, t.index]),
        expected.map((t) => [t.class, t.index]),
      );
      p.top.forEach((t, i) =>
        assert.ok(
          Math.abs(t.probability - expected[i].probability) < 1e-5,
          `${p.file}: ${t.probability} vs ${expected[i].probability}`,
        ),
      );
    }
  } finally {
    trained.model.dispose();
  }
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(`^${IMAGES[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n( +\\d+\\.\\d{2}%  [a-z]+\n){3}$`),
  );
});

test("infer round-trips a .npy of images into the logits of the model's forward pass", async (t) => {
  const input = join(work, 'x.npy');
  const output = join(work, 'y.npy');
  torch.manualSeed(1);
  const x = torch.randn([5, 3, 32, 32]);
  torch.io.saveNpy(x, input);
  const weights = join(run, 'checkpoints', 'last', 'model.safetensors');
  const result = await senetInProcess(
    'infer',
    '--weights',
    weights,
    '--model',
    'simple-cnn',
    '--input',
    input,
    '--output',
    output,
    '--batch-size',
    '2',
    '--threads',
    '1',
  );
  assert.equal(result.code, 0, result.stderr);
  const logits = torch.io.loadNpy(output);
  const trained = loadTrainedModel({ weights });
  t.after(() => {
    torch.dispose([x, logits]);
    trained.model.dispose();
  });
  assert.equal(logits.dtype, 'float32');
  assert.deepEqual(logits.shape, [5, 10]);
  torch.noGrad(() =>
    torch.tidy(() => assertClose(logits, trained.model.forward(x), { rtol: 1e-5, atol: 1e-5 }, 'logits')),
  );
});

test('bad input gives one line naming what was wrong: corrupt checkpoint, wrong image size, missing image, unknown weights', async () => {
  const broken = join(work, 'broken');
  cpSync(run, broken, { recursive: true });
  const weights = join(broken, 'checkpoints', 'last', 'model.safetensors');
  const bytes = readFileSync(weights);
  bytes[bytes.length - 5] ^= 0x55;
  writeFileSync(weights, bytes);
  const small = join(work, 'small.npy');
  const smallImages = torch.zeros([2, 3, 24, 24]);
  torch.io.saveNpy(smallImages, small);
  smallImages.dispose();
  const stateDict = join(work, 'plain.pt');
  const model = loadTrainedModel({ run });
  torch.io.save(model.model.stateDict(), stateDict);
  model.model.dispose();

  const corrupt = await senetInProcess('eval', '--run', broken, '--checkpoint', 'last', '--json');
  const wrongSize = await senetInProcess(
    'infer',
    '--run',
    run,
    '--input',
    small,
    '--output',
    join(work, 'out.npy'),
    '--threads',
    '1',
  );
  const missingImage = await senetInProcess('predict', '--run', run, join(work, 'no-such.jpg'));
  const noModel = await senetInProcess('predict', '--weights', stateDict, IMAGES[0]);
  for (const r of [corrupt, wrongSize, missingImage, noModel]) {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.match(
    errorLine(corrupt.stderr),
    /^senet: checkpoint .*broken\/checkpoints\/last is corrupt: model\.safetensors is \d+ bytes with SHA-256/,
  );
  assert.match(errorLine(wrongSize.stderr), /^senet: SimpleCNN expects 3×32×32 input images .*got 3×24×24/);
  assert.match(errorLine(missingImage.stderr), /^senet: cannot read the image .*no-such\.jpg: it does not exist$/);
  assert.match(
    errorLine(noModel.stderr),
    /^senet: .*plain\.pt does not say which model it is for: name it with --model/,
  );
  // With the model named, a plain PyTorch-style state dict works (classes counted from its classifier).
  const named = await senetInProcess('predict', '--weights', stateDict, '--model', 'simple-cnn', '--json', IMAGES[0]);
  assert.equal(named.code, 0, named.stderr);
  assert.equal(JSON.parse(named.stdout)[0].top[0].class.startsWith('class '), true);
});
