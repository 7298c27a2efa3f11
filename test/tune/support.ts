// Shared pieces of the tuning tests: trial records made by hand, a study history grown by a sampler on a
// synthetic objective (no training, no database), and a fake objective for the study loop.
import type { Objective, TrialContext } from '../../src/tune/objective.js';
import type { Sampler } from '../../src/tune/samplers/index.js';
import type { SearchSpace } from '../../src/tune/space.js';
import type { Direction, Params, TrialRecord, TrialState } from '../../src/tune/trial.js';

/** A trial record with the given fields and neutral defaults. */
export function trialRecord(
  number: number,
  fields: {
    state?: TrialState;
    params?: Params;
    value?: number | null;
    intermediate?: [number, number][];
  } = {},
): TrialRecord {
  return {
    number,
    state: fields.state ?? 'complete',
    params: fields.params ?? {},
    value: fields.value ?? null,
    intermediate: new Map(fields.intermediate ?? []),
    startedAt: 0,
    endedAt: 1,
    worker: null,
    heartbeatAt: null,
    lost: 0,
    note: null,
  };
}

/** `count` trials sampled one after another, each complete with the objective's value. */
export function simulate(
  sampler: Sampler,
  space: SearchSpace,
  objective: (p: Params) => number,
  count: number,
  direction: Direction = 'maximize',
): TrialRecord[] {
  const trials: TrialRecord[] = [];
  for (let number = 0; number < count; number++) {
    const params = sampler.sample({ space, trials, number, direction });
    if (params === null) break;
    trials.push(trialRecord(number, { params, value: objective(params) }));
  }
  return trials;
}

/** The best value of the trials (maximizing). */
export function bestValue(trials: readonly TrialRecord[]): number {
  return Math.max(...trials.map((t) => t.value!));
}

/** How a fake objective's value depends on the trial's parameters and the step. */
export type FakeValue = (params: Params, step: number) => number;

export interface FakeObjectiveOptions {
  /** Epochs of every trial. */
  steps: number;
  value: FakeValue;
  /** Time one step takes (default 0: no waiting). */
  stepMs?: number;
  /** Called before each step is reported (e.g. to interrupt, or to move a fake clock). */
  onStep?: (trial: TrialContext, step: number) => void;
}

/**
 * An objective that behaves like training without training: a resumed trial continues after its last
 * reported step; it stops when aborted (before reporting the step, as an interrupted epoch), and after
 * a step when told to; its last step is reported as the last.
 */
export function fakeObjective(options: FakeObjectiveOptions): Objective {
  return async (trial) => {
    const first = trial.resumed ? Math.max(0, ...trial.reported.keys()) + 1 : 1;
    for (let step = first; step <= options.steps; step++) {
      if (options.stepMs) await new Promise((r) => setTimeout(r, options.stepMs));
      if (trial.signal.aborted) return { state: 'stopped' };
      options.onStep?.(trial, step);
      if (trial.signal.aborted) return { state: 'stopped' };
      trial.heartbeat();
      if (trial.report(step, options.value(trial.params, step), step === options.steps).stop)
        return { state: 'stopped' };
    }
    return { state: 'complete', value: options.value(trial.params, options.steps) };
  };
}
