// A training run, stage by stage: data preparation, augmentation, SE module and CNN design (the model
// is built right after seeding the default generator, so its initial weights depend on the seed alone),
// hyper-parameter tuning (skipped here), training (training-loop.ts) and the final evaluation. Each
// stage is recorded in the run's pipeline.json as it starts and ends; the run directory (run-dir.ts)
// fills as training goes. Aborting (Ctrl-C) stops after the current step with a resumable checkpoint.
import { availableParallelism } from 'node:os';
import * as torch from '../torch/index.js';
import { DataLoader, type TransformConfig } from '../data/index.js';
import type { Model } from '../models/index.js';
import type { TrainConfig } from './config.js';
import { loadData, describeData, type TrainingData } from './data.js';
import { buildModel, specFromConfig, type ModelContext } from './trained-model.js';
import { describeAttention, describeModel, summarize } from './model-design.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { findCheckpoint } from './checkpoint.js';
import { RunDir } from './run-dir.js';
import { Pipeline, type StageName } from './pipeline.js';
import { InterruptedError, type TrainEvent } from './events.js';
import { runTrainingLoop } from './training-loop.js';

export { InterruptedError, type TrainEvent } from './events.js';

export interface TrainRunOptions {
  /** A new run with this config (written to config.out or the given runDir). */
  config?: TrainConfig;
  /** Where a new run goes (default: config.out). */
  runDir?: string;
  /** Continue the run in this directory from its last checkpoint, with its own config. */
  resume?: string;
  /** libtorch threads (default: the config's, else every core); may differ when resuming. */
  threads?: number | null;
  /** When aborted, the run stops after the current step with a resumable checkpoint. */
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
  /** The data cache folder (default: $SENET_DATA or ~/.cache/senet). */
  cacheDir?: string;
}

export interface TrainResult {
  runDir: string;
  status: 'completed' | 'interrupted';
  /** Completed epochs and batches of the next one. */
  epoch: number;
  batch: number;
  bestAccuracy: number | null;
  /** The final evaluation (completed runs). */
  evaluation: Evaluation | null;
  /** The folder of the checkpoint to resume from, when there is one. */
  checkpoint: string | null;
}

/** Runs (or resumes) a training run to the end, or until aborted. */
export async function trainRun(options: TrainRunOptions): Promise<TrainResult> {
  const emit = (event: TrainEvent) => options.onEvent?.(event);
  const resuming = options.resume !== undefined;
  let run: RunDir;
  let config: TrainConfig;
  if (resuming) {
    run = RunDir.open(options.resume!);
    config = run.readConfig();
  } else {
    if (!options.config) throw new Error('trainRun: give a config for a new run, or resume a run directory');
    config = options.config;
    const path = options.runDir ?? config.out;
    if (!path) throw new Error('trainRun: the new run needs a directory (config.out or runDir)');
    run = RunDir.create(path, { ...config, out: path });
  }
  const threads = options.threads ?? config.threads ?? availableParallelism();
  torch.setNumThreads(threads);
  const pipeline = new Pipeline(run.file('pipeline'), { fresh: !resuming });
  const stage = <T>(name: StageName, fn: () => Promise<T> | T, summarize: (r: T) => Record<string, unknown>) => {
    emit({ type: 'stage', stage: name, status: 'running' });
    return pipeline.run(name, fn, summarize).then((r) => {
      emit({ type: 'stage', stage: name, status: 'done' });
      return r;
    }, (error) => {
      emit({ type: 'stage', stage: name, status: 'failed' });
      throw error;
    });
  };
  const checkAborted = () => {
    if (options.signal?.aborted) throw new InterruptedError(run.path, 0, 0, 'before training started');
  };

  // Built in the se-module-design stage; freed however the run ends.
  let model: Model | null = null;
  try {
    const data = await stage('data-preparation', () => loadData(config.data, {
      imageSize: config.imageSize, cacheDir: options.cacheDir,
      onProgress: (what, done, total) => emit({ type: 'data-progress', what, done, total }),
    }), describeData);
    checkAborted();

    const transforms = await stage('data-augmentation', () => makeTransforms(config, data), (t) => ({ ...t }));
    checkAborted();

    // The model is built right after seeding, so its initial weights depend on the seed alone.
    const spec = specFromConfig(config, data.imageShape, data.classes.length);
    const context: ModelContext = { classes: data.classes, mean: config.mean, std: config.std };
    const designed = await stage('se-module-design', () => {
      torch.manualSeed(config.seed);
      model = buildModel(spec);
      return { model, summary: summarize(model) };
    }, ({ model: built, summary: s }) => describeAttention(built, spec, s));
    const built = designed.model;
    await stage('cnn-model-design', () => designed.summary, (s) => describeModel(spec, built, s));
    pipeline.skip('hyperparameter-tuning', 'senet train uses the config as given (senet run --config tunes it)');
    emit({ type: 'stage', stage: 'hyperparameter-tuning', status: 'skipped' });
    checkAborted();

    const outcome = await stage('model-training',
      () => runTrainingLoop({ run, config, data, transforms, model: built, spec, context, threads, emit, signal: options.signal }),
      (o) => o.summary);

    const evaluation = await stage('evaluation', async () => {
      const result = outcome.finalEvaluation ?? await evaluateOn(built, data, transforms.test, config);
      run.writeEval({ ...result, epoch: config.epochs, checkpoint: 'last', bestAccuracy: outcome.bestAccuracy });
      return result;
    }, (e) => ({ accuracy: e.accuracy, loss: e.loss, count: e.count, perClass: Object.fromEntries(e.classes.map((c, i) => [c, e.perClass[i]])) }));
    emit({ type: 'done', runDir: run.path, evaluation, bestAccuracy: outcome.bestAccuracy });
    return {
      runDir: run.path, status: 'completed', epoch: config.epochs, batch: 0, bestAccuracy: outcome.bestAccuracy, evaluation,
      checkpoint: findCheckpoint(run.checkpoint('last')),
    };
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error;
    // The stage that was running records the interruption as its failure; earlier outputs stay.
    for (const s of pipeline.records) if (s.status === 'running') pipeline.fail(s.name, error);
    return {
      runDir: run.path, status: 'interrupted', epoch: error.epoch, batch: error.batch, bestAccuracy: null, evaluation: null,
      checkpoint: findCheckpoint(run.checkpoint('last')),
    };
  } finally {
    (model as Model | null)?.dispose();
  }
}

/** The train and test transforms: augmentation for training only; the same normalisation for both. */
function makeTransforms(config: TrainConfig, data: TrainingData): { train: TransformConfig; test: TransformConfig } {
  const channels = data.imageShape[0];
  if (config.mean.length !== channels) {
    throw new Error(`mean and std have ${config.mean.length} values but the images have ${channels} channel${channels > 1 ? 's' : ''}; give one value per channel`);
  }
  return {
    train: { augment: config.augment, mean: config.mean, std: config.std },
    test: { augment: 'none', mean: config.mean, std: config.std },
  };
}

async function evaluateOn(model: Model, data: TrainingData, transform: TransformConfig, config: TrainConfig,
  onBatch?: (done: number, total: number) => void): Promise<Evaluation> {
  const loader = new DataLoader(data.test, { batchSize: config.batchSize, transform });
  try {
    return await evaluate(model, loader, { onBatch });
  } finally {
    loader.dispose();
  }
}
