// The decoded-pixels cache of an image folder: one compact file per (folder, split, size) under the data
// cache, valid while the folder's manifest (every image's relative path, byte size and mtime) is
// unchanged. Layout: "SENETIMG", a uint32 LE header length, a JSON header, then N×C×H×W uint8 pixels
// (labels are not stored: they follow from the manifest's paths). The cache is disposable: a file that
// is not whole, not of this folder state, or whose pixels fail their SHA-256 reads as no cache, and the
// folder is decoded again; nothing in it can make the reader throw or serve other pixels.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { writeFileAtomic } from './cache.js';
import { checkRegularFile } from '../util/files.js';

const MAGIC = 'SENETIMG';
// 2: the header holds the pixels' SHA-256 (version 1 caches are decoded again).
const VERSION = 2;

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
  /** SHA-256 of the pixel bytes, hex. */
  pixels: string;
}

/** What the caller knows the cache must hold. */
export interface ExpectedPixels {
  count: number;
  channels: number;
  /** The side every image was resized to; undefined for images at their own size. */
  size?: number;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const isSide = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 65_535;

/** The header, when it is one this reader wrote for `digest` and `expected`; null otherwise. */
function checkHeader(value: unknown, digest: string, expected: ExpectedPixels): Header | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const h = value as Partial<Header>;
  const ok =
    h.version === VERSION &&
    h.manifest === digest &&
    h.count === expected.count &&
    h.channels === expected.channels &&
    isSide(h.height) &&
    isSide(h.width) &&
    (expected.size === undefined || (h.height === expected.size && h.width === expected.size)) &&
    typeof h.pixels === 'string';
  return ok ? (h as Header) : null;
}

/** A digest of the class list and every file's path, size and mtime: any change gives another digest. */
export function manifestDigest(classes: readonly string[], entries: readonly ManifestEntry[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(classes));
  for (const e of entries) hash.update(`\n${e.path}\0${e.size}\0${e.mtimeMs}`);
  return hash.digest('hex');
}

/**
 * The cached pixels if `file` exists, is whole, was made from the folder state `digest` describes, holds
 * what `expected` says and its pixels match their checksum; null otherwise (never throws).
 */
export async function readPixelCache(
  file: string,
  digest: string,
  expected: ExpectedPixels,
): Promise<CachedPixels | null> {
  let bytes: Buffer;
  try {
    checkRegularFile(file, 'the pixel cache'); // a folder or FIFO in its place is no cache (and would block)
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
  const dataStart = MAGIC.length + 4 + bytes.readUInt32LE(MAGIC.length);
  if (dataStart > bytes.length) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8', MAGIC.length + 4, dataStart));
  } catch {
    return null;
  }
  const header = checkHeader(parsed, digest, expected);
  if (!header) return null;
  const expectedBytes = header.count * header.channels * header.height * header.width;
  if (bytes.length !== dataStart + expectedBytes) return null;
  const images = new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart, expectedBytes);
  if (sha256(images) !== header.pixels) return null;
  return { images, channels: header.channels, height: header.height, width: header.width };
}

/** Writes the cache file atomically (a reader never sees a partial cache). */
export async function writePixelCache(file: string, digest: string, pixels: CachedPixels): Promise<void> {
  const { channels, height, width } = pixels;
  const count = pixels.images.length / (channels * height * width);
  const header: Header = {
    version: VERSION,
    manifest: digest,
    count,
    channels,
    height,
    width,
    pixels: sha256(pixels.images),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(headerBytes.length, MAGIC.length);
  await writeFileAtomic(file, [prefix, headerBytes, pixels.images]);
}
