// A training run, stage by stage: data preparation, augmentation, SE module and CNN design (the model
// is built right after seeding the default generator, so its initial weights depend on the seed alone),
// hyper-parameter tuning (skipped unless a caller hands in a tuning hook, as `senet run` does), training
// (config-training.ts, on the one training loop of training-loop.ts) and the final evaluation. Each stage
// is recorded in the run's pipeline.json as it starts and ends; the run directory (run-dir.ts) fills as
// training goes. Aborting (Ctrl-C) stops after the current step with a resumable checkpoint. A
// fine-tuning run (config.pretrained) loads the pretrained weights right after building the model
// (pretrained.ts) when it starts, not when it resumes from a checkpoint, and records what became of the
// classifier in config.json (pretrainedClassifier: 'auto' becomes 'replace' or 'keep').
import { availableParallelism } from 'node:os';
import * as torch from '../torch/index.js';
import type { TransformConfig } from '../data/index.js';
import type { Model } from '../models/index.js';
import { configHash, type TrainConfig } from './config.js';
import { prepareData, describeData, inMemory, makeLoader, type PreparedData } from './data.js';
import { buildModel, specFromConfig, type ModelContext } from './trained-model.js';
import { describeAttention, describeModel, summarize } from './model-design.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { findCheckpoint } from './checkpoint.js';
import { RUN_FILES, RunDir, writeJsonAtomic } from './run-dir.js';
import { Pipeline, type StageName, type StageSummary } from './stages.js';
import { InterruptedError, type TrainEvent } from './events.js';
import { trainWithConfig } from './config-training.js';
import { whitenFirstLayer } from './whitening.js';
import { freezeBatchNormScales } from '../models/batchnorm-scale.js';
import { identityInitFastNet } from '../models/identity-init.js';
import { readKeyMapFile } from '../models/key-map.js';
import { writeAugmentationSamples } from './augmentation-samples.js';
import { describeSession, recordSession } from './environment.js';
import { loadPretrained, resolvePretrained, type PretrainedFile } from './pretrained.js';

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
  /** The hyper-parameter-tuning stage (default: skipped; training uses the config as given). */
  tune?: TuningHook;
  /**
   * Data-parallel training (the process group is already initialised): this process is `rank` of `worldSize`;
   * config.batchSize stays the global batch, each rank takes batchSize / worldSize of it.
   */
  distributed?: { rank: number; worldSize: number; syncBatchNorm?: boolean };
  /** A fingerprint of each stage's inputs, recorded as `summary.fingerprint` (`senet run` skips unchanged stages by it). */
  fingerprint?: (stage: StageName, config: TrainConfig) => string;
}

/** What the tuning stage decided: the config to train, and its summary; `skipped` gives the reason when it did no work. */
export interface TuningOutcome {
  config: TrainConfig;
  summary: StageSummary;
  skipped?: string;
}

/**
 * Runs in the hyper-parameter-tuning stage with the config so far (config.json of the run); throws
 * InterruptedError when the signal stops it.
 */
export type TuningHook = (input: {
  config: TrainConfig;
  signal?: AbortSignal;
  threads: number;
}) => Promise<TuningOutcome>;

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
  recordSession(run.file('environment'), describeSession(threads));
  const pipeline = new Pipeline(run.file('pipeline'), { fresh: !resuming });
  const stamp = (name: StageName, summary: StageSummary): StageSummary =>
    options.fingerprint ? { ...summary, fingerprint: options.fingerprint(name, config) } : summary;
  const stage = <T>(name: StageName, fn: () => Promise<T> | T, summarize: (r: T) => Record<string, unknown>) => {
    emit({ type: 'stage', stage: name, status: 'running' });
    return pipeline
      .run(name, fn, (r) => stamp(name, summarize(r)))
      .then(
        (r) => {
          emit({ type: 'stage', stage: name, status: 'done' });
          return r;
        },
        (error) => {
          emit({ type: 'stage', stage: name, status: 'failed' });
          throw error;
        },
      );
  };
  const checkAborted = () => {
    if (options.signal?.aborted) throw new InterruptedError(run.path, 0, 0, 'before training started');
  };

  // Built in the se-module-design stage; freed however the run ends.
  let model: Model | null = null;
  try {
    const data = await stage(
      'data-preparation',
      () =>
        prepareData(config.data, {
          imageSize: config.imageSize,
          cacheDir: options.cacheDir,
          dataMode: config.dataMode,
          augment: config.augment,
          onProgress: (what, done, total) => emit({ type: 'data-progress', what, done, total }),
        }),
      describeData,
    );
    checkAborted();

    let sampleImages = 0;
    let transforms = await stage(
      'data-augmentation',
      async () => {
        const made = makeTransforms(config, data);
        // Streamed data has no stored images to show before and after (its views are made as they are decoded).
        if (data.mode === 'memory') {
          sampleImages = await writeAugmentationSamples(
            run.file('samples'),
            data.train,
            made.train.augment,
            config.seed,
          );
        }
        return made;
      },
      (t) => ({ ...t, samples: { file: RUN_FILES.samples, images: sampleImages } }),
    );
    checkAborted();

    // The model is built right after seeding, so its initial weights depend on the seed alone.
    let spec = specFromConfig(config, data.imageShape, data.classes.length);
    let context: ModelContext = { classes: data.classes, mean: config.mean, std: config.std };
    // Resuming from a checkpoint, the weights come from it: the pretrained ones are loaded only at the start.
    const fromPretrained = config.pretrained !== null && !(resuming && findCheckpoint(run.checkpoint('last')) !== null);
    let pretrained: (PretrainedFile & { classifier: string }) | null = null;
    const loadPretrainedInto = async (designed: Model) => {
      const source = config.pretrained!;
      const found =
        pretrained ??
        (await resolvePretrained(source, {
          sha256: config.pretrainedSha256,
          cacheDir: options.cacheDir,
          onProgress: (done, total) => emit({ type: 'data-progress', what: 'Pretrained weights', done, total }),
        }));
      const what = found.kind === 'file' ? found.file : `${source} (${found.file})`;
      const load = loadPretrained(designed, found.file, {
        what,
        classifier: config.pretrainedClassifier,
        allowNonfinite: config.pretrainedAllowNonfinite,
        ...(config.pretrainedKeyMap === null ? {} : { keyMap: readKeyMapFile(config.pretrainedKeyMap) }),
      });
      pretrained = { ...found, classifier: load.summary };
      const replaced = load.classifier.replaced;
      emit({ type: 'pretrained', source, file: found.file, classifierReplaced: replaced, message: load.message });
      // config.json says what became of the classifier ('auto' resolved: the config reproduces the run).
      if (config.pretrainedClassifier !== load.decision) {
        config = { ...config, pretrainedClassifier: load.decision };
        writeJsonAtomic(run.file('config'), config);
      }
    };
    const design = async (): Promise<Model> => {
      torch.manualSeed(config.seed);
      const designed = buildModel(spec);
      model = designed;
      if (fromPretrained) await loadPretrainedInto(designed);
      if (config.identityInit) identityInitFastNet(designed);
      if (config.whiten) await whitenFirstLayer(designed, inMemory(data, 'whiten').train, transforms.test);
      if (config.freezeBnScale && freezeBatchNormScales(designed) === 0) {
        throw new Error(`freezeBnScale: '${config.model}' has no BatchNorm layers with a scale to freeze`);
      }
      return designed;
    };
    const designed = await stage(
      'se-module-design',
      async () => {
        const built = await design();
        return { model: built, summary: summarize(built) };
      },
      ({ model: built, summary: s }) => ({
        ...describeAttention(built, spec, s),
        ...(pretrained ? { pretrained } : {}),
      }),
    );
    let built = designed.model;
    await stage(
      'cnn-model-design',
      () => designed.summary,
      (s) => describeModel(spec, built, s),
    );
    if (options.tune) {
      const tuned = await tuningStage(options.tune);
      if (tuned.ran || configHash(tuned.config) !== configHash(config)) {
        // Trials ran in this process and drew from the default generator: the tuned config's model is
        // built again right after seeding, so training starts exactly as `senet train` of that config.
        config = { ...tuned.config, out: config.out };
        writeJsonAtomic(run.file('config'), config);
        transforms = makeTransforms(config, data);
        spec = specFromConfig(config, data.imageShape, data.classes.length);
        context = { classes: data.classes, mean: config.mean, std: config.std };
        built.dispose();
        model = null;
        built = await design();
        torch.setNumThreads(threads);
      }
    } else {
      pipeline.skip('hyperparameter-tuning', 'senet train uses the config as given (senet run --config tunes it)');
      emit({ type: 'stage', stage: 'hyperparameter-tuning', status: 'skipped' });
    }
    checkAborted();

    const trained = built;
    const outcome = await stage(
      'model-training',
      () =>
        trainWithConfig({
          run,
          config,
          data,
          transforms,
          model: trained,
          spec,
          context,
          threads,
          emit,
          signal: options.signal,
          distributed: options.distributed,
        }),
      (o) => o.summary,
    );

    const evaluation = await stage(
      'evaluation',
      async () => {
        const result = outcome.finalEvaluation ?? (await evaluateOn(trained, data, transforms.test, config));
        run.writeEval({ ...result, epoch: config.epochs, checkpoint: 'last', bestAccuracy: outcome.bestAccuracy });
        return result;
      },
      (e) => ({
        accuracy: e.accuracy,
        loss: e.loss,
        count: e.count,
        perClass: Object.fromEntries(e.classes.map((c, i) => [c, e.perClass[i]])),
      }),
    );
    emit({ type: 'done', runDir: run.path, evaluation, bestAccuracy: outcome.bestAccuracy });
    return {
      runDir: run.path,
      status: 'completed',
      epoch: config.epochs,
      batch: 0,
      bestAccuracy: outcome.bestAccuracy,
      evaluation,
      checkpoint: findCheckpoint(run.checkpoint('last')),
    };
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error;
    // The stage that was running records the interruption as its failure; earlier outputs stay.
    for (const s of pipeline.records) if (s.status === 'running') pipeline.fail(s.name, error);
    return {
      runDir: run.path,
      status: 'interrupted',
      epoch: error.epoch,
      batch: error.batch,
      bestAccuracy: null,
      evaluation: null,
      checkpoint: findCheckpoint(run.checkpoint('last')),
    };
  } finally {
    (model as Model | null)?.dispose();
  }

  /** The tuning stage around the hook: running, then done (or skipped, when the hook did no work) or failed. */
  async function tuningStage(hook: TuningHook): Promise<{ config: TrainConfig; ran: boolean }> {
    const name = 'hyperparameter-tuning';
    emit({ type: 'stage', stage: name, status: 'running' });
    pipeline.start(name);
    let outcome: TuningOutcome;
    try {
      outcome = await hook({ config, signal: options.signal, threads });
    } catch (error) {
      pipeline.fail(name, error);
      emit({ type: 'stage', stage: name, status: 'failed' });
      throw error;
    }
    if (outcome.skipped !== undefined) {
      pipeline.skip(name, outcome.skipped, stamp(name, outcome.summary));
      emit({ type: 'stage', stage: name, status: 'skipped' });
    } else {
      pipeline.done(name, stamp(name, outcome.summary));
      emit({ type: 'stage', stage: name, status: 'done' });
    }
    return { config: outcome.config, ran: outcome.skipped === undefined };
  }
}

/** The train and test transforms: augmentation for training only; the same normalisation for both. */
function makeTransforms(config: TrainConfig, data: PreparedData): { train: TransformConfig; test: TransformConfig } {
  const channels = data.imageShape[0];
  if (config.mean.length !== channels) {
    throw new Error(
      `mean and std have ${config.mean.length} values but the images have ${channels} channel${channels > 1 ? 's' : ''}; give one value per channel`,
    );
  }
  return {
    train: { augment: config.augment, mean: config.mean, std: config.std },
    test: { augment: 'none', mean: config.mean, std: config.std },
  };
}

async function evaluateOn(
  model: Model,
  data: PreparedData,
  transform: TransformConfig,
  config: TrainConfig,
  onBatch?: (done: number, total: number) => void,
): Promise<Evaluation> {
  const loader = makeLoader(data, 'test', { batchSize: config.batchSize, transform });
  try {
    return await evaluate(model, loader, {
      onBatch,
      tta: config.tta,
      mixedPrecision: config.mixedPrecision,
      memoryFormat: config.memoryFormat,
    });
  } finally {
    loader.dispose();
  }
}
