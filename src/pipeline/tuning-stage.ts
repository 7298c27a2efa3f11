// The hyper-parameter-tuning stage of `senet run`: a study over the training config, in <out>/tuning/ —
// a normal `senet tune` study directory (study.db, trials/, best-config.json, plots/) — then the config
// to train: the training config with the best trial's parameters. A study left unfinished (Ctrl-C, a
// kill) is continued, resuming its cut-off trial from its checkpoint; a study of another search (space,
// sampler, pruner or base config changed) cannot be continued and is replaced by a new one.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from '../train/config.js';
import { InterruptedError, type TrainEvent } from '../train/events.js';
import type { StageSummary } from '../train/stages.js';
import { studyBaseConfig, type TuneSpec } from './run-spec.js';
import {
  StudyStorage,
  applyParams,
  bestTrial,
  gridOf,
  loadStudy,
  openStudy,
  optimize,
  spaceToJson,
  studyPaths,
  trainingObjective,
  writeStudyOutputs,
  type Params,
  type StudyDefinition,
  type StudyEvent,
} from '../tune/index.js';
import { digest } from './stage-fingerprints.js';

/** The study folder of a run directory. */
export function studyDirOf(runDir: string): string {
  return join(runDir, 'tuning');
}

export interface TuningInput {
  /** The training config before tuning. */
  train: TrainConfig;
  tune: TuneSpec;
  studyDir: string;
  threads: number;
  signal?: AbortSignal;
  cacheDir?: string;
  onStudyEvent?: (event: StudyEvent) => void;
  onTrialEvent?: (trial: number, event: TrainEvent) => void;
}

export interface TuningResult {
  /** The training config with the best trial's parameters. */
  config: TrainConfig;
  summary: StageSummary;
}

/** The config to train after tuning: the training config with `overrides` (the best trial's parameters). */
export function tunedConfig(train: TrainConfig, overrides: Params): TrainConfig {
  return { ...applyParams(train, overrides), out: train.out, threads: train.threads };
}

function definitionOf(train: TrainConfig, tune: TuneSpec): StudyDefinition {
  return {
    direction: 'maximize',
    space: tune.space,
    sampler: tune.sampler,
    pruner: tune.pruner,
    baseConfig: studyBaseConfig(train, tune.epochs),
  };
}

/** Removes the study in `dir` when it was made for another search than `definition`. */
function replaceOtherStudy(dir: string, definition: StudyDefinition): void {
  const paths = studyPaths(dir);
  if (!existsSync(paths.db)) return;
  const storage = StudyStorage.open(paths.db);
  let same: boolean;
  try {
    const stored = loadStudy(storage, paths.name);
    const key = (d: Omit<StudyDefinition, 'space'> & { space: unknown }) =>
      digest(d.direction, d.space, d.sampler, d.pruner, d.baseConfig);
    same =
      stored !== null &&
      key({ ...stored, space: spaceToJson(stored.space) }) ===
        key({ ...definition, space: spaceToJson(definition.space) });
  } finally {
    storage.close();
  }
  if (!same) rmSync(paths.dir, { recursive: true, force: true });
}

/** Runs (or continues) the study to its budget; throws InterruptedError on Ctrl-C, an Error when no trial completed. */
export async function runTuning(input: TuningInput): Promise<TuningResult> {
  const { train, tune, studyDir } = input;
  const definition = definitionOf(train, tune);
  replaceOtherStudy(studyDir, definition);
  mkdirSync(studyDir, { recursive: true });
  const paths = studyPaths(studyDir);
  const storage = StudyStorage.open(paths.db);
  try {
    const { study, created } = openStudy(storage, {
      name: paths.name,
      definition,
      budget: { trials: tune.trials ?? undefined, maxEpochsTotal: tune.maxEpochsTotal ?? undefined },
      optionNames: { space: 'tune.space', sampler: 'tune.sampler', pruner: 'tune.pruner', baseConfig: 'train' },
    });
    const base = definition.baseConfig as TrainConfig;
    const result = await optimize({
      storage,
      study,
      signal: input.signal,
      onEvent: input.onStudyEvent,
      budget: {
        trials: tune.trials ?? (tune.sampler.type === 'grid' ? gridOf(tune.space).length : null),
        maxEpochsTotal: tune.maxEpochsTotal,
        timeoutMs: tune.timeoutMinutes === null ? null : tune.timeoutMinutes * 60_000,
      },
      objective: trainingObjective({
        base,
        studyDir: paths.dir,
        threads: input.threads,
        cacheDir: input.cacheDir,
        onTrainEvent: input.onTrialEvent,
      }),
    });
    const trials = storage.trials(study.id);
    const outputs = await writeStudyOutputs(paths.dir, {
      trials,
      space: study.space,
      direction: study.direction,
      base,
      valueTitle: 'test accuracy',
    });
    if (result.stopReason === 'interrupted') {
      const interrupted = new InterruptedError(paths.dir, 0, 0, 'during hyper-parameter tuning');
      // Its own advice (`senet train --resume`) does not fit a study: the same `senet run` continues it.
      interrupted.message =
        'interrupted during hyper-parameter tuning; run the same senet run command to continue the study where it stopped';
      throw interrupted;
    }
    const count = (state: string) => trials.filter((t) => t.state === state).length;
    const best = bestTrial(trials, study.direction);
    if (!best) {
      const failure = trials.find((t) => t.state === 'failed' && t.note);
      throw new Error(
        `no trial of the study completed (${trials.length} trials: ${count('pruned')} pruned, ${count('failed')} failed` +
          `${failure ? `; trial ${failure.number} ${failure.note}` : ''}), so there is no tuned config to train`,
      );
    }
    return {
      config: tunedConfig(train, best.params),
      summary: {
        study: paths.dir,
        continued: !created,
        trials: trials.length,
        complete: count('complete'),
        pruned: count('pruned'),
        failed: count('failed'),
        stopReason: result.stopReason,
        bestTrial: best.number,
        bestValue: best.value,
        overrides: best.params,
        bestConfig: outputs.bestConfig,
      },
    };
  } finally {
    storage.close();
  }
}
