// Whether an image folder is decoded once into memory (fixed size, cached on disk, fastest for small
// images) or streamed (decoded per batch, memory flat however large the data). The rule of `auto`:
//   1. random-resized-crop needs the full images, so it streams;
//   2. crop-flip, translate-flip and translate-altflip shift the stored fixed-size images, so they stay in memory;
//   3. images used at their own size (no image size given), or an image size <= 64, stay in memory;
//   4. otherwise the decoded set (images × 3 × size²) decides: memory up to the cache limit, else stream.
import { SHIFTING_AUGMENTATIONS } from './transforms.js';

export type DataMode = 'auto' | 'memory' | 'stream';
export const DATA_MODES: readonly DataMode[] = ['auto', 'memory', 'stream'];

/** The decoded-set size up to which `auto` keeps an image folder in memory (1 GiB). */
export const MEMORY_CACHE_LIMIT_BYTES = 1024 ** 3;
/** Image sizes up to this always stay in memory under `auto` (CIFAR-like data is faster there). */
export const SMALL_IMAGE_SIZE = 64;

export interface DataModeInput {
  requested: DataMode;
  /** The training augmentation's name. */
  augment: string;
  /** The square size images are used at; null: their own size. */
  imageSize: number | null;
  imageCount: number;
  cacheLimitBytes?: number;
}

/** 'memory' or 'stream' for an image folder; one error when the request cannot be met. */
export function chooseDataMode(input: DataModeInput): 'memory' | 'stream' {
  const { requested, augment, imageSize, imageCount } = input;
  const streamsOnly = augment === 'random-resized-crop';
  if (requested === 'memory' && streamsOnly) {
    throw new Error(
      'the random-resized-crop augmentation crops the full images, so it needs --data-mode stream (or auto)',
    );
  }
  const memoryOnly = (SHIFTING_AUGMENTATIONS as readonly string[]).includes(augment);
  if (requested === 'stream' && memoryOnly) {
    throw new Error(
      `the ${augment} augmentation shifts images held in memory; streaming trains with random-resized-crop or none`,
    );
  }
  if (requested === 'stream' && imageSize === null) {
    throw new Error('--data-mode stream needs --image-size N (the crop size every image is decoded to)');
  }
  if (requested !== 'auto') return requested;
  if (streamsOnly) {
    if (imageSize === null)
      throw new Error('the random-resized-crop augmentation needs --image-size N (the crop size)');
    return 'stream';
  }
  if (memoryOnly || imageSize === null || imageSize <= SMALL_IMAGE_SIZE) return 'memory';
  const decodedBytes = imageCount * 3 * imageSize * imageSize;
  return decodedBytes <= (input.cacheLimitBytes ?? MEMORY_CACHE_LIMIT_BYTES) ? 'memory' : 'stream';
}
