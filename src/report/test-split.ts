// The test split a run was evaluated on, read again for the SE analysis: only the test split (never the
// training set), and never downloaded here.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadCifar, loadImageFolder, type ImageDataset, type TransformConfig } from '../data/index.js';
import type { TrainConfig } from '../train/config.js';

/**
 * The test split the run was evaluated on. CIFAR is read from `dataRoot` (default: the data cache,
 * $SENET_DATA), never downloaded here; an image folder from the run's path, or from `dataRoot` if given.
 */
export async function loadTestSplit(config: TrainConfig, dataRoot?: string): Promise<ImageDataset> {
  if (config.data === 'cifar10' || config.data === 'cifar100') {
    try {
      return await loadCifar(config.data, 'test', { root: dataRoot });
    } catch (error) {
      throw new Error(
        `cannot read the ${config.data} test split for the SE analysis (${(error as Error).message}); ` +
          'pass --data DIR with the extracted dataset, or --no-se-analysis',
      );
    }
  }
  const folder = resolve(dataRoot ?? config.data);
  if (!existsSync(folder)) {
    throw new Error(
      `the run's image folder ${folder} does not exist; pass --data DIR with its train/ and test/ folders, or --no-se-analysis`,
    );
  }
  return loadImageFolder(folder, 'test', { size: config.imageSize ?? undefined });
}

/** How the run turned test images into model input: its normalisation, no augmentation. */
export function testTransform(mean: readonly number[], std: readonly number[]): TransformConfig {
  return { augment: 'none', mean, std };
}
