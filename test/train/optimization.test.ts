import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { buildOptimizer, buildScheduler, parameterGroups, WARMUP_START_FACTOR } from '../../src/train/optimization.js';

const config = (values: Partial<TrainConfig>) => resolveConfig({ values, source: { describe: (k) => k } });

/** The lr of every step of a schedule (the lr each optimizer step would use). */
function lrTrace(c: TrainConfig, stepsPerEpoch: number): number[] {
  const model = new torch.nn.Linear(2, 2);
  const optimizer = buildOptimizer(model, c);
  const scheduler = buildScheduler(optimizer, c, stepsPerEpoch);
  const trace: number[] = [];
  for (let s = 0; s < c.epochs * stepsPerEpoch; s++) {
    trace.push(optimizer.paramGroups[0].lr);
    scheduler?.step();
  }
  optimizer.dispose();
  model.dispose();
  return trace;
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b), `${what}: ${a} vs ${b}`);

test('decayBnAndBias false: weights decay, biases and BatchNorm parameters do not', () => {
  torch.manualSeed(0);
  const model = createModel('se-resnet20');
  try {
    const [decayed, exempt] = parameterGroups(
      model,
      config({ optimizer: 'sgd', weightDecay: 5e-4, decayBnAndBias: false }),
    );
    assert.equal(decayed.weightDecay, 5e-4);
    assert.equal(exempt.weightDecay, 0);
    assert.ok(decayed.params.every((p) => p.ndim > 1));
    assert.ok(exempt.params.every((p) => p.ndim === 1));
    assert.equal(decayed.params.length + exempt.params.length, model.parameters().length);
    const bnWeights = model
      .namedParameters()
      .filter(([n]) => n.endsWith('bn1.weight'))
      .map(([, p]) => p);
    assert.ok(bnWeights.length > 0 && bnWeights.every((p) => exempt.params.includes(p)));
    // By default one group decays everything (PyTorch's behaviour).
    const groups = parameterGroups(model, config({ optimizer: 'sgd', weightDecay: 5e-4 }));
    assert.equal(groups.length, 1);
    assert.equal(groups[0].params.length, model.parameters().length);
  } finally {
    model.dispose();
  }
});

test('biasLrScale: biases and BatchNorm parameters learn at a multiple of the lr, and decay by the same fraction per step', () => {
  torch.manualSeed(0);
  const model = createModel('se-fastnet');
  try {
    const c = config({
      optimizer: 'sgd',
      lr: 0.2,
      weightDecay: 5e-3,
      biasLrScale: 64,
      schedule: 'linear',
      warmupEpochs: 1,
      epochs: 3,
    });
    const [weights, small] = parameterGroups(model, c);
    assert.equal(weights.lr, undefined);
    assert.equal(weights.weightDecay, 5e-3);
    assert.equal(small.lr, 0.2 * 64);
    close(small.weightDecay, 5e-3 / 64, 'scaled group decay');
    close(small.lr! * small.weightDecay, 0.2 * weights.weightDecay, 'decay per step');
    assert.ok(small.params.length > 0 && small.params.every((p) => p.ndim <= 1));
    // Without decay on them, the scaled biases are not decayed at all.
    assert.equal(parameterGroups(model, { ...c, decayBnAndBias: false })[1].weightDecay, 0);

    // The schedules move both groups and keep their ratio (here warmup + linear decay, and onecycle).
    for (const schedule of ['linear', 'onecycle'] as const) {
      const optimizer = buildOptimizer(model, { ...c, schedule });
      const scheduler = buildScheduler(optimizer, { ...c, schedule }, 4)!;
      for (let s = 0; s < 10; s++) {
        const [a, b] = optimizer.paramGroups.map((g) => g.lr);
        close(b, 64 * a, `${schedule}, step ${s}: group lrs`);
        scheduler.step();
      }
      optimizer.dispose();
    }
  } finally {
    model.dispose();
  }
});

test('a bad biasLrScale is named with what is expected', () => {
  assert.throws(() => config({ biasLrScale: 0 }), /biasLrScale is 0; expected a number > 0/);
  assert.throws(() => config({ freezeBnScale: 'yes' as never }), /freezeBnScale is "yes"; expected true or false/);
});

test('the optimizer is the one named, with the configured hyper-parameters', () => {
  const model = new torch.nn.Linear(2, 2);
  const sgd = buildOptimizer(
    model,
    config({ optimizer: 'sgd', lr: 0.1, momentum: 0.8, nesterov: true, weightDecay: 1e-4 }),
  );
  assert.ok(sgd instanceof torch.optim.SGD);
  assert.deepEqual(
    [sgd.paramGroups[0].lr, sgd.paramGroups[0].momentum, sgd.paramGroups[0].nesterov, sgd.paramGroups[0].weightDecay],
    [0.1, 0.8, true, 1e-4],
  );
  const adamw = buildOptimizer(model, config({ optimizer: 'adamw' }));
  assert.ok(adamw instanceof torch.optim.AdamW);
  assert.equal(adamw.paramGroups[0].weightDecay, 0.01);
  assert.ok(buildOptimizer(model, config({})) instanceof torch.optim.Adam);
  model.dispose();
});

test('schedules follow their formulas, with lengths in epochs turned into steps', () => {
  const lr = 0.1;
  const spe = 5;
  // none: constant; with warmup, a linear ramp from lr/100 over the warmup, then constant.
  assert.ok(lrTrace(config({ lr, epochs: 2 }), spe).every((v) => v === lr));
  const ramped = lrTrace(config({ lr, epochs: 3, warmupEpochs: 1 }), spe);
  close(ramped[0], lr * WARMUP_START_FACTOR, 'warmup start');
  for (let s = 0; s <= spe; s++)
    close(ramped[s], lr * (WARMUP_START_FACTOR + ((1 - WARMUP_START_FACTOR) * s) / spe), `ramp step ${s}`);
  assert.ok(ramped.slice(spe).every((v) => Math.abs(v - lr) < 1e-12));

  // step: × gamma every stepSize epochs after the warmup.
  const step = lrTrace(config({ lr, epochs: 6, schedule: 'step', stepSize: 2, gamma: 0.5, warmupEpochs: 1 }), spe);
  for (let s = spe; s < 6 * spe; s++)
    close(step[s], lr * 0.5 ** Math.floor((s - spe) / (2 * spe)), `step schedule, step ${s}`);

  // multistep: milestones in epochs from the start of training.
  const multi = lrTrace(config({ lr, epochs: 6, schedule: 'multistep', milestones: [3, 5], gamma: 0.1 }), spe);
  for (let s = 0; s < 6 * spe; s++)
    close(multi[s], lr * 0.1 ** ((s >= 3 * spe ? 1 : 0) + (s >= 5 * spe ? 1 : 0)), `multistep, step ${s}`);

  // cosine: after the warmup, half a cosine from lr down to 0 at the end.
  const cosine = lrTrace(config({ lr, epochs: 4, schedule: 'cosine', warmupEpochs: 1 }), spe);
  const decay = 3 * spe;
  for (let s = spe; s < 4 * spe; s++)
    close(cosine[s], (lr * (1 + Math.cos((Math.PI * (s - spe)) / decay))) / 2, `cosine, step ${s}`);

  // linear: a straight line from lr to 0.
  const linear = lrTrace(config({ lr, epochs: 2, schedule: 'linear' }), spe);
  for (let s = 0; s < 2 * spe; s++) close(linear[s], lr * (1 - s / (2 * spe)), `linear, step ${s}`);

  // onecycle: starts at lr/25, peaks at lr when the warmup ends, ends far below the start.
  const cycle = lrTrace(config({ lr, epochs: 4, schedule: 'onecycle', warmupEpochs: 1 }), spe);
  close(cycle[0], lr / 25, 'onecycle start');
  close(Math.max(...cycle), lr, 'onecycle peak');
  assert.equal(cycle.indexOf(Math.max(...cycle)), spe - 1);
  assert.ok(cycle.at(-1)! < lr / 25 / 100);
});
