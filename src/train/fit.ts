// fit(): trains any nn.Module with the caller's data loaders, loss, optimizer and learning-rate schedule,
// on the same training loop as `senet train` (training-loop.ts), so with the same run directory:
// config.json (what the run was given), metrics.jsonl, checkpoints/last and checkpoints/best, eval.json,
// exact resume (mid-epoch too: abort the signal, then call fit again with `resume: true` and the model,
// optimizer, schedule and loaders built as before), and the same progress events. The caller owns the
// model, optimizer, schedule and loaders: fit frees only what it makes (the weight average).
import { createHash } from 'node:crypto';
import * as torch from '../torch/index.js';
import type { nn } from '../torch/index.js';
import type { BatchLoader } from '../data/index.js';
import { canonicalJson, readJsonFile } from '../util/json-files.js';
import { ModelEma } from './ema.js';
import { findCheckpoint } from './checkpoint.js';
import { RunDir } from './run-dir.js';
import { describeSession, recordSession } from './environment.js';
import { TrainProgress } from './progress.js';
import { InterruptedError, type TrainEvent } from './events.js';
import {
  correctPredictions,
  runTrainingLoop,
  type Optimizer,
  type TrainingCallbacks,
  type Validation,
} from './training-loop.js';

/** What fit records in config.json: how the run was set up (a resume must set it up the same way). */
export interface FitConfig {
  trainer: 'senet.fit';
  model: { name: string; parameters: number };
  optimizer: { name: string; defaults: Record<string, unknown> };
  scheduler: string | null;
  schedulerInterval: 'step' | 'epoch';
  epochs: number;
  evalEvery: number;
  batchSize: number;
  batchesPerEpoch: number;
  trainSize: number;
  validationSize: number | null;
  accuracy: boolean;
  ema: number | null;
  mixedPrecision: 'none' | 'bf16';
  maxLoss: number | null;
  /** The caller's own settings (FitOptions.config). */
  config: Record<string, unknown>;
}

/** The evaluation of a fit() run on its validation data. */
export interface FitEvaluation extends Validation {
  /** Samples evaluated. */
  count: number;
}

/** What fit() tells its caller while it runs; `done` carries the final evaluation (null without validation data). */
export type FitEvent = TrainEvent<FitConfig, FitEvaluation | null>;

export interface FitOptions {
  /** Any module whose forward takes a batch of inputs; trained in place. */
  model: nn.Module;
  /** The training batches: a DataLoader over any dataset (shuffle and seed it there). */
  train: BatchLoader;
  /** Batches to evaluate on after each epoch (unshuffled); none: no evaluation, no best checkpoint. */
  validation?: BatchLoader | null;
  /** A batch's loss from the model's output and the batch's targets: a scalar tensor. */
  loss: (output: torch.Tensor, target: torch.Tensor) => torch.Tensor;
  optimizer: torch.optim.Optimizer<torch.optim.HyperParams>;
  scheduler?: torch.optim.Scheduler | null;
  /** When the schedule steps: after every epoch (default) or after every optimizer step. */
  schedulerInterval?: 'step' | 'epoch';
  epochs: number;
  /** Evaluate after every `evalEvery` epochs, and after the last (default 1). */
  evalEvery?: number;
  /** The run directory: a new one (default), or with `resume: true` one to continue from its last checkpoint. */
  runDir: string;
  resume?: boolean;
  /** Your own settings, recorded in config.json (JSON values); a resume must give the same. */
  config?: Record<string, unknown>;
  /**
   * Whether the model is a classifier scored by accuracy (outputs [B, C], targets [B] class indices;
   * default true). Without accuracy, `best` is the checkpoint of the lowest validation loss.
   */
  accuracy?: boolean;
  /** A weight average with this decay (ema.ts): evaluated, checkpointed and left in the model at the end. */
  ema?: number | null;
  /** 'bf16': forward and loss under CPU bfloat16 autocast (default 'none'). */
  mixedPrecision?: 'none' | 'bf16';
  /** Stop with an error when a batch's loss exceeds this (a non-finite loss always stops). */
  maxLoss?: number | null;
  /** Strings stored in model.safetensors' metadata. */
  weightsMetadata?: Record<string, string>;
  /** libtorch threads (default: left as they are). */
  threads?: number;
  callbacks?: readonly TrainingCallbacks[];
  onEvent?: (event: FitEvent) => void;
  /**
   * Show progress as `senet train` does: a bar per epoch and evaluation on stderr (plain lines when it is
   * not a terminal or CI is set) and one line per epoch on stdout. Default false.
   */
  progress?: boolean;
  /** When aborted, training stops after the current step with a resumable checkpoint. */
  signal?: AbortSignal;
}

export interface FitResult {
  runDir: string;
  status: 'completed' | 'interrupted';
  /** Completed epochs and batches of the next one. */
  epoch: number;
  batch: number;
  bestAccuracy: number | null;
  /** The lowest validation loss, for models without accuracy. */
  bestLoss: number | null;
  /** The final evaluation (completed runs with validation data). */
  evaluation: FitEvaluation | null;
  /** The folder of the checkpoint to resume from, when there is one. */
  checkpoint: string | null;
}

/** Trains (or, with `resume`, continues) a run to the end, or until aborted. */
export async function fit(options: FitOptions): Promise<FitResult> {
  const config = fitConfig(options);
  const run = openRun(options, config);
  if (options.threads !== undefined) torch.setNumThreads(options.threads);
  recordSession(run.file('environment'), describeSession(torch.getNumThreads()));
  const { model, loss, validation = null } = options;
  const accuracy = config.accuracy;
  const ema = config.ema === null ? null : new ModelEma(model, config.ema);
  const progress = options.progress ? new TrainProgress() : null;
  const emit = (event: FitEvent) => {
    progress?.handle(event);
    options.onEvent?.(event);
  };
  try {
    const scoring = validation && {
      size: validation.dataset.length,
      evaluate: (onBatch?: (done: number, total: number) => void) =>
        evaluateFit(model, validation, loss, accuracy, onBatch),
    };
    const outcome = await runTrainingLoop<FitConfig, FitEvaluation>({
      run,
      config,
      configHash: hashOf(config),
      model,
      train: options.train,
      validation: scoring,
      epochs: config.epochs,
      evalEvery: config.evalEvery,
      optimizer: options.optimizer as unknown as Optimizer,
      scheduler: options.scheduler ?? null,
      schedulerInterval: config.schedulerInterval,
      loss,
      autocast: config.mixedPrecision === 'bf16',
      accuracy,
      ema,
      weightsMetadata: options.weightsMetadata,
      divergence: {
        maxLoss: config.maxLoss,
        limitName: 'maxLoss',
        hint: 'Try a lower learning rate or a learning-rate warmup.',
      },
      callbacks: options.callbacks ?? [],
      threads: torch.getNumThreads(),
      emit,
      signal: options.signal,
      resumeHint: `fit({ ..., runDir: '${run.path}', resume: true })`,
    });
    // A run resumed after its last epoch made no evaluation in this session: the model is evaluated now.
    const evaluation = outcome.finalEvaluation ?? (scoring ? await scoring.evaluate() : null);
    if (evaluation) {
      run.writeEval({
        ...evaluation,
        epoch: config.epochs,
        checkpoint: 'last',
        bestAccuracy: outcome.bestAccuracy,
        bestLoss: outcome.bestLoss,
      });
    }
    emit({ type: 'done', runDir: run.path, evaluation, bestAccuracy: outcome.bestAccuracy });
    return {
      runDir: run.path,
      status: 'completed',
      epoch: config.epochs,
      batch: 0,
      bestAccuracy: outcome.bestAccuracy,
      bestLoss: outcome.bestLoss,
      evaluation,
      checkpoint: findCheckpoint(run.checkpoint('last')),
    };
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error;
    return {
      runDir: run.path,
      status: 'interrupted',
      epoch: error.epoch,
      batch: error.batch,
      bestAccuracy: null,
      bestLoss: null,
      evaluation: null,
      checkpoint: findCheckpoint(run.checkpoint('last')),
    };
  } finally {
    progress?.stop();
    ema?.dispose();
  }
}

/** The run's config from the options, checked: one error naming the option that is wrong. */
function fitConfig(options: FitOptions): FitConfig {
  const bad = (what: string): never => {
    throw new Error(`fit(): ${what}`);
  };
  const { model, train, validation, optimizer, scheduler } = options;
  if (!(model instanceof torch.nn.Module)) bad('model must be an nn.Module');
  for (const [name, loader] of [
    ['train', train],
    ['validation', validation],
  ] as const) {
    if (loader == null && name === 'validation') continue;
    if (typeof loader?.epoch !== 'function' || !Number.isInteger(loader.length)) {
      bad(`${name} must be a loader (a DataLoader over your dataset), got ${typeof loader}`);
    }
  }
  if (typeof options.loss !== 'function') bad('loss must be a function (output, target) => scalar tensor');
  if (!(optimizer instanceof torch.optim.Optimizer)) bad('optimizer must be a torch.optim optimizer (SGD, Adam, ...)');
  if (scheduler != null && (typeof scheduler.step !== 'function' || typeof scheduler.stateDict !== 'function')) {
    bad('scheduler must be a torch.optim learning-rate scheduler (StepLR, OneCycleLR, ...)');
  }
  const positive = (name: string, value: unknown) =>
    Number.isInteger(value) && (value as number) >= 1
      ? (value as number)
      : bad(`${name} must be a positive integer, got ${value}`);
  const interval = options.schedulerInterval ?? 'epoch';
  if (interval !== 'step' && interval !== 'epoch') bad(`schedulerInterval must be 'step' or 'epoch', got ${interval}`);
  const ema = options.ema ?? null;
  if (ema !== null && !(typeof ema === 'number' && ema > 0 && ema < 1)) bad(`ema must be in (0, 1), got ${ema}`);
  const precision = options.mixedPrecision ?? 'none';
  if (precision !== 'none' && precision !== 'bf16') bad(`mixedPrecision must be 'none' or 'bf16', got ${precision}`);
  const maxLoss = options.maxLoss ?? null;
  if (maxLoss !== null && !(typeof maxLoss === 'number' && maxLoss > 0)) {
    bad(`maxLoss must be a positive number, got ${maxLoss}`);
  }
  if (typeof options.runDir !== 'string' || options.runDir === '') bad('runDir must name a folder for the run');
  const own = options.config ?? {};
  let settings: Record<string, unknown>;
  try {
    settings = JSON.parse(JSON.stringify(own)) as Record<string, unknown>;
  } catch (error) {
    return bad(`config must hold JSON values (${(error as Error).message})`);
  }
  const named = (value: object) => value.constructor.name;
  return {
    trainer: 'senet.fit',
    model: { name: named(model), parameters: model.numParameters() },
    optimizer: { name: named(optimizer), defaults: JSON.parse(JSON.stringify(optimizer.defaults)) },
    scheduler: scheduler ? named(scheduler) : null,
    schedulerInterval: interval,
    epochs: positive('epochs', options.epochs),
    evalEvery: positive('evalEvery', options.evalEvery ?? 1),
    batchSize: train.batchSize,
    batchesPerEpoch: positive("the train loader's batches per epoch (length)", train.length),
    trainSize: train.dataset.length,
    validationSize: validation ? validation.dataset.length : null,
    accuracy: options.accuracy ?? true,
    ema,
    mixedPrecision: precision,
    maxLoss,
    config: settings,
  };
}

const hashOf = (config: FitConfig) => createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);

/** The new run's directory, or with `resume` the existing one (whose config.json must match). */
function openRun(options: FitOptions, config: FitConfig): RunDir {
  const fix = { resume: 'resume: true', out: 'runDir' };
  if (!options.resume) return RunDir.create(options.runDir, config as unknown as Record<string, unknown>, fix);
  const run = RunDir.open(options.runDir);
  const recorded = readJsonFile(run.file('config'), 'the run config') as Record<string, unknown>;
  if (recorded?.trainer !== 'senet.fit') {
    throw new Error(
      `fit(): ${run.path} is not a fit() run (its config.json was not written by fit); resume it as it was made`,
    );
  }
  const changed = Object.keys({ ...recorded, ...config }).filter(
    (key) => canonicalJson(recorded[key]) !== canonicalJson((config as unknown as Record<string, unknown>)[key]),
  );
  if (changed.length > 0) {
    const show = (v: unknown) => JSON.stringify(v) ?? 'nothing';
    throw new Error(
      `fit(): the run in ${run.path} was set up differently: ` +
        changed
          .map((k) => `${k} was ${show(recorded[k])}, now ${show((config as unknown as Record<string, unknown>)[k])}`)
          .join('; ') +
        '. Resume with the same model, optimizer, loaders and options, or start a new run in another runDir',
    );
  }
  return run;
}

/**
 * The model's mean loss (and accuracy, for classifiers) over every batch of `loader` (epoch 0), in eval
 * mode and without autograd; the model's train/eval modes are restored afterwards.
 */
export async function evaluateFit(
  model: nn.Module,
  loader: BatchLoader,
  loss: (output: torch.Tensor, target: torch.Tensor) => torch.Tensor,
  accuracy: boolean,
  onBatch?: (done: number, total: number) => void,
): Promise<FitEvaluation> {
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  let done = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      try {
        const size = batch.y.size(0);
        torch.noGrad(() =>
          torch.tidy(() => {
            const output = model.call(batch.x) as torch.Tensor;
            lossSum += loss(output, batch.y).item() * size;
            if (accuracy) correct += correctPredictions(output, batch.y);
          }),
        );
        count += size;
      } finally {
        torch.dispose(batch);
      }
      onBatch?.(++done, loader.length);
    }
    return {
      loss: count === 0 ? 0 : lossSum / count,
      accuracy: accuracy ? (count === 0 ? 0 : correct / count) : null,
      count,
    };
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
}
