// `senet train`'s model-training stage: what a TrainConfig asks for, put into the one training loop
// (training-loop.ts). The config gives the loaders (its batch size, shuffle, seed and augmentation), the
// optimizer and per-batch schedule (optimization.ts), cross-entropy with label smoothing, bfloat16
// autocast and the input memory format, the weight average (ema.ts), the classification evaluation with
// test-time augmentation (evaluate.ts), the model's metadata in model.safetensors, and the backbone
// freezing of fine-tuning: frozen for the first freezeBackboneEpochs epochs (pretrained.ts'
// BackboneFreeze), the optimizer holding every parameter throughout (frozen ones simply take no gradient),
// so the optimizer state and the checkpoints keep one layout before and after the backbone is unfrozen.
import * as torch from '../torch/index.js';
import type { TransformConfig } from '../data/index.js';
import type { Model } from '../models/index.js';
import { configHash, type TrainConfig } from './config.js';
import { makeLoader, type PreparedData } from './data.js';
import { weightsMetadata, type ModelContext, type ModelSpec } from './trained-model.js';
import { buildOptimizer, buildScheduler } from './optimization.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { ModelEma } from './ema.js';
import { Lookahead } from './lookahead.js';
import { FastNet } from '../models/fastnet.js';
import { inMemoryFormat, useMemoryFormat } from '../models/memory-format.js';
import type { EmitEvent } from './events.js';
import type { RunDir } from './run-dir.js';
import { BackboneFreeze } from './pretrained.js';
import { classifierName } from '../models/classifier.js';
import { runTrainingLoop, type TrainingCallbacks, type TrainingOutcome } from './training-loop.js';

export interface ConfigTrainingInput {
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
  /** Data-parallel: this rank of the group trains on its shard with DistributedDataParallel. */
  distributed?: { rank: number; worldSize: number; syncBatchNorm?: boolean };
}

/** Each rank's share of the global batch (config.batchSize), which must divide evenly. */
export function perRankBatch(batchSize: number, worldSize: number): number {
  if (batchSize % worldSize !== 0) {
    throw new Error(
      `--batch-size ${batchSize} is the global batch and must divide evenly over the ${worldSize} processes ` +
        `(e.g. ${Math.max(1, Math.round(batchSize / worldSize)) * worldSize})`,
    );
  }
  return batchSize / worldSize;
}

/** Trains the model as the config says, from the run's last checkpoint (or from the start) to the last epoch. */
export async function trainWithConfig(input: ConfigTrainingInput): Promise<TrainingOutcome<Evaluation>> {
  const { config, data, transforms, model, emit, distributed } = input;
  const trainLoader = makeLoader(data, 'train', {
    batchSize: distributed ? perRankBatch(config.batchSize, distributed.worldSize) : config.batchSize,
    shard: distributed && { rank: distributed.rank, worldSize: distributed.worldSize },
    shuffle: config.shuffle,
    transform: transforms.train,
    seed: config.seed,
    colorJitter: config.colorJitter,
    dropLast: config.dropLast,
  });
  // Each rank evaluates its part of the test split (every image once); the sums are combined over the ranks.
  const testLoader = makeLoader(data, 'test', {
    batchSize: config.batchSize,
    transform: transforms.test,
    shard: distributed && { rank: distributed.rank, worldSize: distributed.worldSize, padded: false },
  });
  // Before the optimizer and the average are made, so that their state takes the same layout.
  useMemoryFormat(model, config.memoryFormat);
  // The same parameters and buffers in SyncBatchNorm layers: the optimizer and checkpoints see no difference.
  if (distributed?.syncBatchNorm) torch.nn.parallel.SyncBatchNorm.convert(model);
  const optimizer = buildOptimizer(model, config);
  const ema =
    config.lookahead !== null
      ? new Lookahead(model, config.lookahead, config.epochs * trainLoader.length)
      : config.ema === null
        ? null
        : new ModelEma(model, config.ema);
  // Gradients averaged over the ranks while backward runs; every rank starts from rank 0's weights.
  const ddp = distributed ? await torch.nn.parallel.DistributedDataParallel.create(model) : null;
  const trained = ddp ?? model;
  const callbacks: TrainingCallbacks[] = [];
  if (config.freezeBackboneEpochs > 0) callbacks.push(backboneFreezing(model, config, emit));
  if (config.whitenBiasEpochs !== null) callbacks.push(stemBiasTraining(model, config.whitenBiasEpochs));
  try {
    return await runTrainingLoop({
      run: input.run,
      config,
      configHash: configHash(config),
      model,
      train: trainLoader,
      validation: {
        size: testLoader.dataset.length,
        evaluate: async (onBatch) => {
          // Every rank evaluates with rank 0's BatchNorm statistics (those rank 0 checkpoints).
          await ddp?.syncBuffers();
          return evaluate(model, testLoader, {
            tta: config.tta,
            ttaMean: config.ttaMean,
            mixedPrecision: config.mixedPrecision,
            memoryFormat: config.memoryFormat,
            acrossRanks: distributed !== undefined,
            onBatch,
          });
        },
      },
      epochs: config.epochs,
      evalEvery: config.evalEvery,
      optimizer,
      scheduler: buildScheduler(optimizer, config, trainLoader.length),
      schedulerInterval: 'step',
      loss: (logits, labels) =>
        torch.F.crossEntropy(logits, labels, {
          labelSmoothing: config.labelSmoothing,
          reduction: config.lossReduction,
        }),
      lossSummed: config.lossReduction === 'sum',
      forward: (x) => trained.call(inMemoryFormat(x, config.memoryFormat)) as torch.Tensor,
      autocast: config.mixedPrecision === 'bf16',
      accuracy: true,
      ema,
      weightsMetadata: weightsMetadata(input.spec, input.context),
      divergence: {
        maxLoss: config.maxLoss,
        limitName: 'maxLoss, --max-loss',
        hint: `Try a lower learning rate (--lr, now ${config.lr}) or a warmup (--warmup-epochs).`,
      },
      callbacks,
      threads: input.threads,
      emit,
      signal: input.signal,
    });
  } finally {
    ema?.dispose();
    optimizer.dispose();
    trainLoader.dispose();
    testLoader.dispose();
  }
}

/**
 * Freezes the backbone in the first freezeBackboneEpochs epochs (after model.train()), says when that
 * changes, and leaves it trainable at the end (freezeBackboneEpochs may equal epochs).
 */
function backboneFreezing(model: Model, config: TrainConfig, emit: EmitEvent): TrainingCallbacks {
  const freeze = new BackboneFreeze(model);
  /** Whether the backbone is frozen now (null: not yet set this session). */
  let current: boolean | null = null;
  const last = config.freezeBackboneEpochs;
  return {
    onEpochStart(epoch) {
      const frozen = epoch < last;
      freeze.apply(frozen);
      if (frozen === current) return;
      current = frozen;
      const message = frozen
        ? `Backbone frozen for epoch${last > 1 ? `s 1-${last}` : ' 1'}: ` +
          `only the classifier ${classifierName(model)} trains`
        : `Backbone unfrozen after epoch ${last}: every layer trains`;
      emit({ type: 'backbone', epoch: epoch + 1, frozen, message });
    },
    onTrainEnd() {
      freeze.apply(false);
    },
  };
}

/**
 * The whitened stem's bias trains in the first `epochs` epochs only (airbench's whiten_bias_epochs): later
 * it takes no gradient, so the optimizer leaves it as it is (no momentum, no decay).
 */
function stemBiasTraining(model: Model, epochs: number): TrainingCallbacks {
  if (!(model instanceof FastNet) || !model.stem.bias) {
    throw new Error(`whitenBiasEpochs needs a FastNet's whitened stem with a bias, not ${model.constructor.name}`);
  }
  const bias = model.stem.bias;
  return {
    onEpochStart(epoch) {
      bias.requiresGrad_(epoch < epochs);
    },
    onTrainEnd() {
      bias.requiresGrad_(true);
    },
  };
}
