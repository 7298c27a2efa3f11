import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudyStorage } from '../../src/tune/storage.js';
import { openStudy, type StudyDefinition } from '../../src/tune/study.js';
import { optimize, type Budget, type StudyEvent } from '../../src/tune/optimize.js';
import { parseSpace } from '../../src/tune/space.js';
import type { Objective } from '../../src/tune/objective.js';
import { fakeObjective, type FakeValue } from './support.js';

const space = parseSpace({
  lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  batchSize: { choices: [32, 64, 128] },
});
/** Best at lr = 1e-2 and batch 64; rises a little every step. */
const value: FakeValue = (p, step) =>
  1 - Math.abs(Math.log10(p.lr as number) + 2) / 3 - (p.batchSize === 64 ? 0 : 0.2) + step / 100;

function setUp(t: { after(fn: () => void): void }, definition: Partial<StudyDefinition> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'senet-optimize-'));
  const storage = StudyStorage.open(join(dir, 'study.db'));
  t.after(() => {
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { study } = openStudy(storage, {
    name: 'study',
    definition: {
      direction: 'maximize',
      space,
      sampler: { type: 'random', seed: 0 },
      pruner: { type: 'none' },
      baseConfig: null,
      ...definition,
    },
  });
  return { storage, study };
}

const budget = (b: Partial<Budget>): Budget => ({ trials: null, maxEpochsTotal: null, timeoutMs: null, ...b });

test('a trial budget counts the whole study: a second run adds only the missing trials', async (t) => {
  const { storage, study } = setUp(t);
  const objective = fakeObjective({ steps: 2, value });
  const first = await optimize({ storage, study, objective, budget: budget({ trials: 5 }) });
  assert.deepEqual(first, { finished: [0, 1, 2, 3, 4], stopReason: 'trials' });
  const second = await optimize({ storage, study, objective, budget: budget({ trials: 7 }) });
  assert.deepEqual(second.finished, [5, 6]);
  const trials = storage.trials(study.id);
  assert.equal(trials.length, 7);
  for (const trial of trials) {
    assert.equal(trial.state, 'complete');
    assert.equal(trial.value, value(trial.params, 2));
    assert.deepEqual(
      [...trial.intermediate],
      [
        [1, value(trial.params, 1)],
        [2, value(trial.params, 2)],
      ],
    );
  }
});

test('an epoch budget stops the running trial after the epoch that uses it up, as pruned', async (t) => {
  const { storage, study } = setUp(t);
  const result = await optimize({
    storage,
    study,
    objective: fakeObjective({ steps: 3, value }),
    budget: budget({ maxEpochsTotal: 7 }),
  });
  assert.equal(result.stopReason, 'epochs');
  const trials = storage.trials(study.id);
  assert.deepEqual(
    trials.map((tr) => [tr.state, tr.intermediate.size]),
    [
      ['complete', 3],
      ['complete', 3],
      ['pruned', 1],
    ],
  );
  assert.equal(trials[2].value, value(trials[2].params, 1), 'a pruned trial keeps its last value');
  assert.match(trials[2].note!, /stopped: the study has trained its budget of 7 epochs/);
  assert.equal(storage.epochsUsed(study.id), 7);
  // Nothing left: a new run stops at once.
  const again = await optimize({
    storage,
    study,
    objective: fakeObjective({ steps: 3, value }),
    budget: budget({ maxEpochsTotal: 7 }),
  });
  assert.deepEqual(again, { finished: [], stopReason: 'epochs' });
});

test('a time budget stops the running trial at its next epoch and ends the run', async (t) => {
  const { storage, study } = setUp(t);
  let clock = 0;
  const events: StudyEvent[] = [];
  // Every epoch takes 10 s of the fake clock; 25 s allow two epochs and a half.
  const objective = fakeObjective({
    steps: 5,
    value,
    onStep: () => {
      clock += 10_000;
    },
  });
  const result = await optimize({
    storage,
    study,
    objective,
    budget: budget({ timeoutMs: 25_000 }),
    now: () => clock,
    onEvent: (e) => events.push(e),
  });
  assert.equal(result.stopReason, 'timeout');
  const [trial, ...rest] = storage.trials(study.id);
  assert.equal(rest.length, 0);
  assert.equal(trial.state, 'pruned');
  assert.deepEqual([...trial.intermediate.keys()], [1, 2, 3]);
  assert.match(trial.note!, /stopped: the time budget of 0.417 minutes is used up/);
  assert.deepEqual(events.at(-1), {
    type: 'stop',
    reason: 'timeout',
    message: 'the time budget of 0.417 minutes is used up',
  });
});

test('with ASHA, trials below the bar stop at a rung and keep their value so far', async (t) => {
  const { storage, study } = setUp(t, { pruner: { type: 'asha', reductionFactor: 2 } });
  const events: StudyEvent[] = [];
  const result = await optimize({
    storage,
    study,
    objective: fakeObjective({ steps: 4, value }),
    budget: budget({ trials: 12 }),
    onEvent: (e) => events.push(e),
  });
  assert.equal(result.finished.length, 12);
  // Rungs at steps 1, 2 and 4; the last step (4) ends the trial anyway, so the pruner is not asked there.
  for (const e of events) {
    if (e.type === 'trial-report')
      assert.equal(e.decision.reason === null, e.step === 3 || e.step === 4, `step ${e.step}: ${e.decision.reason}`);
  }
  const trials = storage.trials(study.id);
  const pruned = trials.filter((tr) => tr.state === 'pruned');
  assert.ok(pruned.length >= 4, `${pruned.length} pruned`);
  for (const tr of pruned) {
    const last = Math.max(...tr.intermediate.keys());
    assert.ok(last === 1 || last === 2, 'pruned at a rung (steps 1, 2; 4 is the last step)');
    assert.equal(tr.value, tr.intermediate.get(last));
    assert.match(tr.note!, /^pruned: .* at rung \d \(epoch \d\), bar .* = best \d+ of \d+ trials there$/);
  }
  // Every trial that went past a rung was in the top half there at the time: the best trial is never pruned.
  const best = trials.reduce((a, b) => (value(a.params, 4) > value(b.params, 4) ? a : b));
  assert.equal(best.state, 'complete');
});

test('Ctrl-C queues the running trial; the next run resumes it where it stopped', async (t) => {
  const { storage, study } = setUp(t);
  const controller = new AbortController();
  const interrupted = await optimize({
    storage,
    study,
    budget: budget({ trials: 4 }),
    signal: controller.signal,
    objective: fakeObjective({
      steps: 3,
      value,
      onStep: (trial, step) => {
        if (trial.number === 1 && step === 3) controller.abort();
      },
    }),
  });
  assert.deepEqual(interrupted, { finished: [0], stopReason: 'interrupted' });
  const waiting = storage.trial(study.id, 1)!;
  assert.equal(waiting.state, 'waiting');
  assert.deepEqual([...waiting.intermediate.keys()], [1, 2]);
  assert.match(waiting.note!, /interrupted; queued to resume/);

  const starts: { number: number; resumed: boolean; reported: number[] }[] = [];
  const objective = fakeObjective({ steps: 3, value });
  const resumed = await optimize({
    storage,
    study,
    budget: budget({ trials: 4 }),
    objective: (trial) => {
      starts.push({ number: trial.number, resumed: trial.resumed, reported: [...trial.reported.keys()] });
      return objective(trial);
    },
  });
  assert.deepEqual(resumed.finished, [1, 2, 3]);
  assert.deepEqual(starts[0], { number: 1, resumed: true, reported: [1, 2] });
  const trials = storage.trials(study.id);
  assert.deepEqual(
    trials.map((tr) => tr.state),
    ['complete', 'complete', 'complete', 'complete'],
  );
  assert.deepEqual([...trials[1].intermediate.keys()], [1, 2, 3]);
});

test('a failing objective fails its trial with the error, and the study goes on', async (t) => {
  const { storage, study } = setUp(t);
  const good = fakeObjective({ steps: 1, value });
  const objective: Objective = async (trial) => {
    if (trial.number === 1) throw new Error('training diverged: the loss is NaN');
    if (trial.number === 2) return { state: 'complete', value: NaN };
    return good(trial);
  };
  const result = await optimize({ storage, study, objective, budget: budget({ trials: 4 }) });
  assert.deepEqual(result.finished, [0, 1, 2, 3]);
  const trials = storage.trials(study.id);
  assert.deepEqual(
    trials.map((tr) => tr.state),
    ['complete', 'failed', 'failed', 'complete'],
  );
  assert.equal(trials[1].note, 'failed: training diverged: the loss is NaN');
  assert.equal(trials[2].note, "failed: the objective's value is NaN");
});

test('a worker that lost its trial to another records nothing more about it', async (t) => {
  const { storage, study } = setUp(t);
  const events: StudyEvent[] = [];
  const clock = 1_000_000;
  const objective = fakeObjective({
    steps: 3,
    value,
    onStep: (trial, step) => {
      if (step === 2) {
        // Another worker decides this one is dead (its heartbeat is 10 min old by its clock) and takes the trial.
        const other = storage.claimTrial(
          study.id,
          { id: 'other', host: 'elsewhere', pid: 1 },
          {
            sample: () => ({}),
            maxTrials: null,
            staleAfterMs: 60_000,
            maxLost: 3,
            now: clock + 600_000,
          },
        );
        assert.ok(other.kind === 'claimed' && other.trial.number === trial.number);
      }
    },
  });
  const result = await optimize({
    storage,
    study,
    objective,
    budget: budget({ trials: 1 }),
    onEvent: (e) => events.push(e),
    now: () => clock,
  });
  assert.deepEqual(result.finished, []);
  assert.ok(events.some((e) => e.type === 'trial-end' && e.state === 'lost'));
  const trial = storage.trial(study.id, 0)!;
  assert.equal(trial.state, 'running');
  assert.equal(trial.worker, 'other');
  assert.deepEqual([...trial.intermediate.keys()], [1], 'the report of step 2 was refused');
});
