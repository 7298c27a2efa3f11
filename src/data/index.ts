// senet's data layer: datasets (CIFAR-10/100 official binaries, image folders, and any map-style dataset
// such as TensorDataset), their download and cache, batch transforms and the batch loader.
export {
  type ImageDataset,
  type DatasetFields,
  makeDataset,
  validateDataset,
  datasetTensors,
  subsetOf,
  classCounts,
  channelStats,
} from './dataset.js';
export { type CifarName, type Split, type LoadCifarOptions, CIFAR_LAYOUTS, loadCifar } from './cifar.js';
export { type EnsureCifarOptions, CIFAR_ARCHIVES, ensureCifar } from './download.js';
export type { FetchLike, FetchLikeResponse } from './http-get.js';
export { defaultCacheDir } from './cache.js';
export {
  type LoadImageFolderOptions,
  type ImageFolderDataset,
  type ImageFolderLoadInfo,
  IMAGE_EXTENSIONS,
  loadImageFolder,
  type ImageFolderListing,
  listImageFolder,
} from './image-folder.js';
export {
  type TransformConfig,
  type Augmentation,
  AUGMENTATIONS,
  BatchTransform,
  toFloat,
  normalize,
  randomCrop,
  randomHorizontalFlip,
  NORMALIZATIONS,
  CIFAR10_MEAN,
  CIFAR10_STD,
  CIFAR100_MEAN,
  CIFAR100_STD,
  CROP_PADDING,
  FLIP_PROBABILITY,
  TRANSLATE_PADDING,
  type PaddingFill,
  IMAGENET_MEAN,
  IMAGENET_STD,
} from './transforms.js';
export {
  type DataLoaderOptions,
  type Batch,
  type BatchLoader,
  type LoaderDataset,
  DataLoader,
  DEFAULT_PREFETCH,
  isImageDataset,
} from './loader.js';
export { type Dataset, type Sample, type SampleBatch, TensorDataset } from './map-dataset.js';
export { deriveSeed } from './seeds.js';
export {
  DistributedSampler,
  type DistributedSamplerOptions,
  samplesPerRank,
  shardOf,
  shardPositions,
  type Shard,
} from './distributed-sampler.js';
export {
  type BatchSource,
  type SampleSource,
  type StreamingSample,
  type ImageViewConfig,
  type StreamingLoaderOptions,
  type UnreadableReport,
  type StreamingAugmentation,
  STREAMING_AUGMENTATIONS,
  STREAMING_PREFETCH,
  StreamingLoader,
} from './streaming-loader.js';
export {
  type CropBox,
  randomResizedCropBox,
  resizeShorterSide,
  centreCropBox,
  evalResizeSide,
} from './crop-geometry.js';
export { type ImageFolderSource, imageFolderSource } from './folder-source.js';
export { type TarShardSource, tarShardSource, SHUFFLE_BUFFER } from './tar-shards.js';
export { openStreamingSource } from './sources.js';
export { type SplitRole, SPLIT_NAMES, findSplit } from './splits.js';
export { type DataMode, DATA_MODES, MEMORY_CACHE_LIMIT_BYTES, chooseDataMode } from './data-mode.js';
export { benchmarkInput, type InputBenchmark } from './input-benchmark.js';
