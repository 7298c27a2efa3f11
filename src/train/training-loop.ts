// How the epochs of a run are trained and checkpointed. Each step — forward, cross-entropy (with label
// smoothing), zeroGrad, backward, optimizer step, schedule step — runs in a tidy scope. After each epoch:
// evaluation on the test split (when due), a metrics line, `best` (if the accuracy improved) and `last`
// checkpoints. A checkpoint carries everything the next step depends on besides the config — weights,
// optimizer and schedule state, the default generator's RNG state, the position (epoch, batch) and the
// unfinished epoch's running totals — and the loader replays any epoch from any batch exactly, so that
// resuming gives bit for bit the weights and metrics of an uninterrupted run.
// Options of the config: mixed precision runs each step's forward and loss under bfloat16 autocast (the
// backward pass follows the dtypes autocast chose, as in PyTorch); a weight average (ema.ts) is updated
// after every optimizer step, and it is what is evaluated, checkpointed as model.safetensors and left in
// the model at the end; evaluation applies the config's test-time augmentation. Fine-tuning may freeze
// the backbone for the first freezeBackboneEpochs epochs (pretrained.ts' BackboneFreeze): the optimizer
// holds every parameter throughout, and frozen ones simply take no gradient, so the optimizer state and
// the checkpoints keep one layout before and after the backbone is unfrozen.
import { join } from 'node:path';
import * as torch from '../torch/index.js';
import type { BatchSource, Batch, TransformConfig } from '../data/index.js';
import type { Model } from '../models/index.js';
import { configHash, type TrainConfig } from './config.js';
import { makeLoader, type PreparedData } from './data.js';
import { weightsMetadata, type ModelContext, type ModelSpec } from './trained-model.js';
import { buildOptimizer, buildScheduler, currentLr } from './optimization.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { ModelEma } from './ema.js';
import { inMemoryFormat, useMemoryFormat } from '../models/memory-format.js';
import {
  findCheckpoint,
  loadTrainerState,
  readCheckpoint,
  recoverCheckpoint,
  saveCheckpoint,
  WEIGHTS_FILE,
  type EpochTotals,
  type TrainerState,
} from './checkpoint.js';
import type { CheckpointName, EpochMetrics, RunDir } from './run-dir.js';
import { InterruptedError, type EmitEvent } from './events.js';
import { BackboneFreeze } from './pretrained.js';
import { classifierName } from '../models/classifier.js';

type Optimizer = torch.optim.Optimizer<torch.optim.HyperParams>;

export interface TrainingLoopInput {
  run: RunDir;
  config: TrainConfig;
  data: PreparedData;
  transforms: { train: TransformConfig; test: TransformConfig };
  model: Model;
  spec: ModelSpec;
  context: ModelContext;
  threads: number;
  emit: EmitEvent;
  /** When aborted, training stops after the current step with a mid-epoch checkpoint (InterruptedError). */
  signal?: AbortSignal;
}

export interface TrainingOutcome {
  bestAccuracy: number | null;
  /** The evaluation after the last epoch, when this session made it. */
  finalEvaluation: Evaluation | null;
  /** The model-training stage's summary for pipeline.json. */
  summary: Record<string, unknown>;
}

/** Where training stands: epoch (from 0) in progress, batches of it done, its running totals. */
interface Position {
  epoch: number;
  batch: number;
  totals: EpochTotals;
}

const zeroTotals = (): EpochTotals => ({ lossSum: 0, correct: 0, seen: 0 });

/** Trains from the run's last checkpoint (or from the start) to the last epoch. */
export async function runTrainingLoop(input: TrainingLoopInput): Promise<TrainingOutcome> {
  const loop = new TrainingLoop(input);
  try {
    return await loop.run();
  } finally {
    loop.dispose();
  }
}

class TrainingLoop {
  private readonly trainLoader: BatchSource;
  private readonly testLoader: BatchSource;
  private readonly optimizer: Optimizer;
  private readonly scheduler: torch.optim.Scheduler | null;
  private readonly batches: number;
  private readonly hash: string;
  /** The weight average, when the config asks for one. */
  private readonly ema: ModelEma | null;
  /** The backbone's freezing, when the config freezes it for some first epochs. */
  private readonly freeze: BackboneFreeze | null;
  /** Whether the backbone is frozen now (null: not yet set this session). */
  private frozen: boolean | null = null;
  private best: number | null = null;
  private hasCheckpoint = false;

  constructor(private readonly input: TrainingLoopInput) {
    const { config, data, transforms, model } = input;
    this.hash = configHash(config);
    this.trainLoader = makeLoader(data, 'train', {
      batchSize: config.batchSize,
      shuffle: config.shuffle,
      transform: transforms.train,
      seed: config.seed,
      colorJitter: config.colorJitter,
    });
    this.testLoader = makeLoader(data, 'test', { batchSize: config.batchSize, transform: transforms.test });
    this.batches = this.trainLoader.length;
    // Before the optimizer and the average are made, so that their state takes the same layout.
    useMemoryFormat(model, config.memoryFormat);
    this.optimizer = buildOptimizer(model, config);
    this.scheduler = buildScheduler(this.optimizer, config, this.batches);
    this.ema = config.ema === null ? null : new ModelEma(model, config.ema);
    this.freeze = config.freezeBackboneEpochs > 0 ? new BackboneFreeze(model) : null;
  }

  async run(): Promise<TrainingOutcome> {
    const { run, config, data, emit } = this.input;
    const start = this.resume();
    const resumedAt = this.hasCheckpoint ? { epoch: start.epoch + 1, batch: start.batch } : null;
    emit({
      type: 'start',
      runDir: run.path,
      config,
      threads: this.input.threads,
      trainSize: data.train.length,
      testSize: data.test.length,
      batchesPerEpoch: this.batches,
      resumedAt,
    });
    let finalEvaluation: Evaluation | null = null;
    for (
      let position = start;
      position.epoch < config.epochs;
      position = { epoch: position.epoch + 1, batch: 0, totals: zeroTotals() }
    ) {
      const evaluation = await this.trainEpoch(position);
      if (position.epoch + 1 === config.epochs) finalEvaluation = evaluation;
      if (this.input.signal?.aborted && position.epoch + 1 < config.epochs) {
        emit({ type: 'interrupted', runDir: run.path, epoch: position.epoch + 2, batch: 0, batches: this.batches });
        throw new InterruptedError(run.path, position.epoch + 1, 0, `after epoch ${position.epoch + 1}`);
      }
    }
    // The trained model is the one evaluated and saved: the average, when there is one.
    this.ema?.copyTo(this.input.model);
    this.freeze?.apply(false); // left trainable (freezeBackboneEpochs may equal epochs)
    return { bestAccuracy: this.best, finalEvaluation, summary: this.summary(resumedAt) };
  }

  dispose(): void {
    this.ema?.dispose();
    this.optimizer.dispose();
    this.trainLoader.dispose();
    this.testLoader.dispose();
  }

  /** Puts back the state of the last checkpoint, if there is one; returns where to continue. */
  private resume(): Position {
    const { run } = this.input;
    recoverCheckpoint(run.checkpoint('last'));
    recoverCheckpoint(run.checkpoint('best'));
    const folder = findCheckpoint(run.checkpoint('last'));
    let position: Position = { epoch: 0, batch: 0, totals: zeroTotals() };
    if (folder) {
      const state = this.restore(folder);
      this.hasCheckpoint = true;
      this.best = state.bestAccuracy;
      position = { epoch: state.epoch, batch: state.batch, totals: { ...state.epochTotals } };
    }
    run.keepMetricsOfEpochs(position.epoch); // lines of work about to be redone go
    return position;
  }

  /** Loads a checkpoint into the model, optimizer, schedule and default generator; returns its trainer state. */
  private restore(folder: string): TrainerState {
    readCheckpoint(folder);
    const state = loadTrainerState(folder);
    try {
      if (state.configHash !== this.hash) {
        throw new Error(
          `the checkpoint ${folder} was written under another config (hash ${state.configHash}; this run's config.json ` +
            `gives ${this.hash}): config.json was changed after the run started; restore it, or start a new run`,
        );
      }
      const weights = torch.io.loadSafetensors(join(folder, WEIGHTS_FILE)).tensors;
      try {
        if (this.ema) {
          if (!state.ema)
            throw new Error(
              `the checkpoint ${folder} has no weight average, but the config averages weights (ema ${this.input.config.ema})`,
            );
          this.input.model.loadStateDict(state.ema.trainingWeights);
          this.ema.loadStateDict(weights, state.ema.updates);
        } else {
          this.input.model.loadStateDict(weights);
        }
      } finally {
        torch.dispose(weights);
      }
      this.optimizer.loadStateDict(state.optimizer);
      if (this.scheduler && state.scheduler) this.scheduler.loadStateDict(state.scheduler);
      torch.setRngState(state.rngState);
      return state;
    } finally {
      torch.dispose([state.rngState, state.optimizer, state.ema?.trainingWeights]);
    }
  }

  /** Trains one epoch from `position`, then evaluates, records and checkpoints it; returns its evaluation. */
  private async trainEpoch(position: Position): Promise<Evaluation | null> {
    const { model, config, emit, signal, run } = this.input;
    const { epoch, totals } = position;
    emit({
      type: 'epoch-start',
      epoch: epoch + 1,
      epochs: config.epochs,
      batches: this.batches,
      startBatch: position.batch,
    });
    model.train();
    this.setBackboneFrozen(epoch);
    const started = performance.now();
    let images = 0;
    let lastLr = currentLr(this.optimizer);
    for await (const batch of this.trainLoader.epoch(epoch, { startBatch: position.batch })) {
      const size = batch.y.size(0);
      lastLr = currentLr(this.optimizer);
      const { loss, correct } = this.step(batch, epoch);
      totals.lossSum += loss * size;
      totals.correct += correct;
      totals.seen += size;
      images += size;
      emit({
        type: 'batch',
        epoch: epoch + 1,
        epochs: config.epochs,
        batch: batch.index + 1,
        batches: this.batches,
        loss,
        imagesPerSecond: images / ((performance.now() - started) / 1000),
      });
      if (signal?.aborted) {
        this.save('last', { epoch, batch: batch.index + 1, totals }, null);
        emit({
          type: 'interrupted',
          runDir: run.path,
          epoch: epoch + 1,
          batch: batch.index + 1,
          batches: this.batches,
        });
        throw new InterruptedError(
          run.path,
          epoch,
          batch.index + 1,
          `at epoch ${epoch + 1}, batch ${batch.index + 1} of ${this.batches}`,
        );
      }
    }
    const trainSeconds = (performance.now() - started) / 1000;

    const due = (epoch + 1) % config.evalEvery === 0 || epoch + 1 === config.epochs;
    const evaluation = due ? await this.evaluate(epoch) : null;
    const improved = evaluation !== null && (this.best === null || evaluation.accuracy > this.best);
    if (improved) this.best = evaluation.accuracy;
    const metrics: EpochMetrics = {
      epoch: epoch + 1,
      train_loss: totals.seen === 0 ? 0 : totals.lossSum / totals.seen,
      train_acc: totals.seen === 0 ? 0 : totals.correct / totals.seen,
      test_loss: evaluation?.loss ?? null,
      test_acc: evaluation?.accuracy ?? null,
      lr: lastLr,
      seconds: (performance.now() - started) / 1000,
      images_per_s: trainSeconds > 0 ? images / trainSeconds : 0,
    };
    // Metrics first, then checkpoints (best before last): a kill in between is repaired on resume,
    // which redoes the epoch from the previous `last` and drops its metrics line.
    run.appendMetrics(metrics);
    const next = { epoch: epoch + 1, batch: 0, totals: zeroTotals() };
    if (improved) this.save('best', next, evaluation.accuracy);
    this.save('last', next, evaluation?.accuracy ?? null);
    emit({ type: 'epoch', epochs: config.epochs, metrics, improved });
    return evaluation;
  }

  /** Freezes the backbone in the first freezeBackboneEpochs epochs (after model.train()); says when that changes. */
  private setBackboneFrozen(epoch: number): void {
    if (!this.freeze) return;
    const { config, model, emit } = this.input;
    const frozen = epoch < config.freezeBackboneEpochs;
    this.freeze.apply(frozen);
    if (frozen === this.frozen) return;
    this.frozen = frozen;
    const last = config.freezeBackboneEpochs;
    const message = frozen
      ? `Backbone frozen for epoch${last > 1 ? `s 1-${last}` : ' 1'}: ` +
        `only the classifier ${classifierName(model)} trains`
      : `Backbone unfrozen after epoch ${last}: every layer trains`;
    emit({ type: 'backbone', epoch: epoch + 1, frozen, message });
  }

  /** The test-split evaluation of the model (its weight average, if any), with the config's TTA and precision. */
  private async evaluate(epoch: number): Promise<Evaluation> {
    const { model, config, emit } = this.input;
    const run = () =>
      evaluate(model, this.testLoader, {
        tta: config.tta,
        mixedPrecision: config.mixedPrecision,
        memoryFormat: config.memoryFormat,
        onBatch: (done, total) => emit({ type: 'eval-progress', epoch: epoch + 1, done, total }),
      });
    return this.ema ? this.ema.withAveraged(model, run) : run();
  }

  /** One optimization step on a batch (which it frees); returns the batch's loss and correct predictions. */
  private step(batch: Batch, epoch: number): { loss: number; correct: number } {
    const { model, config } = this.input;
    const forward = () => {
      const logits = model.call(inMemoryFormat(batch.x, config.memoryFormat));
      return { logits, loss: torch.F.crossEntropy(logits, batch.y, { labelSmoothing: config.labelSmoothing }) };
    };
    try {
      return torch.tidy(() => {
        const { logits, loss } = config.mixedPrecision === 'bf16' ? torch.autocast(forward) : forward();
        const value = loss.item();
        if (!Number.isFinite(value)) throw this.divergence(value, epoch, batch.index);
        this.optimizer.zeroGrad();
        loss.backward();
        this.optimizer.step();
        this.scheduler?.step();
        this.ema?.update(model);
        return { loss: value, correct: logits.argmax(1).eq(batch.y).sum().item() };
      });
    } finally {
      torch.dispose(batch);
    }
  }

  private save(name: CheckpointName, position: Position, testAccuracy: number | null): void {
    const { model, spec, context, run } = this.input;
    const rngState = torch.getRngState();
    try {
      saveCheckpoint(run.checkpoint(name), {
        weights: this.ema ? this.ema.stateDict() : model.stateDict(),
        weightsMetadata: weightsMetadata(spec, context),
        testAccuracy,
        trainer: {
          epoch: position.epoch,
          batch: position.batch,
          epochTotals: position.totals,
          bestAccuracy: this.best,
          configHash: this.hash,
          optimizer: this.optimizer.stateDict(),
          scheduler: this.scheduler?.stateDict() ?? null,
          rngState,
          ema: this.ema && { updates: this.ema.updates, trainingWeights: model.stateDict() },
        },
      });
    } finally {
      rngState.dispose();
    }
    if (name === 'last') this.hasCheckpoint = true;
  }

  private divergence(value: number, epoch: number, batch: number): Error {
    const { config, run } = this.input;
    const kept = this.hasCheckpoint
      ? `the last good checkpoint is kept in ${run.checkpoint('last')}`
      : 'no checkpoint had been written yet';
    return new Error(
      `training diverged: the loss is ${value} at epoch ${epoch + 1}/${config.epochs}, batch ${batch + 1}/${this.batches}; ` +
        `${kept}. Try a lower learning rate (--lr, now ${config.lr}) or a warmup (--warmup-epochs).`,
    );
  }

  /** The model-training stage's summary, from the whole metrics history (all sessions of the run). */
  private summary(resumedAt: { epoch: number; batch: number } | null): Record<string, unknown> {
    const { run, config } = this.input;
    const history = run.readMetrics();
    const bestLine = history
      .filter((m) => m.test_acc !== null)
      .reduce<EpochMetrics | null>((b, m) => (b === null || m.test_acc! > b.test_acc! ? m : b), null);
    return {
      epochs: config.epochs,
      batchesPerEpoch: this.batches,
      finalAccuracy: history.at(-1)?.test_acc ?? null,
      bestAccuracy: this.best,
      bestEpoch: bestLine?.epoch ?? null,
      finalTrainLoss: history.at(-1)?.train_loss ?? null,
      seconds: history.reduce((s, m) => s + m.seconds, 0),
      resumedAt,
      checkpoint: join(run.checkpoint('last'), WEIGHTS_FILE),
    };
  }
}
