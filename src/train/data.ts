// The datasets a config's `data` names: 'cifar10' / 'cifar100' (the official binaries, downloaded into
// the data cache when missing) or an image folder with a train/ split and an evaluation split (val/ or
// validation/ when present, else test/): decoded once and cached in memory, or streamed per batch (image
// folders and tar shards) as the data mode says (src/data/data-mode.ts has the rule).
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  chooseDataMode,
  DataLoader,
  ensureCifar,
  findSplit,
  loadCifar,
  loadImageFolder,
  openStreamingSource,
  StreamingLoader,
  STREAMING_AUGMENTATIONS,
  type BatchSource,
  type CifarName,
  type DataMode,
  type ImageDataset,
  type ImageFolderDataset,
  type SampleSource,
  type Split,
  type SplitRole,
  SPLIT_NAMES,
  type StreamingAugmentation,
  type TransformConfig,
  type Shard,
} from '../data/index.js';
import { checkBatchInput, NAMED_DATASETS } from './config.js';

export interface TrainingData {
  /** What `data` said: 'cifar10', or the folder's absolute path. */
  source: string;
  mode: 'memory';
  train: ImageDataset;
  test: ImageDataset;
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
  /** Image folders: held in memory or streamed (default 'auto': the rule of src/data/data-mode.ts). */
  dataMode?: DataMode;
  /** The training augmentation (it takes part in the choice of data mode; default 'none'). */
  augment?: string;
  /** Download (bytes) and decoding (images) progress; total is undefined when unknown. */
  onProgress?: (what: string, done: number, total: number | undefined) => void;
}

const isNamed = (data: string): data is CifarName => (NAMED_DATASETS as readonly string[]).includes(data);

/** Loads the train and test splits named by `data`; throws one error saying what was expected. */
export async function loadData(data: string, options: LoadDataOptions = {}): Promise<TrainingData> {
  const train = await loadSplit(data, 'train', options);
  const test = await loadSplit(data, splitFolder(data, 'evaluation'), options);
  const fromCache = [train, test].every((d) => (d as Partial<ImageFolderDataset>).load?.fromCache ?? false);
  return assemble(isNamed(data) ? data : resolve(data), train, test, fromCache);
}

/**
 * Loads one split of the data named by `data`: 'train' or 'test' (CIFAR), or any split folder of an
 * image folder ('train', 'val', 'validation', 'test').
 */
export async function loadSplit(data: string, split: Split, options: LoadDataOptions = {}): Promise<ImageDataset> {
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

function assemble(source: string, train: ImageDataset, test: ImageDataset, fromCache: boolean): TrainingData {
  const shape = (d: ImageDataset) => [d.channels, d.height, d.width] as [number, number, number];
  if (shape(train).join() !== shape(test).join()) {
    throw new Error(
      `the train images are ${shape(train).join('×')} but the test images are ${shape(test).join('×')}; ` +
        'give an image size to resize both',
    );
  }
  if (train.classes.join('\n') !== test.classes.join('\n')) {
    throw new Error(`the train and test splits of ${source} name different classes`);
  }
  return { source, mode: 'memory', train, test, classes: [...train.classes], imageShape: shape(train), fromCache };
}

/** Streamed data: the train and evaluation splits as sources, decoded batch by batch. */
export interface StreamedData {
  source: string;
  mode: 'stream';
  train: SampleSource;
  test: SampleSource;
  classes: string[];
  /** [3, size, size]: every view is size×size. */
  imageShape: [number, number, number];
  fromCache: false;
}

/** What a run reads: the data in memory, or streamed. */
export type PreparedData = TrainingData | StreamedData;

/** The data named by `data`, in memory or streamed as the data mode (options.dataMode, default 'auto') says. */
export async function prepareData(data: string, options: LoadDataOptions = {}): Promise<PreparedData> {
  const imageSize = options.imageSize ?? null;
  const mode = await dataModeFor(data, {
    requested: options.dataMode ?? 'auto',
    augment: options.augment ?? 'none',
    imageSize,
  });
  if (mode === 'memory') return loadData(data, options);
  const streams = await loadStreamingData(data);
  return { ...streams, mode, imageShape: [3, imageSize!, imageSize!], fromCache: false };
}

/** How many images each class has (Datasets and streaming sources both list their labels). */
function classCounts(d: { classes: readonly string[]; labels: Int32Array }): number[] {
  const counts = new Array<number>(d.classes.length).fill(0);
  for (const label of d.labels) counts[label]++;
  return counts;
}

/** What data preparation produced, for pipeline.json: sizes and class balance. */
export function describeData(data: PreparedData): Record<string, unknown> {
  const counts = (d: ImageDataset | SampleSource) =>
    Object.fromEntries(classCounts(d).map((n, i) => [data.classes[i], n]));
  const trainCounts = classCounts(data.train);
  return {
    source: data.source,
    mode: data.mode,
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
  if (isNamed(data))
    throw new Error(`${data} is held in memory (32×32 images); streaming applies to image folders and tar shards`);
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
export async function dataModeFor(
  data: string,
  options: { requested: DataMode; augment: string; imageSize: number | null; cacheLimitBytes?: number },
): Promise<'memory' | 'stream'> {
  if (isNamed(data)) {
    if (options.requested === 'stream')
      throw new Error(`${data} is read into memory; --data-mode stream applies to image folders and tar shards`);
    return 'memory';
  }
  const needsCount =
    options.requested === 'auto' && options.imageSize !== null && options.augment !== 'random-resized-crop';
  const imageCount = needsCount ? (await openStreamingSource(data, 'train')).length : 0;
  return chooseDataMode({ ...options, imageCount });
}

/** The in-memory datasets of `data`, for steps that need every image at hand; one error in stream mode. */
export function inMemory(data: PreparedData, what: string): TrainingData {
  if (data.mode !== 'memory') {
    throw new Error(
      `${what} needs the images in memory, but ${data.source} is streamed; use --data-mode memory ` +
        '(with an augmentation other than random-resized-crop)',
    );
  }
  return data;
}

export interface MakeLoaderOptions {
  batchSize: number;
  transform: TransformConfig;
  shuffle?: boolean;
  seed?: number;
  /** Streaming only: ColorJitter strength of the training view (default 0). */
  colorJitter?: number;
  /** Data-parallel work: this rank's shard of every epoch. */
  shard?: Shard;
  /** Leave out the last short batch (default false). */
  dropLast?: boolean;
}

/**
 * The batch loader of one split: a DataLoader over the in-memory dataset, or a StreamingLoader whose
 * view is the transform's (random-resized-crop for training, the evaluation view for 'none').
 */
export function makeLoader(data: PreparedData, split: 'train' | 'test', options: MakeLoaderOptions): BatchSource {
  const { batchSize, transform, shuffle, seed, shard, dropLast } = options;
  if (data.mode === 'memory') {
    return new DataLoader(data[split], { batchSize, transform, shuffle, seed, shard, dropLast });
  }
  if (!(STREAMING_AUGMENTATIONS as readonly string[]).includes(transform.augment)) {
    throw new Error(`streamed data trains with ${STREAMING_AUGMENTATIONS.join(' or ')}, not ${transform.augment}`);
  }
  return new StreamingLoader(data[split], {
    batchSize,
    shuffle,
    seed,
    dropLast,
    shard,
    view: {
      size: data.imageShape[1],
      augment: transform.augment as StreamingAugmentation,
      colorJitter: options.colorJitter,
      mean: transform.mean,
      std: transform.std,
    },
  });
}

export interface EvaluationLoaderOptions extends LoadDataOptions {
  batchSize: number;
  /** Which split to read (default 'evaluation': val/ or validation/ when present, else test/). */
  split?: SplitRole;
  mean: readonly number[];
  std: readonly number[];
  /** Visit the split in a seeded random order (seed 0; default false): a sample of it from the first batches. */
  shuffle?: boolean;
}

/**
 * A loader over one split of `data` alone (for `senet eval`; by default the evaluation split: CIFAR's test
 * set, or an image folder's val/validation/test split), in memory or streamed (evaluation view) as the
 * data mode says.
 */
export async function evaluationLoader(data: string, options: EvaluationLoaderOptions): Promise<BatchSource> {
  const { batchSize, mean, std, split: role = 'evaluation' } = options;
  const transform: TransformConfig = { augment: 'none', mean, std };
  const imageSize = options.imageSize ?? null;
  checkBatchInput(batchSize, imageSize ?? 32, '--batch-size or --image-size');
  const mode = await dataModeFor(data, {
    requested: options.dataMode ?? 'auto',
    augment: options.augment ?? 'none',
    imageSize,
  });
  if (mode === 'stream') {
    return new StreamingLoader(await openStreamingSource(data, role), {
      batchSize,
      shuffle: options.shuffle ?? false,
      seed: 0,
      view: { size: imageSize!, augment: 'none', mean, std },
    });
  }
  const dataset = await loadSplit(data, splitFolder(data, role), options);
  return new DataLoader(dataset, { batchSize, transform, shuffle: options.shuffle ?? false, seed: 0 });
}

/** The split of `data` that `role` names: CIFAR's train or test set, or an image folder's split folder. */
export function splitFolder(data: string, role: SplitRole): Split {
  if (isNamed(data)) {
    if (role === 'validation') throw new Error(`${data} has no validation split; choose --split test or train`);
    return role === 'train' ? 'train' : 'test';
  }
  const root = resolve(data);
  const folder = findSplit(role, (name) => existsSync(join(root, name)));
  if (!folder) {
    throw new Error(
      `the data folder ${root} has no ${SPLIT_NAMES[role].join(' or ')} split; expected ${root}/${SPLIT_NAMES[role][0]}/<class>/*.jpg`,
    );
  }
  return folder as Split;
}
