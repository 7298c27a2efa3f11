// Fine-tuning runs on the tiny CIFAR-10 sample: a ResNet-20 whose pretrained weights classify 7 classes
// is trained on 10 with its backbone frozen for the first epoch. The run says what became of the
// classifier (events, config.json, pipeline.json); after the frozen epoch the backbone — BatchNorm
// statistics included — is the file's bit for bit, after the next it has changed; an interrupted run
// resumes from its checkpoint without the pretrained file and ends bit for bit where an uninterrupted one
// does; a run directory serves as pretrained weights.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { createModel, saveWeights } from '../../src/models/index.js';
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { trainRun, type TrainEvent } from '../../src/train/trainer.js';
import { RunDir } from '../../src/train/run-dir.js';
import { readPipeline } from '../../src/train/stages.js';
import { loadPretrained, resolvePretrained } from '../../src/train/pretrained.js';
import { tempDir } from '../data/support.js';
import { errorLine, makeTinyCifar, runCli } from '../cli/support.js';

let work: string;
let cacheDir: string;
let sevenClasses: string;

before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-finetune-');
  cacheDir = makeTinyCifar(join(work, 'data'));
  torch.manualSeed(1);
  const source = createModel('resnet20', { numClasses: 7 });
  sevenClasses = join(work, 'seven.safetensors');
  saveWeights(source, sevenClasses);
  source.dispose();
});

const fineTuning = (values: Partial<TrainConfig> = {}) =>
  resolveConfig({
    values: {
      model: 'resnet20',
      epochs: 2,
      batchSize: 100,
      threads: 1,
      optimizer: 'sgd',
      lr: 0.05,
      weightDecay: 5e-4,
      pretrained: sevenClasses,
      freezeBackboneEpochs: 1,
      backboneLrScale: 0.5,
      ...values,
    },
    source: { describe: (k) => k },
  });

/** The tensors of a checkpoint's model.safetensors (the caller disposes them). */
const checkpointWeights = (runDir: string) => torch.io.load(join(runDir, 'checkpoints', 'last', 'model.safetensors'));

const isBackbone = (key: string) => !key.startsWith('fc.');

let uninterrupted: string;

test('a fine-tuning run replaces the classifier, says so, and trains the backbone only after the frozen epoch', async () => {
  uninterrupted = join(work, 'whole');
  const events: TrainEvent[] = [];
  const result = await trainRun({
    config: fineTuning(),
    runDir: uninterrupted,
    cacheDir,
    onEvent: (e) => events.push(e),
  });
  assert.equal(result.status, 'completed');

  const pretrained = events.filter((e): e is Extract<TrainEvent, { type: 'pretrained' }> => e.type === 'pretrained');
  assert.equal(pretrained.length, 1);
  assert.equal(pretrained[0].classifierReplaced, true);
  assert.match(
    pretrained[0].message,
    /^Pretrained weights from .*seven\.safetensors: classifier fc replaced: .*\(7 → 10 classes\)/,
  );
  const backbone = events.filter((e): e is Extract<TrainEvent, { type: 'backbone' }> => e.type === 'backbone');
  assert.deepEqual(
    backbone.map((e) => [e.epoch, e.frozen]),
    [
      [1, true],
      [2, false],
    ],
  );
  assert.match(backbone[0].message, /Backbone frozen for epoch 1: only the classifier fc trains/);
  // The order: the weights are loaded in the design stage, before training starts.
  const order = events.map((e) => e.type);
  assert.ok(order.indexOf('pretrained') < order.indexOf('start') && order.indexOf('start') < order.indexOf('backbone'));

  const config = RunDir.open(uninterrupted).readConfig();
  assert.equal(config.pretrainedClassifier, 'replace', "config.json: 'auto' resolved to what was done");
  const design = readPipeline(join(uninterrupted, 'pipeline.json')).stages.find((s) => s.name === 'se-module-design')!;
  assert.deepEqual(design.summary?.pretrained, {
    kind: 'file',
    file: sevenClasses,
    sha256: null,
    classifier: pretrained[0].message.replace(/^.*classifier fc /, ''),
  });
  assert.match(
    String((design.summary!.pretrained as { classifier: string }).classifier),
    /^replaced: the weights' fc has \[7, 64\]/,
  );

  const source = torch.io.load(sevenClasses);
  const trained = checkpointWeights(uninterrupted);
  try {
    assert.ok(
      !trained['layer1.0.conv1.weight'].equal(source['layer1.0.conv1.weight']),
      'the backbone trained in epoch 2',
    );
    assert.ok(!trained['bn1.running_mean'].equal(source['bn1.running_mean']));
    assert.deepEqual(trained['fc.weight'].shape, [10, 64]);
  } finally {
    torch.dispose([source, trained]);
  }
});

test("interrupted after the frozen epoch: the backbone is the file's bit for bit; resumed without the file, it ends as the whole run", async () => {
  const runDir = join(work, 'interrupted');
  const controller = new AbortController();
  const first = await trainRun({
    config: fineTuning(),
    runDir,
    cacheDir,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'epoch' && e.metrics.epoch === 1) controller.abort();
    },
  });
  assert.equal(first.status, 'interrupted');
  assert.equal(first.epoch, 1);

  const source = torch.io.load(sevenClasses);
  const afterFrozen = checkpointWeights(runDir);
  try {
    const keys = Object.keys(afterFrozen).filter(isBackbone);
    assert.deepEqual(keys.sort(), Object.keys(source).filter(isBackbone).sort());
    assert.ok(keys.some((k) => k.endsWith('running_var')) && keys.some((k) => k.endsWith('num_batches_tracked')));
    for (const key of keys) assert.ok(afterFrozen[key].equal(source[key]), `${key} unchanged during the frozen epoch`);
  } finally {
    torch.dispose([source, afterFrozen]);
  }

  // The pretrained file is gone: a resumed run continues from its checkpoint and never reads it.
  const moved = `${sevenClasses}.away`;
  renameSync(sevenClasses, moved);
  const events: TrainEvent[] = [];
  try {
    const resumed = await trainRun({ resume: runDir, cacheDir, onEvent: (e) => events.push(e) });
    assert.equal(resumed.status, 'completed');
  } finally {
    renameSync(moved, sevenClasses);
  }
  assert.ok(!events.some((e) => e.type === 'pretrained'));
  assert.deepEqual(
    events.filter((e) => e.type === 'backbone').map((e) => (e as { frozen: boolean }).frozen),
    [false],
  );
  const whole = checkpointWeights(uninterrupted);
  const pieced = checkpointWeights(runDir);
  try {
    for (const key of Object.keys(whole))
      assert.ok(pieced[key].equal(whole[key]), `${key} as in the uninterrupted run`);
  } finally {
    torch.dispose([whole, pieced]);
  }
});

test('a run directory as pretrained weights: its best checkpoint; a run without checkpoints is a clear error', async () => {
  const found = await resolvePretrained(uninterrupted);
  assert.deepEqual(found, {
    kind: 'run',
    file: join(uninterrupted, 'checkpoints', 'best', 'model.safetensors'),
    sha256: null,
  });
  torch.manualSeed(0);
  const model = createModel('resnet20', { numClasses: 10 });
  try {
    assert.equal(loadPretrained(model, found.file).summary, 'kept (10 classes)');
  } finally {
    model.dispose();
  }
  const empty = join(work, 'empty');
  RunDir.create(empty, fineTuning());
  await assert.rejects(resolvePretrained(empty), /the run .*empty has no best or last checkpoint yet/);
});

test('senet train --pretrained: the console says what became of the classifier; weights that do not fit are one error line', async () => {
  const out = join(work, 'cli');
  const common = ['--epochs', '1', '--batch-size', '200', '--threads', '1'];
  const env = { SENET_DATA: cacheDir };
  const ran = await runCli(
    [
      'train',
      '--model',
      'resnet20',
      '--pretrained',
      sevenClasses,
      '--freeze-backbone-epochs',
      '1',
      '--backbone-lr-scale',
      '0.1',
      ...common,
      '--out',
      out,
    ],
    { env },
  );
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(
    ran.stderr,
    /Pretrained weights from .*seven\.safetensors: classifier fc replaced: .*\(7 → 10 classes\)/,
  );
  assert.match(ran.stderr, /Backbone frozen for epoch 1: only the classifier fc trains/);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(
    [config.pretrained, config.pretrainedClassifier, config.freezeBackboneEpochs, config.backboneLrScale],
    [sevenClasses, 'replace', 1, 0.1],
  );

  const refused = await runCli(
    ['train', '--model', 'simple-cnn', '--pretrained', sevenClasses, ...common, '--out', join(work, 'cli-bad')],
    { env },
  );
  assert.equal(refused.code, 1);
  assert.match(
    errorLine(refused.stderr),
    /^senet: the pretrained weights .*seven\.safetensors do not fit 'SimpleCNN' beyond its classifier fc: .*Missing key\(s\)/,
  );
});
