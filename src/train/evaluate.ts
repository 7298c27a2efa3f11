// How well a model classifies a dataset: mean cross-entropy, accuracy (and top-5 accuracy for more than
// five classes), per-class accuracy and the confusion matrix, in eval mode (BatchNorm uses its running statistics, dropout is off) and without
// autograd, batch after batch. The model's train/eval mode is restored afterwards. Optionally with
// test-time augmentation (tta.ts: the loss and predictions are then those of the views' mean softmax) and
// under bfloat16 autocast.
import * as torch from '../torch/index.js';
import type { nn } from '../torch/index.js';
import { DataLoader, type BatchSource, type ImageDataset, type TransformConfig } from '../data/index.js';
import { ConfusionMatrix, topKHits, TOP5_MIN_CLASSES } from './metrics.js';
import { ttaLogits, ttaProbabilities, type TTAMean, type TTAMode } from './tta.js';
import type { MixedPrecision } from './config.js';
import { inMemoryFormat, type TrainingMemoryFormat } from '../models/memory-format.js';

export interface Evaluation {
  /** Mean cross-entropy (no label smoothing) over the samples. */
  loss: number;
  /** Fraction of samples classified correctly. */
  accuracy: number;
  /** Fraction of samples whose label is among the 5 highest scores; null for 5 classes or fewer. */
  top5: number | null;
  /** Per class: fraction of its samples classified correctly; null for a class with no samples. */
  perClass: (number | null)[];
  /** confusion[t][p]: samples of true class t predicted as p. */
  confusion: number[][];
  /** Class names, indexed like perClass and the confusion matrix. */
  classes: string[];
  /** Samples evaluated. */
  count: number;
}

type Classifier = nn.Module & { forward(x: torch.Tensor): torch.Tensor };

export interface EvaluateOptions {
  /** Called after each batch (for progress displays). */
  onBatch?: (done: number, total: number) => void;
  /** Test-time augmentation (default 'none': the model's logits as they are). */
  tta?: TTAMode;
  /** What the augmentation averages: softmax probabilities (default) or logits. */
  ttaMean?: TTAMean;
  /** 'bf16': the forward passes under CPU bfloat16 autocast (default 'none'). */
  mixedPrecision?: MixedPrecision;
  /** The memory order batches are given to the model in (default 'contiguous': as the loader makes them). */
  memoryFormat?: TrainingMemoryFormat;
  /**
   * The loader reads this rank's shard of the split (data-parallel evaluation): the sums (loss, hits, confusion
   * counts) are all-reduced over the process group, so every rank returns the whole split's evaluation. Every
   * rank must call it.
   */
  acrossRanks?: boolean;
}

/**
 * What the evaluation scores: float32 logits, or with test-time augmentation the views' mean logits
 * (ttaMean 'logits') or the log of their mean probabilities (whose arg-max is the prediction and whose
 * negative at the label is the cross-entropy).
 */
function scores(model: Classifier, x: torch.Tensor, options: EvaluateOptions): torch.Tensor {
  const format = options.memoryFormat ?? 'contiguous';
  const forward = (input: torch.Tensor) => {
    const laidOut = inMemoryFormat(input, format);
    return options.mixedPrecision === 'bf16' ? torch.autocast(() => model.call(laidOut)) : model.call(laidOut);
  };
  if ((options.tta ?? 'none') === 'none') return forward(x).float();
  if (options.ttaMean === 'logits') return ttaLogits(forward, x, options.tta!);
  return ttaProbabilities(forward, x, options.tta!).log();
}

/**
 * Evaluates `model` on every batch of `loader` (epoch 0; use an unshuffled loader without augmentation):
 * a DataLoader, or a StreamingLoader with the evaluation view.
 */
export async function evaluate(
  model: Classifier,
  loader: BatchSource,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  const classes = [...loader.dataset.classes];
  const withTop5 = classes.length >= TOP5_MIN_CLASSES;
  let top5Hits = 0;
  const confusion = new ConfusionMatrix(classes.length);
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  let lossSum = 0;
  let done = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      try {
        lossSum += torch.noGrad(() =>
          torch.tidy(() => {
            const logits = scores(model, batch.x, options);
            if (logits.ndim !== 2 || logits.size(1) !== classes.length) {
              throw new Error(
                `the model gives outputs of shape [${logits.shape.join(', ')}] but the dataset has ${classes.length} classes; ` +
                  `expected [${batch.x.size(0)}, ${classes.length}]`,
              );
            }
            confusion.update(logits, batch.y);
            if (withTop5) top5Hits += topKHits(logits, batch.y, 5);
            return torch.F.crossEntropy(logits, batch.y, { reduction: 'sum' }).item();
          }),
        );
      } finally {
        torch.dispose(batch);
      }
      options.onBatch?.(++done, loader.length);
    }
    if (options.acrossRanks && torch.distributed.isInitialized() && torch.distributed.getWorldSize() > 1) {
      [lossSum, top5Hits] = await sumOverRanks(confusion, [lossSum, top5Hits]);
    }
    const summary = confusion.summary();
    const top5 = withTop5 ? (summary.count === 0 ? 0 : top5Hits / summary.count) : null;
    return { loss: summary.count === 0 ? 0 : lossSum / summary.count, ...summary, top5, classes };
  } finally {
    confusion.dispose();
    for (const [m, training] of modes) m.training = training;
  }
}

/** Sums the confusion counts (in place) and `values` over the ranks; returns the summed values. */
async function sumOverRanks(confusion: ConfusionMatrix, values: number[]): Promise<number[]> {
  const flat = torch.tidy(() =>
    torch.keep(
      torch.cat([
        torch.tensor(values, { dtype: 'float64' }),
        torch.tensor(confusion.matrix().flat(), { dtype: 'float64' }),
      ]),
    ),
  );
  try {
    await torch.distributed.allReduce(flat, 'sum');
    const summed = flat.toArray() as number[];
    confusion.set(summed.slice(values.length));
    return summed.slice(0, values.length);
  } finally {
    flat.dispose();
  }
}

/** Evaluates `model` on a dataset, transformed as for testing (normalisation, no augmentation). */
export async function evaluateDataset(
  model: Classifier,
  dataset: ImageDataset,
  options: EvaluateOptions & { batchSize: number; transform: TransformConfig },
): Promise<Evaluation> {
  const loader = new DataLoader(dataset, {
    batchSize: options.batchSize,
    transform: { ...options.transform, augment: 'none' },
  });
  try {
    return await evaluate(model, loader, options);
  } finally {
    loader.dispose();
  }
}
