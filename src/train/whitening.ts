// The whitened first layer of the fast recipe: before training, a FastNet's 2×2 stem is set to the
// whitening transform of the patches of a sample of the training images (normalised as for testing, no
// augmentation) and frozen (FastNet.whitenStem_). The sample is spread evenly over the training set
// rather than its first images: an image folder lists its images class by class, so the first 5,000 of
// CIFAR-10's would all be airplanes, the statistics of one class rather than of the data. Made from the data
// alone and without random draws, so that a resumed run rebuilds exactly the same layer (and the same
// frozen parameter set the optimizer state refers to) before its checkpoint is loaded.
import * as torch from '../torch/index.js';
import { DataLoader, subsetOf, type ImageDataset, type TransformConfig } from '../data/index.js';
import { FastNet, type Model } from '../models/index.js';

/** How many training images the patch statistics come from (31² = 961 patches each). */
export const WHITENING_IMAGES = 5000;

/** `count` images at even steps through the dataset: image ⌊i·N/count⌋ for i < count (all when N ≤ count). */
export function evenlySpacedSample(dataset: ImageDataset, count: number): ImageDataset {
  const n = Math.min(count, dataset.length);
  return subsetOf(
    dataset,
    Array.from({ length: n }, (_, i) => Math.floor((i * dataset.length) / n)),
  );
}

/** Whitens and freezes the model's stem from a spread sample of the training images; refuses models without one. */
export async function whitenFirstLayer(
  model: Model,
  train: ImageDataset,
  transform: TransformConfig,
  images = WHITENING_IMAGES,
): Promise<void> {
  if (!(model instanceof FastNet)) {
    throw new Error(`whiten needs a model with a whitening stem (fastnet, se-fastnet), not ${model.constructor.name}`);
  }
  const sample = evenlySpacedSample(train, images);
  const loader = new DataLoader(sample, {
    batchSize: sample.length,
    transform: { ...transform, augment: 'none' },
    prefetch: 1,
  });
  try {
    for await (const batch of loader.epoch(0)) {
      try {
        model.whitenStem_(batch.x);
      } finally {
        torch.dispose(batch);
      }
    }
  } finally {
    loader.dispose();
  }
}
