// The datasets a config's `data` names: 'cifar10' / 'cifar100' (the official binaries, downloaded into
// the data cache when missing) or an image folder with train/ and test/ splits (decoded once, cached).
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  classCounts,
  ensureCifar,
  loadCifar,
  loadImageFolder,
  type CifarName,
  type Dataset,
  type ImageFolderDataset,
  type Split,
} from '../data/index.js';
import { NAMED_DATASETS } from './config.js';

export interface TrainingData {
  /** What `data` said: 'cifar10', or the folder's absolute path. */
  source: string;
  train: Dataset;
  test: Dataset;
  classes: string[];
  /** [C, H, W] of every image. */
  imageShape: [number, number, number];
  /** Whether the pixels came from senet's decoded-image cache (image folders). */
  fromCache: boolean;
}

export interface LoadDataOptions {
  /** Image folders: resize to size×size (default: the images' own size). */
  imageSize?: number | null;
  /** The data cache folder (default: $SENET_DATA or ~/.cache/senet). */
  cacheDir?: string;
  /** Download (bytes) and decoding (images) progress; total is undefined when unknown. */
  onProgress?: (what: string, done: number, total: number | undefined) => void;
}

const isNamed = (data: string): data is CifarName => (NAMED_DATASETS as readonly string[]).includes(data);

/** Loads the train and test splits named by `data`; throws one error saying what was expected. */
export async function loadData(data: string, options: LoadDataOptions = {}): Promise<TrainingData> {
  const train = await loadSplit(data, 'train', options);
  const test = await loadSplit(data, 'test', options);
  const fromCache = [train, test].every((d) => (d as Partial<ImageFolderDataset>).load?.fromCache ?? false);
  return assemble(isNamed(data) ? data : resolve(data), train, test, fromCache);
}

/** Loads one split ('train' or 'test') of the data named by `data`. */
export async function loadSplit(data: string, split: Split, options: LoadDataOptions = {}): Promise<Dataset> {
  if (isNamed(data)) {
    if (options.imageSize != null && options.imageSize !== 32) {
      throw new Error(`imageSize ${options.imageSize} applies to image folders only; ${data} images are 32×32`);
    }
    const folder = await ensureCifar(data, {
      cacheDir: options.cacheDir,
      onProgress: (received, total) => options.onProgress?.(`downloading ${data}`, received, total),
    });
    return loadCifar(data, split, { root: folder });
  }
  const root = resolve(data);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(
      `data '${data}' is neither ${NAMED_DATASETS.join(' nor ')} nor an existing folder; ` +
        'expected a folder with train/<class>/*.jpg and test/<class>/*.jpg',
    );
  }
  if (!existsSync(join(root, split))) {
    throw new Error(
      `the data folder ${root} has no ${split}/ subfolder; expected ${root}/train/<class>/*.jpg and ${root}/test/<class>/*.jpg`,
    );
  }
  return loadImageFolder(root, split, {
    size: options.imageSize ?? undefined,
    cacheDir: options.cacheDir,
    onProgress: (done, total) => options.onProgress?.(`decoding ${split} images`, done, total),
  });
}

function assemble(source: string, train: Dataset, test: Dataset, fromCache: boolean): TrainingData {
  const shape = (d: Dataset) => [d.channels, d.height, d.width] as [number, number, number];
  if (shape(train).join() !== shape(test).join()) {
    throw new Error(
      `the train images are ${shape(train).join('×')} but the test images are ${shape(test).join('×')}; ` +
        'give an image size to resize both',
    );
  }
  if (train.classes.join('\n') !== test.classes.join('\n')) {
    throw new Error(`the train and test splits of ${source} name different classes`);
  }
  return { source, train, test, classes: [...train.classes], imageShape: shape(train), fromCache };
}

/** What data preparation produced, for pipeline.json: sizes and class balance. */
export function describeData(data: TrainingData): Record<string, unknown> {
  const counts = (d: Dataset) => Object.fromEntries(classCounts(d).map((n, i) => [data.classes[i], n]));
  const trainCounts = classCounts(data.train);
  return {
    source: data.source,
    train: data.train.length,
    test: data.test.length,
    classes: data.classes.length,
    imageShape: data.imageShape,
    trainPerClass: counts(data.train),
    testPerClass: counts(data.test),
    // 1 = perfectly balanced: the rarest class's share of the largest's.
    trainBalance: Math.min(...trainCounts) / Math.max(...trainCounts),
    fromCache: data.fromCache,
  };
}
