// An image folder split as a streaming source: its listing (paths, labels; nothing decoded), read in a
// fresh seeded random order each epoch, or in torchvision's order unshuffled.
import { basename, dirname, join } from 'node:path';
import { listImageFolder, type ImageFolderListing } from './image-folder.js';
import { deriveSeed, seededUniform, STREAM } from './seeds.js';
import type { SampleSource, StreamingSample } from './streaming-loader.js';

export interface ImageFolderSource extends SampleSource {
  readonly listing: ImageFolderListing;
}

/** The streaming source of `root/split`. */
export async function imageFolderSource(root: string, split: string): Promise<ImageFolderSource> {
  const listing = await listImageFolder(root, split);
  return folderSource(listing);
}

export function folderSource(listing: ImageFolderListing): ImageFolderSource {
  const { root, paths, labels, classes } = listing;
  return {
    name: `${basename(dirname(root))}/${basename(root)}`,
    classes,
    length: paths.length,
    labels,
    listing,
    *samples(epoch: number, shuffle: boolean, seed: number | bigint): Iterable<StreamingSample> {
      const order = shuffle ? shuffled(paths.length, seededUniform(deriveSeed(seed, epoch, STREAM.shuffle))) : null;
      for (let k = 0; k < paths.length; k++) {
        const i = order ? order[k] : k;
        yield { input: join(root, paths[i]), label: labels[i], name: paths[i] };
      }
    },
  };
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
function shuffled(n: number, uniform: () => number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
