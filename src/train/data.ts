// The datasets a config's `data` names: 'cifar10' / 'cifar100' (the official binaries, downloaded into
// the data cache when missing) or an image folder with a train/ split and an evaluation split (val/ or
// validation/ when present, else test/): decoded once and cached in memory, or streamed per batch (image
// folders and tar shards) as the data mode says (src/data/data-mode.ts has the rule).
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  chooseDataMode, classCounts, ensureCifar, findSplit, loadCifar, loadImageFolder, openStreamingSource, type CifarName, type DataMode,
  type Dataset, type ImageFolderDataset, type SampleSource, type Split,
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
  const test = await loadSplit(data, isNamed(data) ? 'test' : evaluationSplit(resolve(data)), options);
  const fromCache = [train, test].every((d) => (d as Partial<ImageFolderDataset>).load?.fromCache ?? false);
  return assemble(isNamed(data) ? data : resolve(data), train, test, fromCache);
}

/** The split an image folder is evaluated on: val/ or validation/ when present, else test/. */
export function evaluationSplit(root: string): Split {
  return (findSplit('evaluation', (name) => existsSync(join(root, name))) ?? 'test') as Split;
}

/**
 * Loads one split of the data named by `data`: 'train' or 'test' (CIFAR), or any split folder of an
 * image folder ('train', 'val', 'validation', 'test').
 */
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
    throw new Error(`data '${data}' is neither ${NAMED_DATASETS.join(' nor ')} nor an existing folder; ` +
      'expected a folder with train/<class>/*.jpg and test/<class>/*.jpg');
  }
  if (!existsSync(join(root, split))) {
    throw new Error(`the data folder ${root} has no ${split}/ subfolder; expected ${root}/train/<class>/*.jpg and ${root}/test/<class>/*.jpg`);
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
    throw new Error(`the train images are ${shape(train).join('×')} but the test images are ${shape(test).join('×')}; ` +
      'give an image size to resize both');
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

/** The streaming sources of `data` (an image folder or tar shards): training and evaluation splits. */
export interface StreamingData {
  source: string;
  train: SampleSource;
  test: SampleSource;
  classes: string[];
}

/** Opens `data`'s train and evaluation splits for streaming; checks they name the same classes. */
export async function loadStreamingData(data: string): Promise<StreamingData> {
  if (isNamed(data)) throw new Error(`${data} is held in memory (32×32 images); streaming applies to image folders and tar shards`);
  const train = await openStreamingSource(data, 'train');
  const test = await openStreamingSource(data, 'evaluation');
  if (train.classes.join('\n') !== test.classes.join('\n')) {
    throw new Error(`the ${train.name} and ${test.name} splits of ${resolve(data)} name different classes`);
  }
  return { source: resolve(data), train, test, classes: [...train.classes] };
}

/**
 * How `data` is read for a run: 'memory' (loadData) or 'stream' (loadStreamingData), by the rule of
 * src/data/data-mode.ts; CIFAR is always in memory. Image count comes from a listing (nothing decoded).
 */
export async function dataModeFor(data: string, options: { requested: DataMode; augment: string; imageSize: number | null;
  cacheLimitBytes?: number }): Promise<'memory' | 'stream'> {
  if (isNamed(data)) {
    if (options.requested === 'stream') throw new Error(`${data} is read into memory; --data-mode stream applies to image folders and tar shards`);
    return 'memory';
  }
  const needsCount = options.requested === 'auto' && options.imageSize !== null && options.augment !== 'random-resized-crop';
  const imageCount = needsCount ? (await openStreamingSource(data, 'train')).length : 0;
  return chooseDataMode({ ...options, imageCount });
}
