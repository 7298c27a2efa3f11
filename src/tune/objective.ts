// The objective: what one trial does with its parameters. The study loop (optimize.ts) hands it a
// TrialContext; it reports its value after every step (epoch) and stops early when told to (pruned, or
// the study's budget reached), and returns the final value. trainingObjective is the real one: it
// trains the base config with the trial's parameters in the trial's own run directory,
// <study>/trials/<number>/, with all the files of a `senet train` run.
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configHash, type TrainConfig } from '../train/config.js';
import { RUN_FILES, RunDir } from '../train/run-dir.js';
import { trainRun, type TrainEvent } from '../train/trainer.js';
import { applyParams } from './space.js';
import type { Params } from './trial.js';

export interface StopAdvice {
  /** Stop the trial after this step. */
  stop: boolean;
  /** Why (pruned at a rung, the budget used up); null when going on. */
  reason: string | null;
}

export interface TrialContext {
  readonly number: number;
  readonly params: Params;
  /** The trial ran before (its worker died, or Ctrl-C stopped it): continue where it got to. */
  readonly resumed: boolean;
  /** Values it reported before, step → value (a resumed trial's earlier epochs). */
  readonly reported: ReadonlyMap<number, number>;
  /** Aborted when the study is interrupted (Ctrl-C), or when this worker lost the trial to another. */
  readonly signal: AbortSignal;
  /**
   * Records the value after `step` (from 1) and says whether to stop here. `last`: the trial ends after
   * this step anyway, so there is nothing to decide (the pruner is not asked).
   */
  report(step: number, value: number, last?: boolean): StopAdvice;
  /** Says the worker is alive; cheap to call often (a timer sends heartbeats as well). */
  heartbeat(): void;
}

/** complete: ran to the end with this value; stopped: ended early, because report() or the signal said so. */
export type ObjectiveResult = { state: 'complete'; value: number } | { state: 'stopped' };

export type Objective = (trial: TrialContext) => Promise<ObjectiveResult>;

/** The run directory of trial `number` of the study in `studyDir`. */
export function trialDir(studyDir: string, number: number): string {
  return join(resolve(studyDir), 'trials', String(number));
}

/** A trial's training config: the base with its parameters; evaluated every epoch, as pruners need. */
export function trialConfig(base: TrainConfig, params: Params, runDir: string): TrainConfig {
  return { ...applyParams(base, params), out: runDir, evalEvery: 1 };
}

export interface TrainingObjectiveOptions {
  base: TrainConfig;
  studyDir: string;
  /** libtorch threads (default: the base config's, else every core). */
  threads?: number | null;
  /** The data cache folder (default: $SENET_DATA or ~/.cache/senet). */
  cacheDir?: string;
  /** Every event of every trial's training, for progress output. */
  onTrainEvent?: (trial: number, event: TrainEvent) => void;
}

/**
 * Trains the trial's config and returns its final test accuracy; reports the test accuracy after every
 * epoch. A resumed trial continues its run directory from the last checkpoint, so it trains no epoch
 * twice and ends with the weights an uninterrupted trial would have.
 */
export function trainingObjective(options: TrainingObjectiveOptions): Objective {
  return async (trial) => {
    const dir = trialDir(options.studyDir, trial.number);
    const config = trialConfig(options.base, trial.params, dir);
    // Resume the trial's run if it has one of this very config. A folder without config.json is a run
    // that died before it began; one of another config can only be left over from a study database
    // restored from an older copy. Either way the trial starts afresh.
    const hasRun =
      existsSync(join(dir, RUN_FILES.config)) && configHash(RunDir.open(dir).readConfig()) === configHash(config);
    if (!hasRun) rmSync(dir, { recursive: true, force: true });

    const stop = new AbortController();
    const report = (epoch: number, accuracy: number): boolean =>
      trial.report(epoch, accuracy, epoch >= config.epochs).stop;
    if (hasRun) {
      // Epochs that finished after the last report (a kill between the metrics line and the report).
      for (const m of RunDir.open(dir).readMetrics()) {
        if (m.test_acc !== null && !trial.reported.has(m.epoch) && report(m.epoch, m.test_acc))
          return { state: 'stopped' };
      }
    }

    const result = await trainRun({
      ...(hasRun ? { resume: dir } : { config, runDir: dir }),
      threads: options.threads,
      cacheDir: options.cacheDir,
      signal: AbortSignal.any([trial.signal, stop.signal]),
      onEvent: (event) => {
        if (event.type === 'batch') trial.heartbeat();
        if (
          event.type === 'epoch' &&
          event.metrics.test_acc !== null &&
          report(event.metrics.epoch, event.metrics.test_acc)
        )
          stop.abort();
        options.onTrainEvent?.(trial.number, event);
      },
    });
    if (result.status === 'completed' && result.evaluation)
      return { state: 'complete', value: result.evaluation.accuracy };
    return { state: 'stopped' };
  };
}
