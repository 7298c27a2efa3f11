// Weight averaging (src/train/ema.ts): the update rule against a hand computation in float64, BatchNorm
// buffers averaged and integer buffers copied, the swap for evaluation; and in a training run: what is
// evaluated and saved is the average, and a run interrupted mid-epoch and resumed ends with exactly the
// weights, metrics and evaluation of the uninterrupted run.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { nn } from '../../src/torch/index.js';
import { ModelEma } from '../../src/train/ema.js';
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { trainRun } from '../../src/train/trainer.js';
import { loadTrainedModel } from '../../src/train/trained-model.js';
import { evaluateDataset } from '../../src/train/evaluate.js';
import { loadTrainerState } from '../../src/train/checkpoint.js';
import { loadData } from '../../src/train/data.js';
import { tempDir } from '../data/support.js';
import { makeTinyCifar, metricsWithoutTimings } from '../cli/support.js';

const numbers = (t: torch.Tensor) => Array.from(t.data() as ArrayLike<number | bigint>, Number);

/** A Linear + BatchNorm1d net with chosen values. */
function tinyNet(): nn.Sequential {
  const net = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
  torch.noGrad(() => {
    const state = net.stateDict();
    state['0.weight'].copy_(
      torch.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    state['0.bias'].copy_(torch.tensor([0.5, -0.5]));
  });
  return net;
}

test('EMA: avg ← d·avg + (1-d)·w with d = min(decay, (1+n)/(10+n)), for parameters and BN statistics; integer buffers copied', () => {
  const net = tinyNet();
  const ema = new ModelEma(net, 0.9);
  // Hand computation in float64, from the same starting weights.
  const keys = ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var'];
  const expected: Record<string, number[]> = Object.fromEntries(keys.map((k) => [k, numbers(net.stateDict()[k])]));
  const decays: number[] = [];
  for (let n = 0; n < 100; n++) {
    // A training step's worth of change: new weights, and a forward pass in train mode moving the BN statistics.
    torch.noGrad(() =>
      torch.tidy(() => {
        for (const p of net.parameters()) p.add_(torch.randnLike(p).mul(0.1));
        net.forward(torch.randn(8, 3).mul(n + 1));
      }),
    );
    const d = Math.min(0.9, (1 + n) / (10 + n));
    assert.ok(Math.abs(ema.currentDecay() - d) < 1e-15, `decay at update ${n}`);
    decays.push(d);
    const state = net.stateDict();
    for (const k of keys) {
      const w = numbers(state[k]);
      expected[k] = expected[k].map((a, i) => d * a + (1 - d) * w[i]);
    }
    ema.update(net);
  }
  assert.equal(ema.updates, 100);
  assert.equal(decays[0], 0.1, 'the first update all but copies the weights');
  assert.equal(decays.at(-1), 0.9, 'from update 80 on, the configured decay');
  const averaged = ema.stateDict();
  for (const k of keys) {
    const got = numbers(averaged[k]);
    got.forEach((g, i) =>
      assert.ok(
        Math.abs(g - expected[k][i]) <= 1e-5 * (1 + Math.abs(expected[k][i])),
        `${k}[${i}]: ${g} vs ${expected[k][i]}`,
      ),
    );
  }
  assert.equal(numbers(averaged['1.num_batches_tracked'])[0], 100, 'num_batches_tracked is copied, not averaged');
  ema.dispose();
  net.dispose();
});

test('withAveraged runs with the average and puts the own weights back, also when it throws', async () => {
  const net = tinyNet();
  const ema = new ModelEma(net, 0.5);
  const own = numbers(net.stateDict()['0.weight']);
  torch.noGrad(() => net.stateDict()['0.weight'].fill_(7));
  const trained = numbers(net.stateDict()['0.weight']);
  const seen = await ema.withAveraged(net, () => numbers(net.stateDict()['0.weight']));
  assert.deepEqual(seen, own, 'inside: the average (still the starting weights)');
  assert.deepEqual(numbers(net.stateDict()['0.weight']), trained, 'after: the trained weights');
  await assert.rejects(
    ema.withAveraged(net, () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.deepEqual(numbers(net.stateDict()['0.weight']), trained);
  assert.throws(() => new ModelEma(net, 1), /decay must be in \(0, 1\), got 1/);
  const before = torch.memory().tensors;
  ema.dispose();
  assert.equal(
    torch.memory().tensors,
    before - Object.keys(net.stateDict()).length,
    'dispose frees the averaged copies',
  );
  net.dispose();
});

let work: string;
let cacheDir: string;
before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-ema-');
  cacheDir = makeTinyCifar(join(work, 'data'));
});

const config = (values: Partial<TrainConfig>) =>
  resolveConfig({
    values: {
      threads: 1,
      batchSize: 50,
      epochs: 2,
      optimizer: 'sgd',
      lr: 0.05,
      momentum: 0.9,
      ema: 0.9,
      tta: 'flip',
      ...values,
    },
    source: { describe: (k) => k },
  });
const bytes = (run: string, checkpoint: string, file = 'model.safetensors') =>
  readFileSync(join(run, 'checkpoints', checkpoint, file));

test('a run with EMA evaluates and saves the average; interrupted and resumed it ends bit for bit as the uninterrupted run', async () => {
  const whole = join(work, 'whole');
  const a = await trainRun({ config: config({}), runDir: whole, cacheDir });
  assert.equal(a.status, 'completed');

  // The saved weights are the average, not the trained ones (kept in trainer.pt for resuming).
  const state = loadTrainerState(join(whole, 'checkpoints', 'last'));
  try {
    assert.ok(state.ema, 'trainer.pt carries the EMA state');
    assert.equal(state.ema.updates, 2 * 16);
    const saved = torch.io.loadSafetensors(join(whole, 'checkpoints', 'last', 'model.safetensors')).tensors;
    assert.ok(
      !saved['conv1.weight'].equal(state.ema.trainingWeights['conv1.weight']),
      'model.safetensors holds the average',
    );
    torch.dispose(saved);
  } finally {
    torch.dispose([state.rngState, state.optimizer, state.ema?.trainingWeights]);
  }
  // The recorded final accuracy is that of the saved (averaged) weights, evaluated with the run's TTA.
  const evalJson = JSON.parse(readFileSync(join(whole, 'eval.json'), 'utf8'));
  const trained = loadTrainedModel({ run: whole, checkpoint: 'last' });
  const data = await loadData('cifar10', { imageSize: null, cacheDir });
  const again = await evaluateDataset(trained.model, data.test, {
    batchSize: 50,
    tta: 'flip',
    transform: { augment: 'none', mean: trained.context.mean, std: trained.context.std },
  });
  trained.model.dispose();
  assert.equal(again.accuracy, evalJson.accuracy);
  assert.ok(Math.abs(again.loss - evalJson.loss) < 1e-6);

  // Interrupted at batch 5 of epoch 2, then resumed.
  const split = join(work, 'split');
  const controller = new AbortController();
  const stopped = await trainRun({
    config: config({}),
    runDir: split,
    cacheDir,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'batch' && e.epoch === 2 && e.batch === 5) controller.abort();
    },
  });
  assert.equal(stopped.status, 'interrupted');
  assert.equal(stopped.batch, 5);
  const resumed = await trainRun({ resume: split, cacheDir });
  assert.equal(resumed.status, 'completed');
  assert.ok(bytes(whole, 'last').equals(bytes(split, 'last')), 'the averaged weights are byte-identical');
  assert.ok(bytes(whole, 'best').equals(bytes(split, 'best')));
  assert.deepEqual(metricsWithoutTimings(split), metricsWithoutTimings(whole));
  assert.deepEqual(JSON.parse(readFileSync(join(split, 'eval.json'), 'utf8')), evalJson);
});
