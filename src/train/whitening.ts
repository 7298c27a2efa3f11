// The whitened first layer of the fast recipe: before training, a FastNet's 2×2 stem is set to the
// whitening transform of the patches of the first training images (normalised as for testing, no
// augmentation) and frozen (FastNet.whitenStem_). Made from the data alone and without random draws, so
// that a resumed run rebuilds exactly the same layer (and the same frozen parameter set the optimizer
// state refers to) before its checkpoint is loaded.
import * as torch from '../torch/index.js';
import { DataLoader, type ImageDataset, type TransformConfig } from '../data/index.js';
import { FastNet, type Model } from '../models/index.js';

/** How many training images the patch statistics come from (31² = 961 patches each). */
export const WHITENING_IMAGES = 5000;

/** Whitens and freezes the model's stem from the first training images; refuses models without one. */
export async function whitenFirstLayer(
  model: Model,
  train: ImageDataset,
  transform: TransformConfig,
  images = WHITENING_IMAGES,
): Promise<void> {
  if (!(model instanceof FastNet)) {
    throw new Error(`whiten needs a model with a whitening stem (fastnet, se-fastnet), not ${model.constructor.name}`);
  }
  const loader = new DataLoader(train, {
    batchSize: Math.min(images, train.length),
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
      break; // the first batch is the sample
    }
  } finally {
    loader.dispose();
  }
}
