// Classification metrics from logits and labels: counts are made by libtorch (argmax, bincount) and
// handed back as plain JS numbers. The confusion matrix is the source of the others: rows are the true
// classes, columns the predicted ones, so accuracy = trace / total and a class's accuracy (its recall)
// = diagonal / row sum.
import * as torch from '../torch/index.js';

function checkInputs(logits: torch.Tensor, labels: torch.Tensor, numClasses: number, who: string): void {
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new Error(`${who}: numClasses must be a positive integer, got ${numClasses}`);
  if (logits.ndim !== 2 || logits.size(1) !== numClasses) {
    throw new Error(`${who}: expected logits of shape [N, ${numClasses}], got [${logits.shape.join(', ')}]`);
  }
  if (labels.ndim !== 1 || labels.size(0) !== logits.size(0) || labels.isFloatingPoint()) {
    throw new Error(
      `${who}: expected ${logits.size(0)} integer labels (shape [${logits.size(0)}]), got ${labels.dtype} [${labels.shape.join(', ')}]`,
    );
  }
}

/**
 * The confusion counts of one batch as an int64 tensor [C, C]: entry [t, p] = how many samples of true
 * class t were predicted as p (the arg-max of their logits). Labels outside 0..C-1 are an error.
 */
export function confusionCounts(logits: torch.Tensor, labels: torch.Tensor, numClasses: number): torch.Tensor {
  checkInputs(logits, labels, numClasses, 'confusionCounts()');
  return torch.tidy(() => {
    const truth = labels.to('int64');
    if (truth.numel() > 0) {
      const low = truth.min().item();
      const high = truth.max().item();
      if (low < 0 || high >= numClasses)
        throw new Error(`confusionCounts(): labels must be in 0..${numClasses - 1}, got values from ${low} to ${high}`);
    }
    const cell = truth.mul(numClasses).add(logits.argmax(1));
    return torch.bincount(cell, null, numClasses * numClasses).reshape(numClasses, numClasses);
  });
}

/** The fraction of samples whose arg-max logit is their label (0 for no samples). */
export function accuracy(logits: torch.Tensor, labels: torch.Tensor): number {
  if (logits.ndim !== 2 || labels.ndim !== 1 || labels.size(0) !== logits.size(0)) {
    throw new Error(
      `accuracy(): expected logits [N, C] and labels [N], got [${logits.shape.join(', ')}] and [${labels.shape.join(', ')}]`,
    );
  }
  if (labels.size(0) === 0) return 0;
  return torch.tidy(() => logits.argmax(1).eq(labels).sum().item()) / labels.size(0);
}

/** What a confusion matrix says, as plain numbers. */
export interface ConfusionSummary {
  /** Samples counted. */
  count: number;
  /** Fraction classified correctly (0 for no samples). */
  accuracy: number;
  /** Per true class: the fraction of its samples classified correctly; null for a class with no samples. */
  perClass: (number | null)[];
  /** confusion[t][p]: samples of true class t predicted as p. */
  confusion: number[][];
}

export function summarizeConfusion(confusion: readonly (readonly number[])[]): ConfusionSummary {
  const size = confusion.length;
  if (size === 0 || confusion.some((row) => row.length !== size)) {
    throw new Error(
      `summarizeConfusion(): expected a square matrix, got ${size} rows of lengths ${confusion.map((r) => r.length).join(', ')}`,
    );
  }
  let count = 0;
  let correct = 0;
  const perClass = confusion.map((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    count += total;
    correct += row[t];
    return total === 0 ? null : row[t] / total;
  });
  return { count, accuracy: count === 0 ? 0 : correct / count, perClass, confusion: confusion.map((row) => [...row]) };
}

/**
 * Confusion counts accumulated over batches in libtorch; `summary()` turns them into plain numbers.
 * Holds one small kept tensor: call dispose() when done.
 */
export class ConfusionMatrix {
  readonly numClasses: number;
  private counts: torch.Tensor | null;

  constructor(numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1)
      throw new Error(`ConfusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
    this.numClasses = numClasses;
    this.counts = torch.keep(torch.zeros([numClasses, numClasses], { dtype: 'int64' }));
  }

  /** Adds one batch: logits [N, C] and labels [N]. */
  update(logits: torch.Tensor, labels: torch.Tensor): void {
    const counts = this.live();
    torch.tidy(() => {
      counts.add_(confusionCounts(logits, labels, this.numClasses));
    });
  }

  /** Replaces the counts by `values` (row-major, C × C numbers): counts combined elsewhere, e.g. over ranks. */
  set(values: readonly number[]): void {
    const c = this.numClasses;
    if (values.length !== c * c) throw new Error(`ConfusionMatrix.set: expected ${c * c} counts, got ${values.length}`);
    torch.tidy(() => {
      this.live().copy_(torch.tensor([...values], { dtype: 'int64' }).reshape([c, c]));
    });
  }

  /** The counts so far as a nested array. */
  matrix(): number[][] {
    return this.live().toArray() as number[][];
  }

  summary(): ConfusionSummary {
    return summarizeConfusion(this.matrix());
  }

  dispose(): void {
    this.counts?.dispose();
    this.counts = null;
  }

  private live(): torch.Tensor {
    if (!this.counts) throw new Error('ConfusionMatrix: used after dispose()');
    return this.counts;
  }
}

/** The top-k classes of each row of logits, with their softmax probabilities. */
export function topK(logits: torch.Tensor, k: number): { indices: number[][]; probabilities: number[][] } {
  if (logits.ndim !== 2) throw new Error(`topK(): expected logits [N, C], got [${logits.shape.join(', ')}]`);
  if (!Number.isInteger(k) || k < 1 || k > logits.size(1))
    throw new Error(`topK(): k must be an integer in 1..${logits.size(1)}, got ${k}`);
  return torch.tidy(() => {
    const { values, indices } = logits.to('float32').softmax(1).topk(k, 1);
    return { indices: indices.toArray() as number[][], probabilities: values.toArray() as number[][] };
  });
}

/** Top-5 accuracy is reported only for more than this many classes (with 5 or fewer it is always 1). */
export const TOP5_MIN_CLASSES = 6;

/**
 * How many rows have their label among the k highest logits (top-k accuracy's numerator). Ties at the
 * k-th place are broken as torch.topk breaks them.
 */
export function topKHits(logits: torch.Tensor, labels: torch.Tensor, k: number): number {
  checkInputs(logits, labels, logits.size(1), 'topKHits()');
  if (!Number.isInteger(k) || k < 1 || k > logits.size(1))
    throw new Error(`topKHits(): k must be an integer in 1..${logits.size(1)}, got ${k}`);
  if (labels.size(0) === 0) return 0;
  return torch.tidy(() => {
    const { indices } = logits.topk(k, 1);
    return indices.eq(labels.to('int64').view(-1, 1)).any(1).sum().item();
  });
}
