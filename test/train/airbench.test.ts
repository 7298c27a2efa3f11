// The airbench recipe's pieces, each a general option, checked against direct computations of airbench94's
// formulas: the decoupled SGD hyper-parameters, the triangular lr schedule, the Lookahead decay schedule and
// updates, the alternating flip, TTA over logits, FastNet's logit scale and BatchNorm settings, the recipe's
// values and the combinations refused; then a whole (tiny) run of the recipe.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { createModel, type FastNet } from '../../src/models/index.js';
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { buildOptimizer, buildScheduler } from '../../src/train/optimization.js';
import { decoupledSgd, RECIPE_FIELDS } from '../../src/train/recipes.js';
import { Lookahead } from '../../src/train/lookahead.js';
import { alternatingFlips } from '../../src/data/transforms.js';
import { ttaLogits } from '../../src/train/tta.js';
import { trainRun } from '../../src/train/trainer.js';
import { RunDir } from '../../src/train/run-dir.js';
import { tempDir } from '../data/support.js';
import { makeTinyCifar } from '../cli/support.js';

const config = (values: Partial<TrainConfig>) => resolveConfig({ values, source: { describe: (k) => k } });
const close = (a: number, b: number, what: string, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= 1e-12 + tol * Math.abs(b), `${what}: ${a} vs ${b}`);

test('decoupledSgd: the lr and weight decay airbench94 hands PyTorch SGD', () => {
  // airbench94: kilostep_scale = 1024 (1 + 1/(1 − 0.85)); lr = 11.5 / kilostep_scale;
  // wd = 0.0153 · 1024 / kilostep_scale; SGD weight_decay = wd / lr.
  const kilostep = 1024 * (1 + 1 / 0.15);
  const { lr, weightDecay } = decoupledSgd({ lr: 11.5, weightDecay: 0.0153, momentum: 0.85, batchSize: 1024 });
  close(lr, 11.5 / kilostep, 'lr');
  close(lr, 0.00146484, 'lr (value)', 1e-5);
  close(weightDecay, (0.0153 * 1024) / kilostep / lr, 'weight decay');
  // Every step shrinks a weight by lr × weightDecay = 0.0153 · batch / kilostep: halving the batch halves it.
  const half = decoupledSgd({ lr: 11.5, weightDecay: 0.0153, momentum: 0.85, batchSize: 512 });
  close(half.lr * half.weightDecay, (lr * weightDecay) / 2, 'decay per step at half the batch');
  // The recipe's values are these, and the BatchNorm shifts learn at 64× with weightDecay / 64.
  const c = config({ recipe: 'airbench' });
  close(c.lr, lr, 'recipe lr');
  close(c.weightDecay!, weightDecay, 'recipe weight decay');
  const optimizer = buildOptimizer(createModel('fastnet'), c);
  const [weights, small] = optimizer.paramGroups as unknown as { lr: number; weightDecay: number }[];
  close(small.lr, 64 * lr, 'bias lr');
  close(small.lr * small.weightDecay, weights.lr * weights.weightDecay, 'same decay per step for biases');
  optimizer.dispose();
});

test("the triangular schedule is airbench's get_lr: 0.2 → 1 at 23% of the steps → 0.07 at the end", () => {
  const c = config({ recipe: 'airbench', epochs: 3 });
  const stepsPerEpoch = 48;
  const total = c.epochs * stepsPerEpoch;
  const model = new torch.nn.Linear(2, 2);
  const optimizer = buildOptimizer(model, c);
  const scheduler = buildScheduler(optimizer, c, stepsPerEpoch)!;
  const warmup = Math.floor(total * 0.23);
  const expected = (step: number) =>
    step < warmup
      ? 0.2 * (1 - step / warmup) + step / warmup
      : 1 - (step - warmup) / (total - warmup) + 0.07 * ((step - warmup) / (total - warmup));
  for (let step = 0; step <= total; step++) {
    close(optimizer.paramGroups[0].lr / c.lr, expected(step), `factor at step ${step}`, 1e-9);
    scheduler.step();
  }
  optimizer.dispose();
  model.dispose();
});

test('Lookahead: every k steps avg ← lerp(avg, w, 1 − d) with d = decay^k (t/T)^power, copied back into the model', () => {
  torch.manualSeed(1);
  const model = new torch.nn.Linear(3, 2);
  const total = 20;
  const lookahead = new Lookahead(model, { every: 5, decay: 0.95, power: 3 }, total);
  let avg = model.weight.toArray() as number[][];
  for (let t = 1; t <= total; t++) {
    // A training step: the weights move by a known amount.
    torch.noGrad(() => model.weight.add_(t * 0.01));
    const before = model.weight.toArray() as number[][];
    lookahead.update(model);
    const after = model.weight.toArray() as number[][];
    if (t % 5 === 0) {
      const d = 0.95 ** 5 * (t / total) ** 3;
      close(lookahead.decayAt(t), d, `decay at step ${t}`);
      avg = avg.map((row, i) => row.map((a, j) => d * a + (1 - d) * before[i][j]));
      after.forEach((row, i) => {
        row.forEach((w, j) => close(w, avg[i][j], `model = average at step ${t}`, 1e-6));
      });
    } else {
      assert.deepEqual(after, before, `no change between updates (step ${t})`);
    }
  }
  assert.equal(lookahead.updates, total);
  close(lookahead.decayAt(total), 0.95 ** 5, 'the last decay');
  lookahead.dispose();
  model.dispose();
});

test('alternating flip: each image is mirrored in every other epoch, half of them in epoch 0', () => {
  const base = torch.tensor([1, 0, 0, 1, 1, 0]).gt(0);
  const epochs = [0, 1, 2, 3].map((e) => alternatingFlips(base, e).toArray() as boolean[]);
  assert.deepEqual(epochs[0], [true, false, false, true, true, false]);
  assert.deepEqual(epochs[1], [false, true, true, false, false, true]);
  assert.deepEqual(epochs[2], epochs[0]);
  assert.deepEqual(epochs[3], epochs[1]);
  assert.throws(() => alternatingFlips(base, -1), /epoch must be an integer >= 0/);
  torch.dispose(base);
});

test('TTA over logits: ½ mirror-mean of the image + ½ mean of the mirror-means of the 1-pixel diagonal shifts', () => {
  torch.manualSeed(2);
  const x = torch.randn([2, 1, 4, 4]);
  const w = torch.randn([16, 3]);
  // A forward pass that sees position and orientation: a linear map of the flattened pixels.
  const forward = (v: torch.Tensor) => v.reshape(v.size(0), 16).mm(w);
  const pixels = x.toArray() as number[][][][];
  const logitsOf = (image: number[][]) => {
    const flat = image.flat();
    const wv = w.toArray() as number[][];
    return [0, 1, 2].map((k) => flat.reduce((s, p, i) => s + p * wv[i][k], 0));
  };
  const mirror = (image: number[][]) => image.map((row) => [...row].reverse());
  // Reflect padding by one, then the window at (s, s): s = 0 moves the image down-right, s = 2 up-left.
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const shifted = (image: number[][], s: number) =>
    image.map((_, y) => image[0].map((_, xx) => image[reflect(y + s - 1, 4)][reflect(xx + s - 1, 4)]));
  const mirrorMean = (image: number[][]) => {
    const a = logitsOf(image);
    const b = logitsOf(mirror(image));
    return a.map((v, k) => (v + b[k]) / 2);
  };
  const got = ttaLogits(forward, x, 'flip-translate').toArray() as number[][];
  pixels.forEach((sample, n) => {
    const image = sample[0];
    const centre = mirrorMean(image);
    const down = mirrorMean(shifted(image, 0));
    const up = mirrorMean(shifted(image, 2));
    const want = centre.map((c, k) => 0.5 * c + 0.5 * ((down[k] + up[k]) / 2));
    want.forEach((v, k) => close(got[n][k], v, `sample ${n} class ${k}`, 1e-5));
  });
  torch.dispose([x, w]);
});

test("FastNet: logitScale multiplies the logits, bnMomentum and bnEps reach every BatchNorm; they are the spec's", () => {
  torch.manualSeed(3);
  const plain = createModel('fastnet');
  torch.manualSeed(3);
  const scaled = createModel('fastnet', { logitScale: 1 / 9, bnMomentum: 0.4, bnEps: 1e-12 }) as FastNet;
  const x = torch.randn([2, 3, 32, 32]);
  plain.eval();
  scaled.eval();
  const a = plain.call(x) as torch.Tensor;
  const b = scaled.call(x) as torch.Tensor;
  // eps 1e-12 against 1e-5 on fresh running variances of 1: a relative difference of 5e-6.
  assert.ok(b.mul(9).sub(a).abs().max().item() < 1e-3 * a.abs().max().item());
  const norms = scaled.modules().filter((m) => m instanceof torch.nn.BatchNormNd) as torch.nn.BatchNormNd[];
  assert.equal(norms.length, 6);
  for (const bn of norms) {
    assert.equal(bn.momentum, 0.4);
    assert.equal(bn.eps, 1e-12);
  }
  assert.throws(() => createModel('fastnet', { logitScale: 0 }), /logitScale must be a number in \(0/);
  assert.throws(() => createModel('se-resnet20', { logitScale: 2 } as never), /'logitScale' is not an option/);
  torch.dispose([a, b, x]);
  plain.dispose();
  scaled.dispose();
});

test('the airbench recipes: the values of airbench94, SE the only difference; refused combinations', () => {
  const c = config({ recipe: 'airbench' });
  assert.equal(c.model, 'fastnet');
  assert.equal(c.batchSize, 1024);
  assert.equal(c.dropLast, true);
  assert.equal(c.momentum, 0.85);
  assert.equal(c.nesterov, true);
  assert.equal(c.lossReduction, 'sum');
  assert.equal(c.labelSmoothing, 0.2);
  assert.equal(c.bnMomentum, 0.4);
  assert.equal(c.bnEps, 1e-12);
  assert.equal(c.logitScale, 1 / 9);
  assert.equal(c.whitenBiasEpochs, 3);
  assert.equal(c.augment, 'translate-altflip');
  assert.deepEqual(c.lookahead, { every: 5, decay: 0.95, power: 3 });
  assert.equal(c.ema, null);
  assert.equal(c.tta, 'flip-translate');
  assert.equal(c.ttaMean, 'logits');
  assert.equal(c.schedule, 'triangular');
  const se = config({ recipe: 'airbench-se' });
  assert.deepEqual({ ...se, model: 'fastnet', recipe: 'airbench' }, c);
  assert.equal(RECIPE_FIELDS['airbench-se'].model, 'se-fastnet');

  assert.throws(() => config({ recipe: 'airbench', ema: 0.99 }), /lookahead and ema are two weight averages/);
  assert.throws(() => config({ recipe: 'airbench', whiten: false }), /whitenBiasEpochs .* needs whiten/);
  assert.throws(() => config({ model: 'se-resnet20', bnEps: 1e-12 }), /bnEps apply to the FastNets/);
  assert.throws(() => config({ recipe: 'airbench', warmupEpochs: 1 }), /set warmupEpochs to 0/);
  assert.throws(() => config({ lrEndFactor: 0.1 }), /lrEndFactor shape the triangular schedule/);
  assert.throws(
    () => config({ recipe: 'airbench', lookahead: { every: 0, decay: 0.95, power: 3 } }),
    /lookahead.*every must be an integer in \[1, 1000\]/,
  );
});

let work: string;
let cacheDir: string;
before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-airbench-');
  cacheDir = makeTinyCifar(join(work, 'data'));
});

test('a run of the airbench recipe: per-image losses reported, every tensor freed', async () => {
  const before = torch.memory().tensors;
  const result = await trainRun({
    config: resolveConfig({
      values: { recipe: 'airbench', threads: 2, batchSize: 200, epochs: 2, whitenBiasEpochs: 1, tta: 'none' },
      source: { describe: (k) => k },
    }),
    runDir: join(work, 'run'),
    cacheDir,
  });
  assert.equal(result.status, 'completed');
  // Tensors the tests above left to the GC may go during the run; none of the run's may stay.
  assert.ok(torch.memory().tensors <= before, 'no native tensor outlives the run');
  const metrics = RunDir.open(join(work, 'run')).readMetrics();
  assert.equal(metrics.length, 2);
  // Summed over 200 images the loss would be ~460; reported per image it is near ln 10.
  for (const m of metrics) assert.ok(m.train_loss > 0.5 && m.train_loss < 5, `train loss ${m.train_loss}`);
  assert.ok(metrics[1].test_acc !== null && metrics[1].test_acc >= 0);
});
