// Test images the trained model gets wrong, for the report's grid: a few per true class (balanced, so one
// confusable class cannot fill the grid), each with what the model answered and how sure it was. The test
// split is read class by class in turn and the scan stops once every class has its share, so a model
// that is right 95% of the time costs a few hundred images of inference, not the whole split.
import * as torch from '../torch/index.js';
import type { nn } from '../torch/index.js';
import { DataLoader, subsetOf, type ImageDataset, type TransformConfig } from '../data/index.js';

export interface Misclassified {
  /** The image's index in the test split. */
  index: number;
  truth: number;
  predicted: number;
  /** The softmax probability of the predicted class. */
  probability: number;
}

export interface MisclassifiedResult {
  /** Up to `max`, sorted by true class then index. */
  items: Misclassified[];
  /** Test images classified to find them. */
  examined: number;
}

type Classifier = nn.Module & { forward(x: torch.Tensor): torch.Tensor };

/** Every index, class by class in turn: the first image of each class, then the second of each, ... */
export function classRoundRobin(labels: Int32Array, numClasses: number): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((label, i) => byClass[label].push(i));
  const longest = Math.max(0, ...byClass.map((m) => m.length));
  const order: number[] = [];
  for (let round = 0; round < longest; round++)
    for (const members of byClass) if (round < members.length) order.push(members[round]);
  return order;
}

/** Up to `max` items with the true classes as evenly represented as `found` allows, class by class in turn. */
export function balancedPick(found: readonly Misclassified[][], max: number): Misclassified[] {
  const picked: Misclassified[] = [];
  for (let round = 0; picked.length < max && found.some((f) => round < f.length); round++) {
    for (const items of found) if (round < items.length && picked.length < max) picked.push(items[round]);
  }
  return picked.sort((a, b) => a.truth - b.truth || a.index - b.index);
}

export interface FindMisclassifiedOptions {
  /** The run's test-time transform (its normalisation; no augmentation). */
  transform: TransformConfig;
  /** At most this many images (default 32). */
  max?: number;
  batchSize?: number;
}

/** Misclassified test images of `model`, balanced across true classes. */
export async function findMisclassified(
  model: Classifier,
  dataset: ImageDataset,
  options: FindMisclassifiedOptions,
): Promise<MisclassifiedResult> {
  const max = options.max ?? 32;
  if (!Number.isInteger(max) || max < 1)
    throw new Error(`misclassified images: max must be a positive integer, got ${max}`);
  const numClasses = dataset.classes.length;
  const order = classRoundRobin(dataset.labels, numClasses);
  const quota = Math.ceil(max / numClasses);
  const perClass = new Array<number>(numClasses).fill(0);
  for (const label of dataset.labels) perClass[label]++;
  const found: Misclassified[][] = Array.from({ length: numClasses }, () => []);
  const seen = new Array<number>(numClasses).fill(0);
  const loader = new DataLoader(subsetOf(dataset, order), {
    batchSize: options.batchSize ?? 200,
    transform: { ...options.transform, augment: 'none' },
  });
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  let examined = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      let predicted: Int32Array | BigInt64Array;
      let probability: Float32Array;
      try {
        [predicted, probability] = torch.noGrad(() =>
          torch.tidy(() => {
            const p = torch.F.softmax(model.call(batch.x).float(), 1);
            const best = p.max(1);
            return [best.indices.data() as BigInt64Array, best.values.data() as Float32Array] as const;
          }),
        );
      } finally {
        torch.dispose(batch);
      }
      for (let i = 0; i < predicted.length; i++) {
        const index = order[examined + i];
        const truth = dataset.labels[index];
        const guess = Number(predicted[i]);
        seen[truth]++;
        if (guess !== truth) found[truth].push({ index, truth, predicted: guess, probability: probability[i] });
      }
      examined += predicted.length;
      if (found.every((f, k) => f.length >= quota || seen[k] === perClass[k])) break;
    }
  } finally {
    for (const [m, training] of modes) m.training = training;
    loader.dispose();
  }
  return { items: balancedPick(found, max), examined };
}
