// The one training loop: `senet train` (config-training.ts puts a config's loaders, optimizer, schedule,
// weight average and backbone freezing into it) and fit() (fit.ts, any nn.Module with the caller's loss,
// optimizer and schedule) both run it. Each step — forward and loss (under bfloat16 autocast when asked),
// zeroGrad, backward, optimizer step, schedule step when it is stepped per batch, weight-average update —
// runs in a tidy scope. After each epoch: the schedule step when it is stepped per epoch, evaluation on the
// validation data (when due), a metrics line, `best` (when the validation accuracy rose, or without
// accuracy the validation loss fell) and `last` checkpoints. A checkpoint carries everything the next step
// depends on besides the config — weights, optimizer and schedule state, the default generator's RNG
// state, the position (epoch, batch) and the unfinished epoch's running totals — and the loaders replay any
// epoch from any batch exactly, so that resuming gives bit for bit the weights and metrics of an
// uninterrupted run. With a weight average (ema.ts), the average is what is evaluated, checkpointed as
// model.safetensors and left in the model at the end.
import { join } from 'node:path';
import * as torch from '../torch/index.js';
import type { nn } from '../torch/index.js';
import type { Batch, BatchLoader } from '../data/index.js';
import { currentLr } from './optimization.js';
import type { ModelEma } from './ema.js';
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
import { InterruptedError, type TrainEvent } from './events.js';

export type Optimizer = torch.optim.Optimizer<torch.optim.HyperParams>;

/** What an evaluation on the validation data reports; the loop reads its loss and accuracy. */
export interface Validation {
  /** The mean loss over the samples. */
  loss: number;
  /** The fraction classified correctly; null when the model is not a classifier. */
  accuracy: number | null;
}

/** Hooks into the loop, called in this order; each is optional. Epochs count from 0. */
export interface TrainingCallbacks {
  /** At the start of each epoch, after model.train() and before its first batch. */
  onEpochStart?(epoch: number): void;
  /** After each optimizer step: `batch` batches of the epoch are done; the batch's loss. */
  onStep?(step: { epoch: number; batch: number; loss: number }): void;
  /** After each epoch's metrics line and checkpoints. */
  onEpochEnd?(epoch: number, metrics: EpochMetrics, improved: boolean): void;
  /** Once, after the last epoch (the weight average, if any, is then in the model). */
  onTrainEnd?(): void;
}

export interface TrainingLoopInput<C, E extends Validation> {
  run: RunDir;
  /** The run's config as config.json holds it (the start event carries it). */
  config: C;
  /** A hash of the config, stored in checkpoints: a checkpoint of another config is not resumed. */
  configHash: string;
  model: nn.Module;
  train: BatchLoader;
  /** Evaluates the model on the validation data (`size` samples), reporting progress; null: no validation. */
  validation: { size: number; evaluate: (onBatch: (done: number, total: number) => void) => Promise<E> } | null;
  epochs: number;
  /** Evaluate after every `evalEvery` epochs, and after the last. */
  evalEvery: number;
  optimizer: Optimizer;
  scheduler: torch.optim.Scheduler | null;
  /** When the scheduler steps: after every optimizer step, or after every epoch. */
  schedulerInterval: 'step' | 'epoch';
  /** A batch's loss from the model's output and the batch's targets: a scalar tensor. */
  loss: (output: torch.Tensor, target: torch.Tensor) => torch.Tensor;
  /** The loss is a sum over the batch, not a mean: it is divided by the batch size for reports and maxLoss. */
  lossSummed?: boolean;
  /** The model's output for a batch of inputs (default: model.call(x)). */
  forward?: (x: torch.Tensor) => torch.Tensor;
  /** Runs forward and loss under CPU bfloat16 autocast. */
  autocast: boolean;
  /** Count training accuracy: the outputs are [B, C] scores and the targets [B] class indices. */
  accuracy: boolean;
  ema: ModelEma | null;
  /** Strings for model.safetensors' metadata (what the weights are for). */
  weightsMetadata?: Record<string, string>;
  /** A loss above maxLoss (or not finite) stops training with an error naming `limitName` and ending in `hint`. */
  divergence: { maxLoss: number | null; limitName: string; hint: string };
  callbacks: readonly TrainingCallbacks[];
  threads: number;
  emit: (event: TrainEvent<C, E>) => void;
  /** When aborted, training stops after the current step with a mid-epoch checkpoint (InterruptedError). */
  signal?: AbortSignal;
  /** How to resume, for InterruptedError's message (default: senet train --resume). */
  resumeHint?: string;
}

export interface TrainingOutcome<E> {
  bestAccuracy: number | null;
  /** The best validation loss, when the model is not scored by accuracy. */
  bestLoss: number | null;
  /** The evaluation after the last epoch, when this session made it. */
  finalEvaluation: E | null;
  /** The summary of training for pipeline.json. */
  summary: Record<string, unknown>;
}

/** Where training stands: epoch (from 0) in progress, batches of it done, its running totals. */
interface Position {
  epoch: number;
  batch: number;
  totals: EpochTotals;
}

const zeroTotals = (): EpochTotals => ({ lossSum: 0, correct: 0, seen: 0 });

/** This process's place in a data-parallel group (rank 0 of 1 without one). */
function replicas(): { rank: number; worldSize: number } {
  const dist = torch.distributed;
  return dist.isInitialized() ? { rank: dist.getRank(), worldSize: dist.getWorldSize() } : { rank: 0, worldSize: 1 };
}

/** An epoch's running totals summed over the ranks (every rank calls it): the whole group's loss and accuracy. */
async function totalsOverRanks(totals: EpochTotals): Promise<EpochTotals> {
  const flat = torch.keep(torch.tensor([totals.lossSum, totals.correct, totals.seen], { dtype: 'float64' }));
  try {
    await torch.distributed.allReduce(flat, 'sum');
    const [lossSum, correct, seen] = flat.toArray() as number[];
    return { lossSum, correct, seen };
  } finally {
    flat.dispose();
  }
}

/** Trains from the run's last checkpoint (or from the start) to the last epoch. */
export async function runTrainingLoop<C, E extends Validation>(
  input: TrainingLoopInput<C, E>,
): Promise<TrainingOutcome<E>> {
  return new TrainingLoop(input).run();
}

/** How many of a batch's predictions (arg-max of [B, C] outputs) equal its class indices. */
export function correctPredictions(output: torch.Tensor, target: torch.Tensor): number {
  if (output.ndim !== 2 || target.ndim !== 1 || target.isFloatingPoint() || target.size(0) !== output.size(0)) {
    throw new Error(
      `accuracy needs outputs [B, C] and integer targets [B] (class indices), got outputs [${output.shape.join(', ')}] ` +
        `and ${target.dtype} targets [${target.shape.join(', ')}]; for other models turn accuracy off (accuracy: false)`,
    );
  }
  return torch.tidy(() => output.argmax(1).eq(target).sum().item());
}

class TrainingLoop<C, E extends Validation> {
  private readonly batches: number;
  private best: number | null = null;
  private bestLoss: number | null = null;
  private hasCheckpoint = false;

  constructor(private readonly input: TrainingLoopInput<C, E>) {
    this.batches = input.train.length;
  }

  async run(): Promise<TrainingOutcome<E>> {
    const { run, config, epochs, emit, callbacks } = this.input;
    const start = this.resume();
    const resumedAt = this.hasCheckpoint ? { epoch: start.epoch + 1, batch: start.batch } : null;
    emit({
      type: 'start',
      runDir: run.path,
      config,
      threads: this.input.threads,
      trainSize: this.input.train.dataset.length,
      testSize: this.input.validation?.size ?? 0,
      batchesPerEpoch: this.batches,
      resumedAt,
    });
    let finalEvaluation: E | null = null;
    for (
      let position = start;
      position.epoch < epochs;
      position = { epoch: position.epoch + 1, batch: 0, totals: zeroTotals() }
    ) {
      const evaluation = await this.trainEpoch(position);
      if (position.epoch + 1 === epochs) finalEvaluation = evaluation;
      if (this.input.signal?.aborted && position.epoch + 1 < epochs) {
        emit({ type: 'interrupted', runDir: run.path, epoch: position.epoch + 2, batch: 0, batches: this.batches });
        throw this.interrupted(position.epoch + 1, 0, `after epoch ${position.epoch + 1}`);
      }
    }
    // The trained model is the one evaluated and saved: the average, when there is one.
    this.input.ema?.copyTo(this.input.model);
    for (const c of callbacks) c.onTrainEnd?.();
    return {
      bestAccuracy: this.best,
      bestLoss: this.bestLoss,
      finalEvaluation,
      summary: this.summary(resumedAt),
    };
  }

  private interrupted(epoch: number, batch: number, where: string): InterruptedError {
    return new InterruptedError(this.input.run.path, epoch, batch, where, this.input.resumeHint);
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
      this.bestLoss = state.bestLoss ?? null;
      // The checkpoint is rank 0's, and so are its running totals: the other ranks count their own from here.
      const totals = replicas().rank === 0 ? { ...state.epochTotals } : zeroTotals();
      position = { epoch: state.epoch, batch: state.batch, totals };
    }
    run.keepMetricsOfEpochs(position.epoch); // lines of work about to be redone go
    return position;
  }

  /** Loads a checkpoint into the model, optimizer, schedule and default generator; returns its trainer state. */
  private restore(folder: string): TrainerState {
    const { model, optimizer, scheduler, ema, configHash } = this.input;
    readCheckpoint(folder);
    const state = loadTrainerState(folder);
    try {
      if (state.configHash !== configHash) {
        throw new Error(
          `the checkpoint ${folder} was written under another config (hash ${state.configHash}; this run's config.json ` +
            `gives ${configHash}): config.json was changed after the run started; restore it, or start a new run`,
        );
      }
      const weights = torch.io.loadSafetensors(join(folder, WEIGHTS_FILE)).tensors;
      try {
        if (ema) {
          if (!state.ema) {
            throw new Error(
              `the checkpoint ${folder} has no weight average, but the run averages weights (ema ${ema.decay})`,
            );
          }
          model.loadStateDict(state.ema.trainingWeights);
          ema.loadStateDict(weights, state.ema.updates);
        } else {
          model.loadStateDict(weights);
        }
      } finally {
        torch.dispose(weights);
      }
      optimizer.loadStateDict(state.optimizer);
      if (scheduler && state.scheduler) scheduler.loadStateDict(state.scheduler);
      torch.setRngState(state.rngState);
      return state;
    } finally {
      torch.dispose([state.rngState, state.optimizer, state.ema?.trainingWeights]);
    }
  }

  /** Trains one epoch from `position`, then evaluates, records and checkpoints it; returns its evaluation. */
  private async trainEpoch(position: Position): Promise<E | null> {
    const { model, epochs, emit, signal, run, callbacks, optimizer, scheduler } = this.input;
    const { epoch, totals } = position;
    emit({ type: 'epoch-start', epoch: epoch + 1, epochs, batches: this.batches, startBatch: position.batch });
    model.train();
    for (const c of callbacks) c.onEpochStart?.(epoch);
    const started = performance.now();
    // Every rank of a data-parallel group takes the same number of steps of the same size: the group's
    // images are this rank's times the ranks.
    const { worldSize } = replicas();
    let images = 0;
    let lastLr = currentLr(optimizer);
    for await (const batch of this.input.train.epoch(epoch, { startBatch: position.batch })) {
      const size = batch.y.size(0);
      lastLr = currentLr(optimizer);
      const { loss, correct } = this.step(batch, epoch);
      totals.lossSum += loss * size;
      totals.correct += correct;
      totals.seen += size;
      images += size * worldSize;
      for (const c of callbacks) c.onStep?.({ epoch, batch: batch.index + 1, loss });
      run.appendStep({
        epoch: epoch + 1,
        batch: batch.index + 1,
        step: epoch * this.batches + batch.index + 1,
        loss,
        lr: lastLr,
      });
      emit({
        type: 'batch',
        epoch: epoch + 1,
        epochs,
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
        throw this.interrupted(
          epoch,
          batch.index + 1,
          `at epoch ${epoch + 1}, batch ${batch.index + 1} of ${this.batches}`,
        );
      }
    }
    if (this.input.schedulerInterval === 'epoch') scheduler?.step();
    const trainSeconds = (performance.now() - started) / 1000;
    const epochTotals = worldSize > 1 ? await totalsOverRanks(totals) : totals;

    const due = (epoch + 1) % this.input.evalEvery === 0 || epoch + 1 === epochs;
    const evaluation = due ? await this.evaluate(epoch) : null;
    const improved = evaluation !== null && this.isBest(evaluation);
    if (improved) {
      if (evaluation.accuracy !== null) this.best = evaluation.accuracy;
      else this.bestLoss = evaluation.loss;
    }
    const metrics: EpochMetrics = {
      epoch: epoch + 1,
      train_loss: epochTotals.seen === 0 ? 0 : epochTotals.lossSum / epochTotals.seen,
      train_acc: this.input.accuracy ? (epochTotals.seen === 0 ? 0 : epochTotals.correct / epochTotals.seen) : null,
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
    emit({ type: 'epoch', epochs, metrics, improved });
    for (const c of callbacks) c.onEpochEnd?.(epoch, metrics, improved);
    return evaluation;
  }

  /** Whether an evaluation beats the best so far: higher accuracy, or without accuracy a lower loss. */
  private isBest(evaluation: E): boolean {
    if (evaluation.accuracy !== null) return this.best === null || evaluation.accuracy > this.best;
    return this.bestLoss === null || evaluation.loss < this.bestLoss;
  }

  /** The validation evaluation of the model (its weight average, if any). */
  private async evaluate(epoch: number): Promise<E | null> {
    const { model, emit, validation, ema } = this.input;
    if (!validation) return null;
    const run = () =>
      validation.evaluate((done, total) => emit({ type: 'eval-progress', epoch: epoch + 1, done, total }));
    return ema ? ema.withAveraged(model, run) : run();
  }

  /** One optimization step on a batch (which it frees); returns the batch's loss and correct predictions. */
  private step(batch: Batch, epoch: number): { loss: number; correct: number } {
    const { model, optimizer, scheduler, ema } = this.input;
    const forward = this.input.forward ?? ((x: torch.Tensor) => model.call(x) as torch.Tensor);
    const compute = () => {
      const output = forward(batch.x);
      return { output, loss: this.input.loss(output, batch.y) };
    };
    try {
      return torch.tidy(() => {
        const { output, loss } = this.input.autocast ? torch.autocast(compute) : compute();
        if (!(loss instanceof torch.Tensor) || loss.numel() !== 1) {
          throw new Error(
            `the loss function must return a scalar tensor (reduce the batch with a mean), got ${
              loss instanceof torch.Tensor ? `a tensor of shape [${loss.shape.join(', ')}]` : typeof loss
            }`,
          );
        }
        const value = this.input.lossSummed ? loss.item() / batch.y.size(0) : loss.item();
        const { maxLoss } = this.input.divergence;
        if (!Number.isFinite(value) || (maxLoss !== null && value > maxLoss))
          throw this.divergence(value, epoch, batch.index);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        if (this.input.schedulerInterval === 'step') scheduler?.step();
        ema?.update(model);
        return { loss: value, correct: this.input.accuracy ? correctPredictions(output, batch.y) : 0 };
      });
    } finally {
      torch.dispose(batch);
    }
  }

  private save(name: CheckpointName, position: Position, testAccuracy: number | null): void {
    const { model, run, optimizer, scheduler, ema } = this.input;
    const rngState = torch.getRngState();
    try {
      saveCheckpoint(run.checkpoint(name), {
        weights: ema ? ema.stateDict() : model.stateDict(),
        weightsMetadata: this.input.weightsMetadata,
        testAccuracy,
        trainer: {
          epoch: position.epoch,
          batch: position.batch,
          epochTotals: position.totals,
          bestAccuracy: this.best,
          bestLoss: this.bestLoss,
          configHash: this.input.configHash,
          optimizer: optimizer.stateDict(),
          scheduler: scheduler?.stateDict() ?? null,
          rngState,
          ema: ema && { updates: ema.updates, trainingWeights: model.stateDict() },
        },
      });
    } finally {
      rngState.dispose();
    }
    if (name === 'last') this.hasCheckpoint = true;
  }

  private divergence(value: number, epoch: number, batch: number): Error {
    const { run, epochs, divergence } = this.input;
    const kept = this.hasCheckpoint
      ? `the last good checkpoint is kept in ${run.checkpoint('last')}`
      : 'no checkpoint had been written yet';
    const limit = Number.isFinite(value) ? ` (above the limit ${divergence.limitName} ${divergence.maxLoss})` : '';
    return new Error(
      `training diverged: the loss is ${value}${limit} at epoch ${epoch + 1}/${epochs}, ` +
        `batch ${batch + 1}/${this.batches}; ${kept}. ${divergence.hint}`,
    );
  }

  /** The training summary, from the whole metrics history (all sessions of the run). */
  private summary(resumedAt: { epoch: number; batch: number } | null): Record<string, unknown> {
    const { run, epochs } = this.input;
    const history = run.readMetrics();
    const bestLine = history
      .filter((m) => m.test_acc !== null)
      .reduce<EpochMetrics | null>((b, m) => (b === null || m.test_acc! > b.test_acc! ? m : b), null);
    return {
      epochs,
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
