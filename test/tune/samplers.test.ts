import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpace, type NumericParam } from '../../src/tune/space.js';
import {
  GridSampler,
  RandomSampler,
  TpeSampler,
  createSampler,
  goodCount,
  gridOf,
  paramsKey,
  recencyWeights,
} from '../../src/tune/samplers/index.js';
import { CategoricalParzen, NumericParzen, erfc, numericScale } from '../../src/tune/samplers/parzen.js';
import { Rng } from '../../src/tune/rng.js';
import type { Params } from '../../src/tune/trial.js';
import { bestValue, simulate, trialRecord } from './support.js';

const mixed = parseSpace({
  lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  weightDecay: { type: 'float', low: 0, high: 1e-3, step: 2.5e-4 },
  epochs: { type: 'int', low: 1, high: 10 },
  warmupEpochs: { type: 'int', low: 1, high: 64, log: true },
  'attention.type': { choices: ['se', 'eca', 'none'] },
});

function assertInSpace(params: Params): void {
  const lr = params.lr as number;
  assert.ok(lr >= 1e-4 && lr <= 1e-1, `lr ${lr}`);
  assert.ok(
    [0, 2.5e-4, 5e-4, 7.5e-4, 1e-3].includes(params.weightDecay as number),
    `weightDecay ${params.weightDecay}`,
  );
  assert.ok(Number.isInteger(params.epochs) && (params.epochs as number) >= 1 && (params.epochs as number) <= 10);
  assert.ok(
    Number.isInteger(params.warmupEpochs) &&
      (params.warmupEpochs as number) >= 1 &&
      (params.warmupEpochs as number) <= 64,
  );
  assert.ok(['se', 'eca', 'none'].includes(params['attention.type'] as string));
}

test('the seeded generator repeats for equal keys, differs otherwise, and is uniform', () => {
  const draw = (...keys: number[]) =>
    Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.uniform()
      )(new Rng(...keys)),
    );
  assert.deepEqual(draw(7, 3), draw(7, 3));
  assert.notDeepEqual(draw(7, 3), draw(7, 4));
  assert.notDeepEqual(draw(7, 3), draw(8, 3));
  assert.notDeepEqual(draw(1), draw(1 + 2 ** 32));
  const rng = new Rng(1);
  const n = 20000;
  const buckets = new Array<number>(10).fill(0);
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    buckets[Math.floor(rng.uniform() * 10)]++;
    const z = rng.normal();
    sum += z;
    squares += z * z;
  }
  // 4 standard errors of a bucket count (binomial, p = 0.1): 4·sqrt(n·0.09) ≈ 170.
  for (const b of buckets) assert.ok(Math.abs(b - n / 10) < 170, `bucket ${b}`);
  assert.ok(Math.abs(sum / n) < 0.03, `normal mean ${sum / n}`);
  assert.ok(Math.abs(squares / n - 1) < 0.05, `normal variance ${squares / n}`);
});

test('random search is seeded, stays in the space and is log-uniform on log scales', () => {
  const a = simulate(new RandomSampler(3), mixed, () => 0, 300);
  const b = simulate(new RandomSampler(3), mixed, () => 0, 300);
  const c = simulate(new RandomSampler(4), mixed, () => 0, 300);
  assert.deepEqual(
    a.map((t) => t.params),
    b.map((t) => t.params),
  );
  assert.notDeepEqual(
    a.map((t) => t.params),
    c.map((t) => t.params),
  );
  for (const t of a) assertInSpace(t.params);
  // Three decades, each about a third of the draws (4 standard errors: 4·sqrt(300·2/9) ≈ 33).
  for (const decade of [-4, -3, -2]) {
    const inDecade = a.filter((t) => Math.floor(Math.log10(t.params.lr as number)) === decade).length;
    assert.ok(Math.abs(inDecade - 100) < 33, `decade ${decade}: ${inDecade}`);
  }
  // Both ends of the integer and stepped ranges are reached.
  for (const [name, values] of [
    ['epochs', [1, 10]],
    ['weightDecay', [0, 1e-3]],
    ['warmupEpochs', [1, 64]],
  ] as const) {
    for (const v of values)
      assert.ok(
        a.some((t) => t.params[name] === v),
        `${name} never ${v}`,
      );
  }
  for (const choice of ['se', 'eca', 'none']) assert.ok(a.some((t) => t.params['attention.type'] === choice));
});

test('grid search visits every combination exactly once, in a seeded order, then stops', () => {
  const space = parseSpace({
    batchSize: { choices: [32, 64, 128] },
    epochs: { type: 'int', low: 1, high: 4, step: 1 },
    labelSmoothing: { type: 'float', low: 0, high: 0.2, step: 0.1 },
  });
  const grid = gridOf(space);
  assert.equal(grid.length, 3 * 4 * 3);
  assert.deepEqual([...new Set(grid.map((p) => p.labelSmoothing))].sort(), [0, 0.1, 0.2]);
  const visited = simulate(new GridSampler(space, 0), space, () => 0, 100);
  assert.equal(visited.length, grid.length, 'stops when the grid is done');
  assert.deepEqual(new Set(visited.map((t) => paramsKey(t.params))), new Set(grid.map(paramsKey)));
  const again = simulate(new GridSampler(space, 0), space, () => 0, 100);
  const other = simulate(new GridSampler(space, 1), space, () => 0, 100);
  assert.deepEqual(
    again.map((t) => t.params),
    visited.map((t) => t.params),
  );
  assert.notDeepEqual(
    other.map((t) => t.params),
    visited.map((t) => t.params),
  );
  // A point taken by a trial in any state (running, failed) is not taken again.
  const taken = [
    trialRecord(0, { state: 'running', params: grid[5] }),
    trialRecord(1, { state: 'failed', params: grid[9] }),
  ];
  const sampler = new GridSampler(space, 0);
  const trials = [...taken];
  for (let number = 2; ; number++) {
    const params = sampler.sample({ space, trials, number, direction: 'maximize' });
    if (params === null) break;
    trials.push(trialRecord(number, { params }));
  }
  assert.equal(trials.length, grid.length);
  assert.equal(new Set(trials.map((t) => paramsKey(t.params))).size, grid.length);
  assert.throws(
    () => new GridSampler(parseSpace({ lr: { type: 'float', low: 0.001, high: 0.1 } }), 0),
    /the grid sampler needs a finite set of values: give the float parameter 'lr' a 'step'/,
  );
});

test('erfc matches a direct numerical integration of the Gaussian, far into the tail', () => {
  // erfc(x) = 2/√π ∫_x^∞ exp(−t²) dt by Simpson's rule on [x, x + 8] (the rest is below 1e-27).
  const integral = (x: number) => {
    const n = 80000;
    const h = 8 / n;
    let s = Math.exp(-x * x) + Math.exp(-((x + 8) ** 2));
    for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((x + i * h) ** 2));
    return ((2 / Math.sqrt(Math.PI)) * (s * h)) / 3;
  };
  for (const x of [0, 0.1, 0.5, 1, 2, 2.9, 3, 3.1, 4, 6, 9]) {
    const expected = integral(x);
    assert.ok(Math.abs(erfc(x) - expected) <= 1e-12 * expected, `erfc(${x}) = ${erfc(x)}, expected ${expected}`);
    assert.ok(Math.abs(erfc(-x) - (2 - expected)) <= 1e-12, `erfc(${-x})`);
  }
});

test('Parzen estimators are proper distributions over the range', () => {
  const [lrParam, , epochsParam] = mixed as [NumericParam, NumericParam, NumericParam];
  // Continuous (log scale): the density over log(lr) integrates to 1 on the range.
  const lrScale = numericScale(lrParam);
  const lr = new NumericParzen(lrScale, [Math.log(3e-3), Math.log(1e-3), Math.log(5e-2)], [1, 1, 1], 1);
  const n = 4000;
  const h = (lrScale.high - lrScale.low) / n;
  let mass = 0;
  for (let i = 0; i < n; i++) mass += Math.exp(lr.logPdf(Math.exp(lrScale.low + (i + 0.5) * h))) * h;
  assert.ok(Math.abs(mass - 1) < 1e-4, `mass ${mass}`);
  // Discrete: the bin masses of 1..10 sum to 1; samples are valid values.
  const epochs = new NumericParzen(numericScale(epochsParam), [3, 4, 9], [1, 0.5, 1], 1);
  const total = Array.from({ length: 10 }, (_, i) => Math.exp(epochs.logPdf(i + 1))).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 1) < 1e-9, `total ${total}`);
  const rng = new Rng(0);
  for (let i = 0; i < 200; i++) {
    const v = epochs.sample(rng);
    assert.ok(Number.isInteger(v) && v >= 1 && v <= 10, String(v));
  }
  // Categorical: smoothed counts. Two of three observations on choice 0, weights 1, prior weight 1:
  // each observation gives 1/(1+1) to its choice and (1/3)/(1+1) to every choice; the prior 1/3 each.
  const cat = new CategoricalParzen(3, [0, 0, 2], [1, 1, 1], 1);
  const w = 1 / 4; // three observations and the prior share the weight equally
  const own = (c: number, o: number) => ((c === o ? 1 : 0) + 1 / 3) / 2;
  const expected = [0, 1, 2].map((c) => w * (own(c, 0) + own(c, 0) + own(c, 2)) + w / 3);
  cat.probabilities.forEach((p, c) =>
    assert.ok(Math.abs(p - expected[c]) < 1e-12, `choice ${c}: ${p} vs ${expected[c]}`),
  );
  assert.ok(Math.abs(cat.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test('TPE splits and weighs trials as the paper and Optuna do', () => {
  assert.deepEqual([1, 10, 11, 100, 250, 1000].map(goodCount), [1, 1, 2, 10, 25, 25]);
  assert.deepEqual(recencyWeights(3), [1, 1, 1]);
  const w = recencyWeights(30);
  assert.equal(w.length, 30);
  assert.deepEqual(w.slice(5), new Array(25).fill(1));
  assert.ok(Math.abs(w[0] - 1 / 30) < 1e-12 && w[4] === 1 && w[1] < w[2], 'the oldest ramp up from 1/n');
});

test('TPE finds the optimum of a synthetic objective faster than random search, deterministically', () => {
  const space = parseSpace({
    lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
    'attention.type': { choices: ['se', 'eca', 'none'] },
    epochs: { type: 'int', low: 1, high: 10 },
  });
  // Best at lr = 3e-3, eca, 7 epochs (value 0).
  const objective = (p: Params) =>
    -((Math.log10(p.lr as number) - Math.log10(3e-3)) ** 2) -
    (p['attention.type'] === 'eca' ? 0 : 0.5) -
    (((p.epochs as number) - 7) / 5) ** 2;
  const nearOptimum = (p: Params) => Math.abs(Math.log10(p.lr as number) - Math.log10(3e-3)) < 0.5;
  const seeds = [0, 1, 2, 3, 4, 5];
  let tpeBest = 0;
  let randomBest = 0;
  let tpeNear = 0;
  let randomNear = 0;
  for (const seed of seeds) {
    const tpe = simulate(new TpeSampler(seed), space, objective, 40);
    const random = simulate(new RandomSampler(seed), space, objective, 40);
    for (const t of tpe) assert.ok(Number.isFinite(objective(t.params)));
    // The first 10 are TPE's random start-up; the model works on the last 20 of them.
    tpeBest += bestValue(tpe) / seeds.length;
    randomBest += bestValue(random) / seeds.length;
    tpeNear += tpe.slice(20).filter((t) => nearOptimum(t.params)).length / 20 / seeds.length;
    randomNear += random.slice(20).filter((t) => nearOptimum(t.params)).length / 20 / seeds.length;
  }
  assert.ok(tpeBest > randomBest + 0.05, `mean best value: tpe ${tpeBest}, random ${randomBest}`);
  // A decade around the optimum is a third of the log range: random lands there a third of the time.
  assert.ok(
    tpeNear > 0.55 && randomNear < 0.4,
    `share of late trials near the best lr: tpe ${tpeNear}, random ${randomNear}`,
  );
  // Same seed and history, same samples; another seed, others.
  const again = simulate(new TpeSampler(2), space, objective, 25).map((t) => t.params);
  assert.deepEqual(
    simulate(new TpeSampler(2), space, objective, 25).map((t) => t.params),
    again,
  );
  assert.notDeepEqual(
    simulate(new TpeSampler(3), space, objective, 25).map((t) => t.params),
    again,
  );
});

test('TPE learns from pruned trials, ignores failed and running ones, and stays in the space', () => {
  const sampler = new TpeSampler(0, { startupTrials: 3 });
  const good = { lr: 3e-3, weightDecay: 5e-4, epochs: 7, warmupEpochs: 8, 'attention.type': 'eca' };
  const bad = { lr: 0.08, weightDecay: 0, epochs: 1, warmupEpochs: 1, 'attention.type': 'none' };
  const history = [
    trialRecord(0, { params: good, value: 0.9 }),
    trialRecord(1, { state: 'pruned', params: bad, value: 0.1, intermediate: [[1, 0.1]] }),
    trialRecord(2, { state: 'pruned', params: bad, value: 0.2, intermediate: [[1, 0.2]] }),
    trialRecord(3, { state: 'failed', params: bad }),
    trialRecord(4, { state: 'running', params: bad }),
  ];
  const samples = Array.from({ length: 30 }, (_, i) =>
    sampler.sample({ space: mixed, trials: history, number: 5 + i, direction: 'maximize' }),
  );
  for (const p of samples) assertInSpace(p);
  // With one good trial (complete) and two bad (pruned), samples lean to the good trial's choice.
  assert.ok(samples.filter((p) => p['attention.type'] === 'eca').length > 15);
  // Minimizing turns good and bad around.
  const flipped = Array.from({ length: 30 }, (_, i) =>
    sampler.sample({
      space: mixed,
      number: 5 + i,
      direction: 'minimize',
      trials: history.map((t) => (t.state === 'pruned' ? { ...t, state: 'complete' as const } : t)),
    }),
  );
  assert.ok(flipped.filter((p) => p['attention.type'] === 'none').length > 15);
});

test('samplers are built from stored settings, and bad settings are named', () => {
  assert.ok(createSampler({ type: 'tpe', seed: 1, startupTrials: 2 }, mixed) instanceof TpeSampler);
  assert.throws(
    () => createSampler({ type: 'tpe', seed: 1, startup: 2 } as never, mixed),
    /the tpe sampler has no option 'startup'; it takes startupTrials, candidates, priorWeight/,
  );
  assert.throws(() => createSampler({ type: 'random', seed: -1 }, mixed), /seed must be an integer >= 0/);
  assert.throws(() => createSampler({ type: 'annealing', seed: 0 } as never, mixed), /unknown sampler 'annealing'/);
  assert.throws(() => new TpeSampler(0, { candidates: 0 }), /candidates must be an integer >= 1/);
});
