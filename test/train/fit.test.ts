// fit(): a user-defined nn.Module (a small MLP with a squeeze-and-excitation style gate) trained on random,
// linearly separable data in a TensorDataset, with its own loss, optimizer and schedule — to a high
// accuracy, leaving the run directory `senet train` leaves; an interrupted run, resumed, ends with the
// very bytes of an uninterrupted one (with a per-epoch StepLR, and with a weight average and a per-batch
// OneCycleLR); a model without accuracy keeps its lowest-loss checkpoint; and
// wrong options and mismatched resumes get one clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { nn, F } from '../../src/torch/index.js';
import { DataLoader, TensorDataset } from '../../src/data/index.js';
import { fit, RunDir, type FitEvent, type FitOptions } from '../../src/train/index.js';
import { tempDir } from '../data/support.js';
import { metricsWithoutTimings } from '../cli/support.js';

const FEATURES = 8;
const CLASSES = 3;

/** An MLP whose hidden features are rescaled by a learned gate (squeeze to 8, excite back, sigmoid). */
class GatedMLP extends nn.Module {
  hidden = new nn.Linear(FEATURES, 32);
  squeeze = new nn.Linear(32, 8);
  excite = new nn.Linear(8, 32);
  dropout = new nn.Dropout(0.1);
  head = new nn.Linear(32, CLASSES);

  forward(x: torch.Tensor): torch.Tensor {
    const h = F.relu(this.hidden.call(x));
    const gate = F.sigmoid(this.excite.call(F.relu(this.squeeze.call(h))));
    return this.head.call(this.dropout.call(h.mul(gate)));
  }
}

/** n points of a standard normal in 8 dimensions, labelled by the largest of 3 fixed linear scores. */
function separable(n: number, seed: number): TensorDataset {
  return torch.tidy(() => {
    const generator = new torch.Generator(seed);
    const directions = torch.randn([FEATURES, CLASSES], { generator: new torch.Generator(1) });
    const x = torch.randn([n, FEATURES], { generator });
    return new TensorDataset(x, x.matmul(directions).argmax(1), { name: `separable-${seed}` });
  });
}

interface Setup {
  model: GatedMLP;
  options: Omit<FitOptions, 'runDir'>;
  dispose(): void;
}

/**
 * Everything a run needs, built from the seed alone: what a script does each time it is started. The
 * 'ema-onecycle' variant adds a weight average and a schedule stepped every batch.
 */
function setup(epochs: number, variant: 'step-lr' | 'ema-onecycle' = 'step-lr'): Setup {
  torch.manualSeed(7);
  const model = new GatedMLP();
  const train = new DataLoader(separable(512, 2), { batchSize: 32, shuffle: true, seed: 3 });
  const validation = new DataLoader(separable(256, 4), { batchSize: 128 });
  const optimizer = new torch.optim.Adam(model.parameters(), { lr: 0.01 });
  const perStep = variant === 'ema-onecycle';
  const scheduler = perStep
    ? new torch.optim.OneCycleLR(optimizer, 0.02, { totalSteps: epochs * train.length })
    : new torch.optim.StepLR(optimizer, 3, { gamma: 0.5 });
  return {
    model,
    options: {
      model,
      train,
      validation,
      loss: (output, target) => F.crossEntropy(output, target),
      optimizer,
      scheduler,
      epochs,
      config: { hidden: 32, note: 'gated mlp' },
      ...(perStep ? { schedulerInterval: 'step' as const, ema: 0.9 } : {}),
    },
    dispose() {
      train.dataset.dispose();
      validation.dataset.dispose();
      optimizer.dispose();
      model.dispose();
    },
  };
}

const work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-fit-');
const bytes = (run: string, checkpoint: string) =>
  readFileSync(join(run, 'checkpoints', checkpoint, 'model.safetensors'));

test('fit trains a user-defined gated MLP to high accuracy and leaves a complete run directory', async () => {
  const before = torch.memory().tensors;
  const run = setup(6);
  const events: FitEvent[] = [];
  const runDir = join(work, 'mlp');
  const result = await fit({ ...run.options, runDir, onEvent: (e) => events.push(e) });

  assert.equal(result.status, 'completed');
  assert.ok(result.evaluation!.accuracy! >= 0.9, `validation accuracy ${result.evaluation!.accuracy}`);
  assert.equal(result.evaluation!.count, 256);
  assert.equal(
    result.bestAccuracy,
    Math.max(
      ...RunDir.open(runDir)
        .readMetrics()
        .map((m) => m.test_acc!),
    ),
  );

  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
  assert.equal(config.trainer, 'senet.fit');
  assert.deepEqual(config.model, { name: 'GatedMLP', parameters: run.model.numParameters() });
  assert.deepEqual(config.optimizer.name, 'Adam');
  assert.equal(config.scheduler, 'StepLR');
  assert.deepEqual([config.epochs, config.batchSize, config.trainSize, config.validationSize], [6, 32, 512, 256]);
  assert.deepEqual(config.config, { hidden: 32, note: 'gated mlp' });

  const metrics = RunDir.open(runDir).readMetrics();
  assert.deepEqual(
    metrics.map((m) => m.epoch),
    [1, 2, 3, 4, 5, 6],
  );
  assert.ok(metrics.at(-1)!.train_loss < metrics[0].train_loss, 'the training loss falls');
  assert.ok(metrics.every((m) => m.train_acc !== null && m.test_acc !== null && m.test_loss !== null));
  // StepLR(3 epochs, 0.5) stepped once per epoch: epochs 4-6 train at half the lr.
  assert.deepEqual(
    metrics.map((m) => m.lr),
    [0.01, 0.01, 0.01, 0.005, 0.005, 0.005],
  );
  for (const name of ['last', 'best']) {
    for (const file of ['model.safetensors', 'trainer.pt', 'checkpoint.json']) {
      assert.ok(existsSync(join(runDir, 'checkpoints', name, file)), `checkpoints/${name}/${file}`);
    }
  }
  const evaluation = JSON.parse(readFileSync(join(runDir, 'eval.json'), 'utf8'));
  assert.equal(evaluation.accuracy, result.evaluation!.accuracy);
  assert.equal(evaluation.epoch, 6);

  // The saved weights are the trained model's: loaded into a fresh one, they give the same outputs.
  const fresh = new GatedMLP();
  const saved = torch.io.loadSafetensors(join(runDir, 'checkpoints', 'last', 'model.safetensors')).tensors;
  fresh.loadStateDict(saved);
  torch.dispose(saved);
  torch.tidy(() => {
    const x = torch.randn([5, FEATURES]);
    run.model.eval();
    fresh.eval();
    assert.deepEqual(fresh.call(x).toArray(), run.model.call(x).toArray());
  });
  fresh.dispose();

  const types = events.map((e) => e.type);
  assert.equal(types[0], 'start');
  assert.equal(types.filter((t) => t === 'batch').length, 6 * 16);
  assert.equal(types.filter((t) => t === 'epoch').length, 6);
  assert.equal(types.at(-1), 'done');
  run.dispose();
  assert.equal(torch.memory().tensors, before, 'no tensor outlives the run');
});

for (const variant of ['step-lr', 'ema-onecycle'] as const) {
  test(`interrupted mid-epoch and resumed, fit ends with the bytes and metrics of the uninterrupted run (${variant})`, async () => {
    const whole = join(work, `whole-${variant}`);
    const a = setup(4, variant);
    await fit({ ...a.options, runDir: whole });
    a.dispose();

    const split = join(work, `split-${variant}`);
    const controller = new AbortController();
    const first = setup(4, variant);
    const stopped = await fit({
      ...first.options,
      runDir: split,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'batch' && e.epoch === 2 && e.batch === 5) controller.abort();
      },
    });
    first.dispose();
    assert.deepEqual([stopped.status, stopped.epoch, stopped.batch], ['interrupted', 1, 5]);
    assert.ok(stopped.checkpoint !== null);
    assert.equal(RunDir.open(split).readMetrics().length, 1);

    const second = setup(4, variant);
    const events: FitEvent[] = [];
    const resumed = await fit({ ...second.options, runDir: split, resume: true, onEvent: (e) => events.push(e) });
    second.dispose();
    assert.equal(resumed.status, 'completed');
    const start = events.find((e): e is Extract<FitEvent, { type: 'start' }> => e.type === 'start');
    assert.deepEqual(start?.resumedAt, { epoch: 2, batch: 5 });
    assert.ok(bytes(whole, 'last').equals(bytes(split, 'last')), 'the final weights are byte-identical');
    assert.ok(bytes(whole, 'best').equals(bytes(split, 'best')), 'the best weights too');
    assert.deepEqual(metricsWithoutTimings(split), metricsWithoutTimings(whole));
  });
}

test('progress: true shows what senet train shows: the start line on stderr, one line per epoch on stdout', async (t) => {
  const s = setup(2);
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const write = process.stderr.write;
  console.log = (line: unknown) => out.push(String(line));
  process.stderr.write = ((chunk: unknown) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    await fit({ ...s.options, runDir: join(tempDir(t, 'senet-fit-'), 'run'), progress: true });
  } finally {
    console.log = log;
    process.stderr.write = write;
    s.dispose();
  }
  assert.match(
    err.join(''),
    /^Training GatedMLP \(\d+ parameters\): 512 train \/ 256 test samples, 16 batches of 32 per epoch, \d+ threads?$/m,
  );
  const epochs = out.filter((l) => /^Epoch \[[12]\/2\], Loss: \d+\.\d{4}, Test accuracy: \d+\.\d{2}% {2}\(/.test(l));
  assert.equal(epochs.length, 2, out.join('\n'));
});

test('a regression model trains without accuracy: best is the lowest validation loss, train_acc is null', async () => {
  torch.manualSeed(1);
  const model = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Linear(16, 1));
  const data = (seed: number) =>
    torch.tidy(() => {
      const x = torch.randn([128, 4], { generator: new torch.Generator(seed) });
      return new TensorDataset(x, x.sum(1, true).mul(0.5));
    });
  const train = new DataLoader(data(1), { batchSize: 16, shuffle: true });
  const validation = new DataLoader(data(2), { batchSize: 64 });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const runDir = join(work, 'regression');
  const result = await fit({
    model,
    train,
    validation,
    loss: (output, target) => F.mseLoss(output, target),
    optimizer,
    epochs: 4,
    accuracy: false,
    runDir,
  });
  const metrics = RunDir.open(runDir).readMetrics();
  assert.ok(metrics.every((m) => m.train_acc === null && m.test_acc === null));
  assert.equal(result.bestAccuracy, null);
  assert.equal(result.bestLoss, Math.min(...metrics.map((m) => m.test_loss!)));
  assert.ok(result.evaluation!.loss < 0.05, `validation MSE ${result.evaluation!.loss}`);
  const best = JSON.parse(readFileSync(join(runDir, 'checkpoints', 'best', 'checkpoint.json'), 'utf8'));
  const bestEpoch = metrics.findIndex((m) => m.test_loss === result.bestLoss) + 1;
  assert.equal(best.epoch, bestEpoch);
  train.dataset.dispose();
  validation.dataset.dispose();
  optimizer.dispose();
  model.dispose();
});

test('wrong options, a taken run directory and a resume with other settings get one clear error', async () => {
  const run = setup(2);
  const runDir = join(work, 'errors');
  await assert.rejects(fit({ ...run.options, runDir, epochs: 0 }), /fit\(\): epochs must be a positive integer, got 0/);
  await assert.rejects(
    fit({ ...run.options, runDir, optimizer: {} as FitOptions['optimizer'] }),
    /fit\(\): optimizer must be a torch\.optim optimizer/,
  );
  await assert.rejects(
    fit({ ...run.options, runDir, loss: (output) => output }),
    /the loss function must return a scalar tensor \(reduce the batch with a mean\), got a tensor of shape \[32, 3\]/,
  );
  await assert.rejects(
    fit({ ...run.options, runDir: join(work, 'never-made'), resume: true }),
    /the run directory .*never-made does not exist/,
    'nothing to resume',
  );
  const done = join(work, 'taken');
  await fit({ ...run.options, runDir: done, epochs: 1 });
  await assert.rejects(
    fit({ ...run.options, runDir: done, epochs: 1 }),
    /already holds a run .*; continue it with resume: true, or choose another runDir/,
  );
  await assert.rejects(
    fit({ ...run.options, runDir: done, epochs: 2, config: { hidden: 64 }, resume: true }),
    /was set up differently: epochs was 1, now 2; config was \{"hidden":32,"note":"gated mlp"\}, now \{"hidden":64\}/,
  );
  const regressionTargets = new DataLoader(
    torch.tidy(() => new TensorDataset(torch.randn([8, FEATURES]), torch.randn([8, CLASSES]))),
    { batchSize: 4 },
  );
  await assert.rejects(
    fit({
      ...run.options,
      train: regressionTargets,
      validation: null,
      loss: (o, t) => F.mseLoss(o, t),
      runDir: join(work, 'no-accuracy'),
    }),
    /accuracy needs outputs \[B, C\] and integer targets \[B\] .* turn accuracy off \(accuracy: false\)/,
  );
  regressionTargets.dataset.dispose();
  run.dispose();
});
