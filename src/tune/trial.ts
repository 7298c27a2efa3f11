// What a study is made of: trials, their states and values, and which way is better. Shared by the
// storage, the samplers, the pruners and the report, none of which needs to know about the others.

/** Whether larger or smaller objective values are better (accuracy: maximize; loss: minimize). */
export type Direction = 'maximize' | 'minimize';
export const DIRECTIONS: readonly Direction[] = ['maximize', 'minimize'];

/**
 * waiting: queued to run (a trial whose worker died, or that was stopped by Ctrl-C, waits here to be
 * resumed from its run directory); running: claimed by a worker; the rest are final.
 */
export type TrialState = 'waiting' | 'running' | 'complete' | 'pruned' | 'failed';
export const TRIAL_STATES: readonly TrialState[] = ['waiting', 'running', 'complete', 'pruned', 'failed'];
export const FINAL_STATES: readonly TrialState[] = ['complete', 'pruned', 'failed'];

/** A sampled value: a number, or one of a categorical parameter's choices. */
export type ParamValue = number | string | boolean | null;
/** Parameter name (dotted for nested config fields) → value. */
export type Params = Record<string, ParamValue>;

export interface TrialRecord {
  /** 0 for the study's first trial. */
  number: number;
  state: TrialState;
  params: Params;
  /** complete: the objective's value; pruned: the last intermediate value (null if none was reported). */
  value: number | null;
  /** step (epoch, from 1) → objective value after it. */
  intermediate: Map<number, number>;
  /** Milliseconds since the epoch; null until claimed / finished. */
  startedAt: number | null;
  endedAt: number | null;
  /** The worker that holds (or last held) the trial. */
  worker: string | null;
  heartbeatAt: number | null;
  /** How many times the trial's worker died while running it. */
  lost: number;
  /** Why the trial ended as it did (pruned at a rung, budget reached, the error of a failed trial). */
  note: string | null;
}

/** `a` is better than `b` in this direction. */
export function isBetter(a: number, b: number, direction: Direction): boolean {
  return direction === 'maximize' ? a > b : a < b;
}

/** Orders values best first. */
export function bestFirst(direction: Direction): (a: number, b: number) => number {
  return direction === 'maximize' ? (a, b) => b - a : (a, b) => a - b;
}

/** The last reported step of a trial (0 when it reported nothing). */
export function lastStep(trial: TrialRecord): number {
  let last = 0;
  for (const step of trial.intermediate.keys()) last = Math.max(last, step);
  return last;
}

/**
 * The finished trials that carry information about the objective, best first: complete trials by value,
 * then pruned ones — those that got further first, then by their last value. This is what model-based
 * samplers learn from and what the report ranks.
 */
export function rankTrials(trials: readonly TrialRecord[], direction: Direction): TrialRecord[] {
  const order = bestFirst(direction);
  const complete = trials
    .filter((t) => t.state === 'complete' && t.value !== null)
    .sort((a, b) => order(a.value!, b.value!) || a.number - b.number);
  const pruned = trials
    .filter((t) => t.state === 'pruned' && t.value !== null)
    .sort((a, b) => lastStep(b) - lastStep(a) || order(a.value!, b.value!) || a.number - b.number);
  return [...complete, ...pruned];
}
