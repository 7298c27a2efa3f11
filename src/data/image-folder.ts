// Image folders laid out as `root/{train,test}/<class>/*.{jpg,jpeg,png,webp}`, as torchvision's
// ImageFolder reads them: classes are the sorted folder names (taken from train, so both splits share
// them), files are found recursively in torchvision's order. Images are decoded once with sharp to RGB
// and cached as one uint8 file under the data cache, reused while the folder is unchanged.
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { loadSharp } from '../util/sharp.js';
import { cacheKey, resolveCacheDir } from './cache.js';
import { makeDataset, type ImageDataset } from './dataset.js';
import { readRegularFile } from '../util/files.js';
import { manifestDigest, readPixelCache, writePixelCache, type ManifestEntry } from './image-cache.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];
const CHANNELS = 3;

export interface LoadImageFolderOptions {
  /**
   * Side of the square images produced. Images of another size are resized to cover size×size and
   * centre-cropped; images already that size are used as they are. Without it, every image must have
   * the same size (the dataset's).
   */
  size?: number;
  /** The data cache folder (default: $SENET_DATA or ~/.cache/senet). */
  cacheDir?: string;
  /** Images decoded at once (default 16). */
  concurrency?: number;
  /** Decoding progress (not called when the cache is used). */
  onProgress?: (decoded: number, total: number) => void;
}

/** How a load went, for logs: whether the cache served it, and how fast. */
export interface ImageFolderLoadInfo {
  cacheFile: string;
  fromCache: boolean;
  seconds: number;
  imagesPerSecond: number;
  /** Entries left out of the scan, each with why: symbolic links that loop back, links that cannot be followed. */
  skipped: string[];
}

export interface ImageFolderDataset extends ImageDataset {
  /** The split folder, absolute. */
  readonly root: string;
  /** Each image's path relative to `root` ('/'-separated), in dataset order. */
  readonly paths: readonly string[];
  readonly load: ImageFolderLoadInfo;
}

/** Reads one split of an image folder, decoding it only when the cache does not match the files. */
export async function loadImageFolder(
  root: string,
  split: string,
  options: LoadImageFolderOptions = {},
): Promise<ImageFolderDataset> {
  const started = performance.now();
  const size = options.size;
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) {
    throw new Error(`image size must be a positive integer, got ${size}`);
  }
  const top = resolve(root);
  const splitDir = join(top, split);
  const classes = await listClasses(top);
  const skipped: string[] = [];
  const entries = await scanSplit(splitDir, classes, skipped);
  const manifest = entries.map((e) => e.manifest);
  const digest = manifestDigest(classes, manifest);
  const cacheFile = join(
    resolveCacheDir(options.cacheDir),
    'image-folders',
    `${basename(top)}-${split}-${size ?? 'native'}-${cacheKey(splitDir, String(size ?? 'native'))}.senetimg`,
  );

  let pixels = await readPixelCache(cacheFile, digest, { count: entries.length, channels: CHANNELS, size });
  const fromCache = pixels !== null;
  if (!pixels) {
    pixels = await decodeAll(
      splitDir,
      entries.map((e) => e.manifest.path),
      size,
      options,
    );
    await writePixelCache(cacheFile, digest, pixels);
  }
  const seconds = (performance.now() - started) / 1000;
  return makeDataset({
    name: `${basename(top)}/${split}`,
    images: pixels.images,
    labels: Int32Array.from(entries, (e) => e.label),
    classes,
    channels: pixels.channels,
    height: pixels.height,
    width: pixels.width,
    root: splitDir,
    paths: manifest.map((m) => m.path),
    load: { cacheFile, fromCache, seconds, imagesPerSecond: entries.length / seconds, skipped },
  });
}

/** The files of one split, without decoding: what a streaming loader reads from. */
export interface ImageFolderListing {
  /** The split folder, absolute. */
  root: string;
  classes: string[];
  /** Each image's path relative to `root` ('/'-separated), in torchvision's order. */
  paths: string[];
  labels: Int32Array;
}

/** Lists one split of an image folder (classes from train/), checked as loadImageFolder checks it. */
export async function listImageFolder(root: string, split: string): Promise<ImageFolderListing> {
  const top = resolve(root);
  const splitDir = join(top, split);
  const classes = await listClasses(top);
  const entries = await scanSplit(splitDir, classes);
  return {
    root: splitDir,
    classes,
    paths: entries.map((e) => e.manifest.path),
    labels: Int32Array.from(entries, (e) => e.label),
  };
}

/** Class names: the sorted sub-folders of `root/train`. */
async function listClasses(root: string): Promise<string[]> {
  const trainDir = join(root, 'train');
  let dirents: Dirent[];
  try {
    dirents = await readdir(trainDir, { withFileTypes: true });
  } catch {
    throw new Error(
      `${root} is not an image folder: ${trainDir} is missing; expected ${root}/{train,test}/<class>/*.jpg ` +
        '(the class names are taken from train/)',
    );
  }
  const classes = (await subfolders(trainDir, dirents)).sort(byCodePoint);
  if (classes.length === 0) throw new Error(`${trainDir} has no class folders; expected ${trainDir}/<class>/*.jpg`);
  return classes;
}

interface ScannedImage {
  manifest: ManifestEntry;
  label: number;
}

/**
 * Every image of the split with its label, in torchvision's order (class, then sorted walk). Entries left out
 * (symbolic link cycles, links that cannot be followed) are added to `skipped` and reported in one warning.
 */
async function scanSplit(
  splitDir: string,
  classes: readonly string[],
  skipped: string[] = [],
): Promise<ScannedImage[]> {
  let present: string[];
  try {
    present = await subfolders(splitDir, await readdir(splitDir, { withFileTypes: true }));
  } catch {
    throw new Error(`the image folder split ${splitDir} is missing; expected ${splitDir}/<class>/*.jpg`);
  }
  const unknown = present.filter((name) => !classes.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `${splitDir} has class folders that train/ does not: ${unknown.join(', ')}; ` +
        'both splits must use the classes of train/',
    );
  }
  const images: ScannedImage[] = [];
  for (const [label, name] of classes.entries()) {
    if (!present.includes(name)) continue;
    const files = await imageFilesUnder(join(splitDir, name), skipped);
    if (files.length === 0 && basename(splitDir) === 'train') {
      throw new Error(`the class folder ${join(splitDir, name)} has no images (${IMAGE_EXTENSIONS.join(', ')})`);
    }
    const stats = await Promise.all(files.map((file) => stat(file)));
    files.forEach((file, i) =>
      images.push({
        manifest: {
          path: relative(splitDir, file).split(sep).join('/'),
          size: stats[i].size,
          mtimeMs: stats[i].mtimeMs,
        },
        label,
      }),
    );
  }
  if (skipped.length > 0) {
    const what = `${skipped.length} entr${skipped.length === 1 ? 'y was' : 'ies were'} skipped`;
    process.emitWarning(`${splitDir}: ${what}: ${listSome(skipped, 5).trimStart()}`);
  }
  if (images.length === 0) throw new Error(`${splitDir} has no images (${IMAGE_EXTENSIONS.join(', ')})`);
  return images;
}

/**
 * Image files below `dir`, ordered as torchvision's sorted(os.walk(dir)) with sorted file names. Symbolic
 * links are followed, except a link to a folder the walk is already inside or one above `dir` (a cycle, which
 * would list the same images again and again until the path is too long); such links, and links that cannot
 * be followed, are added to `skipped` with the reason.
 */
async function imageFilesUnder(dir: string, skipped: string[]): Promise<string[]> {
  const folders: { path: string; files: string[] }[] = [];
  const walk = async (path: string, ancestors: ReadonlySet<string>): Promise<void> => {
    const real = await realpath(path);
    if (ancestors.has(real)) {
      skipped.push(`${path}: a symbolic link to ${real}, a folder it is inside (a cycle); not followed`);
      return;
    }
    const inside = new Set(ancestors).add(real);
    const dirents = await readdir(path, { withFileTypes: true });
    const files: string[] = [];
    for (const d of dirents) {
      if (d.isSymbolicLink()) {
        const problem = await stat(join(path, d.name)).then(
          () => null,
          (error: NodeJS.ErrnoException) => error.code ?? error.message,
        );
        if (problem) {
          skipped.push(`${join(path, d.name)}: a symbolic link that cannot be followed (${problem})`);
          continue;
        }
      }
      if (await isFolder(path, d)) await walk(join(path, d.name), inside);
      else if (IMAGE_EXTENSIONS.some((ext) => d.name.toLowerCase().endsWith(ext))) files.push(d.name);
    }
    folders.push({ path, files: files.sort(byCodePoint) });
  };
  // The folders above `dir` count as entered too: a link up to the split folder would list other classes' images.
  const above = new Set<string>();
  for (let folder = dirname(await realpath(dir)); !above.has(folder); folder = dirname(folder)) above.add(folder);
  await walk(dir, above);
  folders.sort((a, b) => byCodePoint(a.path, b.path));
  return folders.flatMap((f) => f.files.map((name) => join(f.path, name)));
}

/** Whether a directory entry is a folder, following symbolic links (as torchvision does). */
async function isFolder(parent: string, entry: Dirent): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  return (await stat(join(parent, entry.name)).catch(() => null))?.isDirectory() ?? false;
}

async function subfolders(parent: string, entries: Dirent[]): Promise<string[]> {
  const flags = await Promise.all(entries.map((e) => isFolder(parent, e)));
  return entries.filter((_, i) => flags[i]).map((e) => e.name);
}

/** Python's string order (by code point), which torchvision's sorting uses. */
function byCodePoint(a: string, b: string): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** UTF-16 order differs from code-point order only in that surrogates (astral characters) sort last. */
const codePointRank = (unit: number) => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x10000 : unit);

interface DecodedImage {
  pixels: Buffer; // H×W×3, interleaved
  width: number;
  height: number;
}

/** Decodes every image to C×H×W uint8; collects all unreadable images and size mismatches into one error. */
async function decodeAll(
  splitDir: string,
  paths: readonly string[],
  size: number | undefined,
  options: LoadImageFolderOptions,
) {
  // Without a size, the first readable image fixes it; then all are decoded concurrently.
  let reference = size === undefined ? null : { path: '', width: size, height: size };
  for (let i = 0; !reference && i < paths.length; i++) {
    const image = await decodeOne(join(splitDir, paths[i]), size).catch(() => null);
    if (image) reference = { path: paths[i], width: image.width, height: image.height };
  }
  const { width, height } = reference ?? { width: 0, height: 0 };
  const imageBytes = CHANNELS * height * width;
  const images = new Uint8Array(paths.length * imageBytes);
  const unreadable: string[] = [];
  const wrongSize: string[] = [];
  let next = 0;
  let decoded = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      const path = join(splitDir, paths[i]);
      try {
        const image = await decodeOne(path, size);
        if (image.height !== height || image.width !== width) {
          wrongSize.push(`${path} (${image.width}×${image.height})`);
        } else {
          interleavedToPlanar(image.pixels, images.subarray(i * imageBytes, (i + 1) * imageBytes), height * width);
        }
      } catch (error) {
        unreadable.push(`${path}: ${(error as Error).message}`);
      }
      options.onProgress?.(++decoded, paths.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 16) }, worker));
  if (unreadable.length > 0) {
    throw new Error(
      `${unreadable.length} image${unreadable.length > 1 ? 's' : ''} in ${splitDir} could not be decoded:\n  ` +
        listSome(unreadable),
    );
  }
  if (wrongSize.length > 0) {
    throw new Error(
      `the images in ${splitDir} differ in size: ${reference!.path} is ${width}×${height} but ` +
        `${wrongSize.length} are not:\n  ${listSome(wrongSize)}\nPass a size to resize them all to size×size.`,
    );
  }
  return { images, channels: CHANNELS, height, width };
}

function listSome(lines: string[], limit = 20): string {
  const shown = [...lines].sort(byCodePoint).slice(0, limit).join('\n  ');
  return lines.length > limit ? `${shown}\n  ... and ${lines.length - limit} more` : shown;
}

/** One image as 8-bit RGB; resized (cover, centre crop) only when `size` is given and differs. */
async function decodeOne(path: string, size: number | undefined): Promise<DecodedImage> {
  // Reading synchronously is faster than fs.promises for many small files, and leaves libuv's threads to sharp.
  const input = readRegularFile(path, 'the image');
  const sharp = await loadSharp();
  const { data, info } = await sharp(input)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== CHANNELS) throw new Error(`decoded to ${info.channels} channels, expected RGB`);
  if (size === undefined || (info.width === size && info.height === size)) {
    return { pixels: data, width: info.width, height: info.height };
  }
  const resized = await sharp(data, { raw: { width: info.width, height: info.height, channels: CHANNELS } })
    .resize(size, size, { fit: 'cover', position: 'centre' })
    .raw()
    .toBuffer();
  return { pixels: resized, width: size, height: size };
}

/** H×W×C interleaved pixels (sharp's layout) to C×H×W planes (the dataset's). */
function interleavedToPlanar(source: Uint8Array, target: Uint8Array, plane: number): void {
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < CHANNELS; c++) target[c * plane + p] = source[p * CHANNELS + c];
  }
}
