// The decoded-pixels cache of an image folder: one compact file per (folder, split, size) under the data
// cache, valid while the folder's manifest (every image's relative path, byte size and mtime) is
// unchanged. Layout: "SENETIMG", a uint32 LE header length, a JSON header, then N×C×H×W uint8 pixels
// (labels are not stored: they follow from the manifest's paths).
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { writeFileAtomic } from './cache.js';

const MAGIC = 'SENETIMG';
const VERSION = 1;

export interface ManifestEntry {
  /** Path relative to the split folder, with '/' separators. */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface CachedPixels {
  images: Uint8Array;
  channels: number;
  height: number;
  width: number;
}

interface Header {
  version: number;
  manifest: string;
  count: number;
  channels: number;
  height: number;
  width: number;
}

/** A digest of the class list and every file's path, size and mtime: any change gives another digest. */
export function manifestDigest(classes: readonly string[], entries: readonly ManifestEntry[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(classes));
  for (const e of entries) hash.update(`\n${e.path}\0${e.size}\0${e.mtimeMs}`);
  return hash.digest('hex');
}

/** The cached pixels if `file` exists, is whole, and was made from the folder state `digest` describes. */
export async function readPixelCache(file: string, digest: string, count: number): Promise<CachedPixels | null> {
  let bytes: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch {
    return null; // no cache yet
  }
  if (bytes.length < MAGIC.length + 4 || bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + headerLength;
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', MAGIC.length + 4, dataStart)) as Header;
  } catch {
    return null;
  }
  const expectedBytes = header.count * header.channels * header.height * header.width;
  if (
    header.version !== VERSION ||
    header.manifest !== digest ||
    header.count !== count ||
    bytes.length !== dataStart + expectedBytes
  ) {
    return null;
  }
  return {
    images: new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart, expectedBytes),
    channels: header.channels,
    height: header.height,
    width: header.width,
  };
}

/** Writes the cache file atomically (a reader never sees a partial cache). */
export async function writePixelCache(file: string, digest: string, pixels: CachedPixels): Promise<void> {
  const { channels, height, width } = pixels;
  const count = pixels.images.length / (channels * height * width);
  const header: Header = { version: VERSION, manifest: digest, count, channels, height, width };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(headerBytes.length, MAGIC.length);
  await writeFileAtomic(file, [prefix, headerBytes, pixels.images]);
}
