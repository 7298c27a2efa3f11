// What a training run tells its caller while it runs (progress displays listen to these), and how it
// reports having been stopped. `senet train` runs carry their TrainConfig and classification Evaluation;
// fit() runs (fit.ts) their own config and evaluation types.
import type { TrainConfig } from './config.js';
import type { Evaluation } from './evaluate.js';
import type { EpochMetrics } from './run-dir.js';
import type { StageName, StageStatus } from './stages.js';

export type TrainEvent<C = TrainConfig, E = Evaluation> =
  | { type: 'stage'; stage: StageName; status: StageStatus }
  /** Download (bytes) or decoding (images) progress during data preparation. */
  | { type: 'data-progress'; what: string; done: number; total: number | undefined }
  | {
      type: 'start';
      runDir: string;
      config: C;
      threads: number;
      trainSize: number;
      testSize: number;
      batchesPerEpoch: number;
      /** When resuming: the epoch (from 1) and the batches of it already done. */
      resumedAt: { epoch: number; batch: number } | null;
    }
  /** Pretrained weights loaded into the new model (fine-tuning); `message` says from where, and of the classifier. */
  | { type: 'pretrained'; source: string; file: string; classifierReplaced: boolean; message: string }
  /** From epoch `epoch` (from 1) on, the backbone is frozen (only the classifier trains) or trains again. */
  | { type: 'backbone'; epoch: number; frozen: boolean; message: string }
  /** `epoch` counts from 1; `startBatch` batches of it are already done (resuming mid-epoch). */
  | { type: 'epoch-start'; epoch: number; epochs: number; batches: number; startBatch: number }
  /** After each step: `batch` batches of the epoch done; this batch's loss; images/s since the epoch (re)started. */
  | {
      type: 'batch';
      epoch: number;
      epochs: number;
      batch: number;
      batches: number;
      loss: number;
      imagesPerSecond: number;
    }
  | { type: 'eval-progress'; epoch: number; done: number; total: number }
  | { type: 'epoch'; epochs: number; metrics: EpochMetrics; improved: boolean }
  /** Stopped on request: `batch` batches of epoch `epoch` (from 1) are done and checkpointed. */
  | { type: 'interrupted'; runDir: string; epoch: number; batch: number; batches: number }
  | { type: 'done'; runDir: string; evaluation: E; bestAccuracy: number | null };

export type EmitEvent = (event: TrainEvent) => void;

/** How a run stopped when aborted: where (epoch from 0, batches of it done), and how to continue. */
export class InterruptedError extends Error {
  constructor(
    readonly runDir: string,
    readonly epoch: number,
    readonly batch: number,
    where: string,
    /** How to resume (default: the senet train command). */
    resume = `senet train --resume ${runDir}`,
  ) {
    super(`interrupted ${where}; resume with ${resume}`);
  }
}
