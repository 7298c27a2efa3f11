// `senet run`: the whole workflow — data preparation, data augmentation, SE module design, CNN model
// design, hyper-parameter tuning, model training, evaluation — in one run directory, recorded in its
// pipeline.json exactly as `senet train` records it (trainer.ts runs the stages; tuning is its hook).
// The run directory is that of `senet train` (config.json is the config actually trained, after
// tuning) plus the study in <out>/tuning/ (pipeline-tuning.ts).
//
// Running the same config again does no work whose inputs did not change. Every stage records a
// fingerprint of its inputs (stage-fingerprints.ts); on a re-run:
//   - everything unchanged and done: every stage is marked skipped, with reason 'unchanged since <time>',
//     its fingerprint, `since` and its earlier summary as `previous`; nothing is loaded or trained.
//   - the study unchanged and done: tuning is skipped the same way and its best parameters reused.
//   - training interrupted (Ctrl-C, a kill) with unchanged inputs: it resumes from its last checkpoint,
//     then evaluates.
//   - a stage's inputs changed: that stage and every later one run again. A changed search replaces the
//     study; a changed budget continues it. A changed training config starts a new training from scratch
//     in the same directory: the old config.json, metrics.jsonl, eval.json, checkpoints and report are
//     removed first. (Refusing would make the usual loop — edit the config, run again — a chore; keeping
//     old checkpoints would mix two trainings in one directory, and they could not be resumed anyway, as
//     a checkpoint only resumes under the config it was made with.)
// Data preparation and the two design stages run whenever training or evaluation runs (they build the
// data and the model that training needs; with the decode cache this takes seconds) and are skipped with
// the rest when nothing is left to do.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { configHash, type TrainConfig } from '../train/config.js';
import type { Evaluation } from '../train/evaluate.js';
import type { TrainEvent } from '../train/events.js';
import {
  Pipeline,
  STAGES,
  readPipeline,
  type StageName,
  type StageRecord,
  type StageSummary,
} from '../train/stages.js';
import { runTuning, studyDirOf, tunedConfig } from './tuning-stage.js';
import { RUN_FILES, RunDir, writeJsonAtomic } from '../train/run-dir.js';
import type { RunSpec } from './run-spec.js';
import {
  dataIdentity,
  designFingerprints,
  evaluationFingerprint,
  stageFingerprint,
  trainingFingerprint,
  type DesignFingerprints,
} from './stage-fingerprints.js';
import { trainRun, type TuningHook } from '../train/trainer.js';
import type { Params, StudyEvent } from '../tune/index.js';

export type PipelineEvent =
  | TrainEvent
  | { type: 'study'; event: StudyEvent }
  | { type: 'trial'; trial: number; event: TrainEvent };

export interface RunPipelineOptions {
  /** Ctrl-C: stop after the current step (of a trial or of training); running the same config again continues. */
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
  /** The data cache folder (default: $SENET_DATA or ~/.cache/senet). */
  cacheDir?: string;
}

export interface PipelineResult {
  runDir: string;
  status: 'completed' | 'interrupted';
  /** The final evaluation (this run's, or the reused one). */
  evaluation: Evaluation | null;
  /** The config trained (after tuning). */
  config: TrainConfig;
  /** The study directory, when the run tunes. */
  studyDir: string | null;
  /** The stages as recorded in pipeline.json at the end. */
  stages: StageRecord[];
}

/** A stage failed: its name and message (the record in pipeline.json says the same). */
export class StageFailedError extends Error {
  constructor(
    readonly stage: StageName,
    override readonly cause: unknown,
  ) {
    super(`stage '${stage}' failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** What a stage produced last time it ran, if it recorded a fingerprint: from a done record, or carried by a skipped one. */
interface EarlierResult {
  fingerprint: string;
  since: string;
  summary: StageSummary;
}

function earlierResult(record: StageRecord | undefined): EarlierResult | null {
  const summary = record?.summary;
  if (!summary || typeof summary.fingerprint !== 'string') return null;
  if (record.status === 'done' && record.endedAt)
    return { fingerprint: summary.fingerprint, since: record.endedAt, summary };
  if (
    record.status === 'skipped' &&
    typeof summary.since === 'string' &&
    typeof summary.previous === 'object' &&
    summary.previous !== null
  ) {
    return { fingerprint: summary.fingerprint, since: summary.since, summary: summary.previous as StageSummary };
  }
  return null;
}

/** The summary of a stage skipped because its inputs are those of `earlier`. */
function unchangedSummary(earlier: EarlierResult): { reason: string; details: StageSummary } {
  return {
    reason: `unchanged since ${earlier.since}`,
    details: { fingerprint: earlier.fingerprint, since: earlier.since, previous: earlier.summary },
  };
}

const NO_TUNING = "the run config has no 'tune' section: training uses the train config as given";

/** Files of a training, removed before a new one starts in the same directory. */
const TRAINING_OUTPUTS = [
  RUN_FILES.config,
  RUN_FILES.metrics,
  RUN_FILES.eval,
  RUN_FILES.checkpoints,
  'report.md',
  'report.html',
  'figures',
  'se-analysis.json',
];

/** Runs the workflow of `spec` to the end (or until interrupted), skipping what is unchanged since the last run in spec.out. */
export async function runPipeline(spec: RunSpec, options: RunPipelineOptions = {}): Promise<PipelineResult> {
  const emit = (event: PipelineEvent) => options.onEvent?.(event);
  const out = spec.out;
  const pipelinePath = join(out, RUN_FILES.pipeline);
  const records = existsSync(pipelinePath) ? readPipeline(pipelinePath).stages : [];
  const earlier = new Map<StageName, EarlierResult>();
  for (const record of records) {
    const result = earlierResult(record);
    if (result) earlier.set(record.name, result);
  }
  checkNotAnotherRun(out, records);
  const design = designFingerprints(spec.train, spec.tune, dataIdentity(spec.train.data, options.cacheDir));
  const unchanged = (stage: StageName, fingerprint: string) => earlier.get(stage)?.fingerprint === fingerprint;

  // The tuning stage's fingerprint covers every input before training (they are chained): when it is
  // unchanged, the config to train is known now — the earlier study's best parameters on the training config.
  const tuningRecord = records.find((r) => r.name === 'hyperparameter-tuning');
  const tuningUnchanged =
    spec.tune === null
      ? tuningRecord?.summary?.fingerprint === design['hyperparameter-tuning']
      : unchanged('hyperparameter-tuning', design['hyperparameter-tuning']);
  const trained =
    spec.tune === null
      ? spec.train
      : tuningUnchanged
        ? tunedConfig(spec.train, earlier.get('hyperparameter-tuning')!.summary.overrides as Params)
        : null;
  const trainedSoFar = existsSync(join(out, RUN_FILES.config)) ? configHash(RunDir.open(out).readConfig()) : null;
  // A training resumes when its inputs are those it was started with.
  const resume = tuningUnchanged && trained !== null && trainedSoFar === configHash(trained);

  if (resume && existsSync(join(out, RUN_FILES.eval))) {
    const training = trainingFingerprint(design, trained!);
    const designUnchanged = (
      ['data-preparation', 'data-augmentation', 'se-module-design', 'cnn-model-design'] as const
    ).every((stage) => unchanged(stage, design[stage]));
    if (
      designUnchanged &&
      unchanged('model-training', training) &&
      unchanged('evaluation', evaluationFingerprint(training))
    ) {
      return allUnchanged(spec, design, trained!, earlier, emit);
    }
  }

  mkdirSync(out, { recursive: true });
  if (!resume) {
    // A new training from scratch: nothing of the old one stays (see the top of this file).
    for (const file of TRAINING_OUTPUTS) rmSync(join(out, file), { recursive: true, force: true });
    mkdirSync(join(out, RUN_FILES.checkpoints), { recursive: true });
    writeJsonAtomic(join(out, RUN_FILES.config), trained ?? spec.train);
    new Pipeline(pipelinePath, { fresh: true });
  }
  // When resuming, the earlier records stay until their stages record again, so that a run killed
  // before it reaches the tuning stage still finds the study's result next time.

  const studyDir = spec.tune ? studyDirOf(out) : null;
  const tuning: TuningHook = async ({ config, signal, threads }) => {
    if (spec.tune === null) return { config, summary: {}, skipped: NO_TUNING };
    if (tuningUnchanged) {
      const { reason, details } = unchangedSummary(earlier.get('hyperparameter-tuning')!);
      return { config: trained!, summary: details, skipped: reason };
    }
    return runTuning({
      train: spec.train,
      tune: spec.tune,
      studyDir: studyDir!,
      threads,
      signal,
      cacheDir: options.cacheDir,
      onStudyEvent: (event) => emit({ type: 'study', event }),
      onTrialEvent: (trial, event) => emit({ type: 'trial', trial, event }),
    });
  };

  let failed: StageName | null = null;
  let result: Awaited<ReturnType<typeof trainRun>>;
  try {
    result = await trainRun({
      resume: out,
      threads: spec.train.threads ?? availableParallelism(),
      signal: options.signal,
      cacheDir: options.cacheDir,
      tune: tuning,
      fingerprint: (stage, config) => stageFingerprint(design, stage, config),
      onEvent: (event) => {
        if (event.type === 'stage' && event.status === 'failed') failed = event.stage;
        emit(event);
      },
    });
  } catch (error) {
    if (failed !== null) throw new StageFailedError(failed, error);
    throw error;
  }
  const run = RunDir.open(out);
  return {
    runDir: result.runDir,
    status: result.status,
    evaluation: result.evaluation,
    config: run.readConfig(),
    studyDir,
    stages: readPipeline(pipelinePath).stages,
  };
}

/**
 * Refuses a directory that holds a training not made by `senet run` (no stage recorded a fingerprint):
 * `senet run` would otherwise replace it.
 */
function checkNotAnotherRun(out: string, records: StageRecord[]): void {
  if (!existsSync(join(out, RUN_FILES.config)) || records.some((r) => typeof r.summary?.fingerprint === 'string'))
    return;
  const trainedSomething =
    existsSync(join(out, RUN_FILES.checkpoints, 'last')) || existsSync(join(out, RUN_FILES.eval));
  if (trainedSomething) {
    throw new Error(
      `${out} holds a training run not made by senet run (its pipeline.json records no stage fingerprints); ` +
        "choose another 'out', or continue it with senet train --resume",
    );
  }
}

/** Nothing to do: every stage is recorded as skipped, unchanged, with what it produced before. */
function allUnchanged(
  spec: RunSpec,
  design: DesignFingerprints,
  trained: TrainConfig,
  earlier: Map<StageName, EarlierResult>,
  emit: (event: PipelineEvent) => void,
): PipelineResult {
  const pipelinePath = join(spec.out, RUN_FILES.pipeline);
  const pipeline = new Pipeline(pipelinePath, { fresh: true });
  for (const { name } of STAGES) {
    if (name === 'hyperparameter-tuning' && spec.tune === null) {
      pipeline.skip(name, NO_TUNING, { fingerprint: design[name] });
    } else {
      const { reason, details } = unchangedSummary(earlier.get(name)!);
      pipeline.skip(name, reason, details);
    }
    emit({ type: 'stage', stage: name, status: 'skipped' });
  }
  const run = RunDir.open(spec.out);
  return {
    runDir: run.path,
    status: 'completed',
    evaluation: run.readEval() as Evaluation,
    config: trained,
    studyDir: spec.tune ? studyDirOf(spec.out) : null,
    stages: pipeline.records,
  };
}
