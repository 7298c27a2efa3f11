// trainRun in this process on the tiny CIFAR-10 sample: the events it emits, evaluation every n epochs,
// the per-step losses and session records it writes, aborting before training starts, and that a whole
// run leaves no native tensor behind.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { trainRun, type TrainEvent } from '../../src/train/trainer.js';
import { RunDir } from '../../src/train/run-dir.js';
import { readPipeline } from '../../src/train/stages.js';
import { tempDir } from '../data/support.js';
import { makeTinyCifar } from '../cli/support.js';
import { parseSteps } from '../../src/report/run-files.js';

let work: string;
let cacheDir: string;

before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-trainer-');
  cacheDir = makeTinyCifar(join(work, 'data'));
});

const config = (values: Partial<TrainConfig>) =>
  resolveConfig({ values: { threads: 1, batchSize: 100, ...values }, source: { describe: (k) => k } });

test('a run emits its stages, epochs and batches in order, evaluates every n epochs, and frees every tensor', async () => {
  const before = torch.memory().tensors;
  const events: TrainEvent[] = [];
  const result = await trainRun({
    config: config({ epochs: 3, evalEvery: 2 }),
    runDir: join(work, 'events'),
    cacheDir,
    onEvent: (e) => events.push(e),
  });
  assert.equal(result.status, 'completed');
  assert.equal(torch.memory().tensors, before, 'no native tensor outlives the run');

  const stages = events.filter((e) => e.type === 'stage').map((e) => `${e.stage}:${e.status}`);
  assert.deepEqual(stages, [
    'data-preparation:running',
    'data-preparation:done',
    'data-augmentation:running',
    'data-augmentation:done',
    'se-module-design:running',
    'se-module-design:done',
    'cnn-model-design:running',
    'cnn-model-design:done',
    'hyperparameter-tuning:skipped',
    'model-training:running',
    'model-training:done',
    'evaluation:running',
    'evaluation:done',
  ]);
  const batches = events.filter((e) => e.type === 'batch');
  assert.equal(batches.length, 3 * 8); // 800 images in batches of 100
  assert.deepEqual(
    batches.slice(0, 8).map((e) => e.batch),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  const epochs = events.filter((e): e is Extract<TrainEvent, { type: 'epoch' }> => e.type === 'epoch');
  // Evaluated after epoch 2 (every 2) and after the last; epoch 1 is not.
  assert.deepEqual(
    epochs.map((e) => e.metrics.test_acc !== null),
    [false, true, true],
  );
  assert.deepEqual(
    RunDir.open(join(work, 'events'))
      .readMetrics()
      .map((m) => m.test_loss === null),
    [true, false, false],
  );
  assert.equal(events.at(-1)!.type, 'done');
  // steps.jsonl: one line per step, the loss the batch event gave, the step counted over the run.
  const steps = readFileSync(join(work, 'events', 'steps.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    steps.map((s) => [s.epoch, s.batch, s.step, s.loss]),
    batches.map((e, i) => [e.epoch, e.batch, i + 1, e.loss]),
  );
  assert.ok(steps.every((s) => typeof s.lr === 'number' && s.lr > 0));
});

test('environment.json records each session; steps redone after a resume mid-epoch are appended again', async () => {
  const controller = new AbortController();
  const runDir = join(work, 'resumed-mid-epoch');
  const stopped = await trainRun({
    config: config({ epochs: 1 }),
    runDir,
    cacheDir,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'batch' && e.batch === 3) controller.abort();
    },
  });
  assert.equal(stopped.status, 'interrupted');
  await trainRun({ resume: runDir, cacheDir, threads: 2 });
  const environment = JSON.parse(readFileSync(join(runDir, 'environment.json'), 'utf8'));
  assert.deepEqual(
    environment.sessions.map((s: { threads: number }) => s.threads),
    [1, 2],
  );
  const session = environment.sessions[0];
  assert.deepEqual(session.argv, process.argv);
  assert.equal(session.libtorch, torch.buildInfo().torchVersion);
  assert.equal(session.node, process.version);
  assert.ok(session.cores >= 1 && typeof session.cpu === 'string');
  // Checkpointed after batch 3, so the resume continues at batch 4: 3 + 5 lines, steps 1..8 once each.
  const text = readFileSync(join(runDir, 'steps.jsonl'), 'utf8');
  assert.equal(text.trim().split('\n').length, 8);
  const steps = parseSteps(text, 'steps.jsonl');
  assert.deepEqual(
    steps.map((s) => s.step),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
});

test('aborted before training starts: reported as interrupted, nothing trained, the run resumable', async () => {
  const controller = new AbortController();
  controller.abort();
  const runDir = join(work, 'aborted');
  const result = await trainRun({ config: config({ epochs: 1 }), runDir, cacheDir, signal: controller.signal });
  assert.equal(result.status, 'interrupted');
  assert.equal(result.checkpoint, null);
  assert.deepEqual(
    readPipeline(join(runDir, 'pipeline.json'))
      .stages.map((s) => s.status)
      .slice(0, 2),
    ['done', 'pending'],
  );
  const resumed = await trainRun({ resume: runDir, cacheDir });
  assert.equal(resumed.status, 'completed');
  assert.equal(RunDir.open(runDir).readMetrics().length, 1);
});

test('a run whose config.json was edited after it started is not resumed', async () => {
  const runDir = join(work, 'edited');
  await trainRun({ config: config({ epochs: 1 }), runDir, cacheDir });
  const run = RunDir.open(runDir);
  const edited = { ...run.readConfig(), lr: 0.5 };
  torch.io.writeFileAtomic(run.file('config'), new TextEncoder().encode(JSON.stringify(edited)));
  await assert.rejects(
    trainRun({ resume: runDir, cacheDir }),
    /was written under another config .*config\.json was changed after the run started/,
  );
});
