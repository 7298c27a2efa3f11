import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AshaPruner, MedianPruner, NopPruner, createPruner, median } from '../../src/tune/pruners/index.js';
import type { Direction, TrialRecord } from '../../src/tune/trial.js';
import { trialRecord } from './support.js';

/** Trials 0.. with one value each at `step`, plus the asking trial (the next number) with `value` there. */
function atStep(step: number, others: number[], value: number, state: TrialRecord['state'] = 'complete') {
  const trials = others.map((v, i) => trialRecord(i, { state, intermediate: [[step, v]] }));
  const trial = trialRecord(others.length, { state: 'running', intermediate: [[step, value]] });
  return { trial, step, trials: [...trials, trial] };
}

const decide = (
  pruner: { decide: AshaPruner['decide'] },
  request: ReturnType<typeof atStep>,
  direction: Direction = 'maximize',
) => pruner.decide({ ...request, direction }).prune;

test('ASHA rungs sit at minResource·η^(s+k) steps', () => {
  const rungs = (p: AshaPruner) => Array.from({ length: 30 }, (_, i) => i + 1).filter((s) => p.rungOf(s) >= 0);
  assert.deepEqual(rungs(new AshaPruner()), [1, 3, 9, 27]);
  assert.deepEqual(rungs(new AshaPruner({ minResource: 2, reductionFactor: 2 })), [2, 4, 8, 16]);
  assert.deepEqual(rungs(new AshaPruner({ minEarlyStoppingRate: 1 })), [3, 9, 27]);
  assert.equal(new AshaPruner().rungOf(9), 2);
});

test('ASHA keeps a trial only in the top 1/η of the trials that reached the rung', () => {
  const asha = new AshaPruner({ reductionFactor: 3 });
  const earlier = [0.5, 0.4, 0.7, 0.3, 0.6, 0.2];
  // 7 trials at the rung: the best ⌊7/3⌋ = 2 go on, i.e. 0.7 and the next best.
  assert.equal(decide(asha, atStep(1, earlier, 0.55)), true);
  assert.equal(decide(asha, atStep(1, earlier, 0.65)), false);
  assert.equal(decide(asha, atStep(1, earlier, 0.6)), false, 'a tie with the bar passes');
  // Alone at a rung it passes; of two, only the better (max(1, ⌊2/3⌋) = 1) goes on.
  assert.equal(decide(asha, atStep(1, [], 0.1)), false);
  assert.equal(decide(asha, atStep(1, [0.5], 0.4)), true);
  assert.equal(decide(asha, atStep(1, [0.5], 0.6)), false);
  // Trials that were pruned at the rung still count there.
  assert.equal(decide(asha, atStep(1, earlier, 0.55, 'pruned')), true);
  // Between rungs nothing is decided.
  assert.equal(decide(asha, atStep(2, earlier, 0.0)), false);
  // Minimizing, small is good.
  assert.equal(decide(asha, atStep(1, earlier, 0.25), 'minimize'), false);
  assert.equal(decide(asha, atStep(1, earlier, 0.45), 'minimize'), true);
  // A value that is not a number is pruned at a rung.
  assert.equal(decide(asha, atStep(3, earlier, NaN)), true);
  const reason = asha.decide({ ...atStep(1, earlier, 0.55), direction: 'maximize' }).reason!;
  assert.match(reason, /^pruned: 0.5500 at rung 0 \(epoch 1\), bar 0.6000 = best 2 of 7 trials there$/);
});

test('ASHA compares values at the same rung only', () => {
  const asha = new AshaPruner({ reductionFactor: 2 }); // rungs at steps 1, 2, 4
  // Trial 0 reached rung 1 (step 2) with 0.9; trial 1 only rung 0. At step 2 the asking trial meets trial 0 alone.
  const trials = [
    trialRecord(0, {
      intermediate: [
        [1, 0.2],
        [2, 0.9],
      ],
    }),
    trialRecord(1, { state: 'pruned', intermediate: [[1, 0.1]] }),
  ];
  const asking = trialRecord(2, {
    state: 'running',
    intermediate: [
      [1, 0.3],
      [2, 0.8],
    ],
  });
  // Rung 0: 0.3 is the best of three (top ⌊3/2⌋ = 1); rung 1: 0.8 loses to 0.9.
  assert.equal(
    asha.decide({ trial: asking, step: 1, trials: [...trials, asking], direction: 'maximize' }).prune,
    false,
  );
  assert.equal(asha.decide({ trial: asking, step: 2, trials: [...trials, asking], direction: 'maximize' }).prune, true);
});

test('the median pruner stops trials whose best value is below the median of complete trials at that step', () => {
  const pruner = new MedianPruner({ startupTrials: 2 });
  // Complete trials at step 1: 0.5 and 0.7, median 0.6.
  assert.equal(decide(pruner, atStep(1, [0.5, 0.7], 0.55)), true);
  assert.equal(decide(pruner, atStep(1, [0.5, 0.7], 0.65)), false);
  assert.equal(decide(pruner, atStep(1, [0.5, 0.7], 0.65), 'minimize'), true);
  // Before startupTrials complete trials, nothing is pruned; pruned trials do not count.
  assert.equal(decide(pruner, atStep(1, [0.9], 0.1)), false);
  assert.equal(decide(pruner, atStep(1, [0.9, 0.9], 0.1, 'pruned')), false);
  // The trial's best so far counts, not its latest value.
  const trials = [
    trialRecord(0, {
      intermediate: [
        [1, 0.3],
        [2, 0.6],
      ],
    }),
    trialRecord(1, {
      intermediate: [
        [1, 0.4],
        [2, 0.7],
      ],
    }),
  ];
  const asking = trialRecord(2, {
    state: 'running',
    intermediate: [
      [1, 0.8],
      [2, 0.5],
    ],
  });
  assert.equal(
    pruner.decide({ trial: asking, step: 2, trials: [...trials, asking], direction: 'maximize' }).prune,
    false,
  );
  // Warm-up steps and the interval.
  const warm = new MedianPruner({ startupTrials: 2, warmupSteps: 1 });
  assert.equal(decide(warm, atStep(1, [0.5, 0.7], 0.1)), false);
  assert.equal(decide(warm, atStep(2, [0.5, 0.7], 0.1)), true);
  const every2 = new MedianPruner({ startupTrials: 2, intervalSteps: 2 });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((s) => decide(every2, atStep(s, [0.5, 0.7], 0.1))),
    [true, false, true, false, true],
  );
  // minTrials: the step needs that many complete trials with a value there.
  const needs3 = new MedianPruner({ startupTrials: 2, minTrials: 3 });
  assert.equal(decide(needs3, atStep(1, [0.5, 0.7], 0.1)), false);
  assert.equal(decide(needs3, atStep(1, [0.5, 0.7, 0.6], 0.1)), true);
});

test('median() halves between the middle values of an even count', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('pruners are built from stored settings, and bad settings are named', () => {
  assert.ok(createPruner({ type: 'asha', reductionFactor: 2 }) instanceof AshaPruner);
  assert.ok(createPruner({ type: 'median' }) instanceof MedianPruner);
  assert.ok(createPruner({ type: 'none' }) instanceof NopPruner);
  assert.equal(new NopPruner().decide().prune, false);
  assert.throws(
    () => createPruner({ type: 'asha', eta: 2 } as never),
    /the asha pruner has no option 'eta'; it takes minResource, reductionFactor/,
  );
  assert.throws(
    () => createPruner({ type: 'asha', reductionFactor: 1 }),
    /reductionFactor must be an integer >= 2, got 1/,
  );
  assert.throws(
    () => createPruner({ type: 'median', startupTrials: -1 }),
    /startupTrials must be an integer >= 0, got -1/,
  );
  assert.throws(() => createPruner({ type: 'hyperband' } as never), /unknown pruner 'hyperband'/);
});
