// The study loop of one worker: claim a trial, run the objective on it, record how it ended; again,
// until the budget is used up, the sampler has nothing left, or the user interrupts. Any number of
// workers (processes) may run this loop on one study at once; the storage keeps them apart.
//
// Budgets: `trials` and `maxEpochsTotal` count the whole study (every worker, every earlier run);
// `timeoutMs` counts from this call. When the epoch or time budget runs out during a trial, the trial
// stops after its current epoch and is recorded as pruned (note: the budget), so its value so far
// stays in the study. Ctrl-C (the signal) stops the trial after its current step, with a checkpoint, and
// puts it back in the queue: the next run of the study resumes it.
import type { Objective, ObjectiveResult, StopAdvice, TrialContext } from './objective.js';
import { KEEP_GOING, type Pruner, type PruneDecision } from './pruners/index.js';
import type { Sampler } from './samplers/index.js';
import type { Study } from './study.js';
import { newWorkerIdentity, type RequeueResult, type StudyStorage, type WorkerIdentity } from './storage.js';
import { lastStep, type Params, type TrialRecord, type TrialState } from './trial.js';

export interface Budget {
  /** Trials in the study in all (null: no limit). */
  trials: number | null;
  /** Epochs of all trials together (null: no limit). */
  maxEpochsTotal: number | null;
  /** Time this worker may spend, from the start of optimize() (null: no limit). */
  timeoutMs: number | null;
}

/** Why a worker stopped. */
export type StopReason =
  | 'trials' // the study has its number of trials
  | 'epochs' // the study trained its total of epochs
  | 'timeout' // this worker's time is up
  | 'exhausted' // the sampler has nothing left to try (every grid point taken)
  | 'interrupted'; // Ctrl-C

export type StudyEvent =
  | { type: 'requeued'; requeue: RequeueResult }
  | { type: 'trial-start'; number: number; params: Params; resumed: boolean }
  | {
      type: 'trial-report';
      number: number;
      step: number;
      value: number;
      decision: PruneDecision;
      budgetStop: string | null;
    }
  | { type: 'trial-end'; number: number; state: TrialState | 'lost'; value: number | null; note: string | null }
  | { type: 'stop'; reason: StopReason; message: string };

export interface OptimizeOptions {
  storage: StudyStorage;
  study: Study;
  objective: Objective;
  budget: Budget;
  /** Ctrl-C: stop after the current step, leaving the trial queued to resume. */
  signal?: AbortSignal;
  onEvent?: (event: StudyEvent) => void;
  worker?: WorkerIdentity;
  /** How often a running trial's heartbeat is written (default 5 s). */
  heartbeatMs?: number;
  /** A running trial whose heartbeat is older than this belongs to a dead worker (default 5 min). */
  staleAfterMs?: number;
  /** A trial whose worker died this many times is failed, not re-queued again (default 3). */
  maxLost?: number;
  /** Sampler and pruner (default: the study's own). */
  sampler?: Sampler;
  pruner?: Pruner;
  now?: () => number;
}

export interface OptimizeResult {
  /** Trials this worker ran to an end (complete, pruned or failed). */
  finished: number[];
  stopReason: StopReason;
}

export const OPTIMIZE_DEFAULTS = { heartbeatMs: 5_000, staleAfterMs: 5 * 60_000, maxLost: 3 } as const;

/** The study's trials and budget usage, for budget checks. */
function epochsUsed(trials: readonly TrialRecord[]): number {
  return trials.reduce((n, t) => n + t.intermediate.size, 0);
}

/** Runs trials of the study until its budget is used up (or the signal fires); see the top of this file. */
export async function optimize(options: OptimizeOptions): Promise<OptimizeResult> {
  const { storage, study, objective, budget } = options;
  const emit = (event: StudyEvent) => options.onEvent?.(event);
  const now = options.now ?? Date.now;
  const worker = options.worker ?? newWorkerIdentity();
  const sampler = options.sampler ?? study.makeSampler();
  const pruner = options.pruner ?? study.makePruner();
  const heartbeatMs = options.heartbeatMs ?? OPTIMIZE_DEFAULTS.heartbeatMs;
  const staleAfterMs = options.staleAfterMs ?? OPTIMIZE_DEFAULTS.staleAfterMs;
  const maxLost = options.maxLost ?? OPTIMIZE_DEFAULTS.maxLost;
  const deadline = budget.timeoutMs === null ? null : now() + budget.timeoutMs;
  const finished: number[] = [];

  const stop = (reason: StopReason, message: string): OptimizeResult => {
    emit({ type: 'stop', reason, message });
    return { finished, stopReason: reason };
  };
  /** The budget that is used up (other than the trial count), as a reason and words; null if none. */
  const budgetSpent = (trials: readonly TrialRecord[]): [StopReason, string] | null => {
    if (deadline !== null && now() >= deadline)
      return ['timeout', `the time budget of ${formatMinutes(budget.timeoutMs!)} is used up`];
    if (budget.maxEpochsTotal !== null && epochsUsed(trials) >= budget.maxEpochsTotal) {
      return ['epochs', `the study has trained its budget of ${budget.maxEpochsTotal} epochs`];
    }
    return null;
  };

  for (;;) {
    if (options.signal?.aborted) return stop('interrupted', 'interrupted');
    const spent = budgetSpent(storage.trials(study.id));
    if (spent) return stop(...spent);
    const claim = storage.claimTrial(study.id, worker, {
      sample: (trials, number) => sampler.sample({ space: study.space, trials, number, direction: study.direction }),
      maxTrials: budget.trials,
      staleAfterMs,
      maxLost,
      now: now(),
    });
    if (claim.requeue.requeued.length || claim.requeue.failed.length)
      emit({ type: 'requeued', requeue: claim.requeue });
    if (claim.kind === 'none') {
      return claim.reason === 'trials'
        ? stop('trials', `the study has its ${budget.trials} trials`)
        : stop('exhausted', 'the sampler has tried everything in the search space');
    }
    const outcome = await runTrial(claim.trial, claim.resumed);
    if (outcome !== 'lost' && outcome !== 'waiting') finished.push(claim.trial.number);
    if (outcome === 'waiting')
      return stop('interrupted', `interrupted; trial ${claim.trial.number} is queued to resume`);
  }

  /** Runs one claimed trial and records how it ended; returns its state, or 'lost' if another worker took it. */
  async function runTrial(trial: TrialRecord, resumed: boolean): Promise<TrialState | 'lost'> {
    const { number } = trial;
    emit({ type: 'trial-start', number, params: trial.params, resumed });
    const lost = new AbortController();
    let stopAdvice: string | null = null;
    let lastBeat = now();
    const beat = () => {
      lastBeat = now();
      try {
        if (!storage.heartbeat(study.id, number, worker.id, lastBeat)) lost.abort();
      } catch {
        // The database stayed locked past its busy timeout: the next beat tries again.
      }
    };
    const timer = setInterval(beat, heartbeatMs);
    timer.unref();
    const context: TrialContext = {
      number,
      params: trial.params,
      resumed,
      reported: trial.intermediate,
      signal: options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal,
      heartbeat: () => {
        if (now() - lastBeat >= heartbeatMs) beat();
      },
      report: (step, value, last = false): StopAdvice => {
        if (!storage.reportIntermediate(study.id, number, worker.id, step, value, now())) {
          lost.abort();
          return { stop: true, reason: 'this worker no longer holds the trial' };
        }
        const trials = storage.trials(study.id);
        const self = trials.find((t) => t.number === number)!;
        const decision = last ? KEEP_GOING : pruner.decide({ trial: self, step, trials, direction: study.direction });
        const spent = last ? null : budgetSpent(trials);
        const budgetStop = spent ? `stopped: ${spent[1]}` : null;
        emit({ type: 'trial-report', number, step, value, decision, budgetStop });
        if (decision.prune || budgetStop) {
          stopAdvice = decision.prune ? decision.reason : budgetStop;
          return { stop: true, reason: stopAdvice };
        }
        return { stop: false, reason: null };
      },
    };

    let result: ObjectiveResult | Error;
    try {
      result = await objective(context);
    } catch (error) {
      result = error instanceof Error ? error : new Error(String(error));
    } finally {
      clearInterval(timer);
    }

    if (lost.signal.aborted) {
      emit({ type: 'trial-end', number, state: 'lost', value: null, note: 'another worker took the trial over' });
      return 'lost';
    }
    const record = (
      state: 'complete' | 'pruned' | 'failed',
      value: number | null,
      note: string | null,
    ): TrialState | 'lost' => {
      if (!storage.finishTrial(study.id, number, worker.id, { state, value, note }, now())) {
        emit({ type: 'trial-end', number, state: 'lost', value: null, note: 'another worker took the trial over' });
        return 'lost';
      }
      emit({ type: 'trial-end', number, state, value, note });
      return state;
    };
    if (result instanceof Error) return record('failed', null, `failed: ${result.message}`);
    if (result.state === 'complete') {
      if (!Number.isFinite(result.value))
        return record('failed', null, `failed: the objective's value is ${result.value}`);
      return record('complete', result.value, null);
    }
    if (stopAdvice !== null) {
      const self = storage.trial(study.id, number)!;
      return record('pruned', self.intermediate.get(lastStep(self)) ?? null, stopAdvice);
    }
    if (options.signal?.aborted) {
      const note = 'interrupted; queued to resume from its last checkpoint';
      if (!storage.releaseTrial(study.id, number, worker.id, note)) return 'lost';
      emit({ type: 'trial-end', number, state: 'waiting', value: null, note });
      return 'waiting';
    }
    return record('failed', null, 'failed: the objective stopped without being told to');
  }
}

function formatMinutes(ms: number): string {
  const minutes = ms / 60_000;
  return `${Number(minutes.toPrecision(3))} minute${minutes === 1 ? '' : 's'}`;
}
