// The zip container of PyTorch checkpoints: uncompressed entries whose data starts on a 64-byte boundary
// (PyTorch aligns them so storages can be memory-mapped), written deterministically with fflate.
import { crc32 } from 'node:zlib';
import { Inflate, zipSync, type Zippable } from 'fflate';

/** PyTorch pads each local header with an extra field of this id ("FB") to align the entry's data. */
const PADDING_FIELD_ID = 0x4246;
const LOCAL_HEADER_SIZE = 30;
const EXTRA_FIELD_HEADER_SIZE = 4;
/**
 * A fixed timestamp keeps the output byte-for-byte reproducible. fflate encodes local time (DOS dates
 * start in 1980), and a Date built from local components encodes the same in every time zone.
 */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
const encoder = new TextEncoder();

/** A zip of `entries` (in this order), stored uncompressed, each entry's data aligned to `alignment` bytes. */
export function writeAlignedZip(entries: readonly (readonly [string, Uint8Array])[], alignment = 64): Uint8Array {
  const files: Zippable = {};
  let offset = 0;
  for (const [name, data] of entries) {
    if (name in files) throw new Error(`zip entry '${name}' is given twice`);
    // fflate takes the entries as object keys, and JS orders integer-like keys first.
    if (/^(0|[1-9]\d*)$/.test(name)) throw new Error(`zip entry name '${name}' must not be a bare number`);
    const nameLength = encoder.encode(name).length;
    const unpadded = offset + LOCAL_HEADER_SIZE + nameLength + EXTRA_FIELD_HEADER_SIZE;
    const padding = (alignment - (unpadded % alignment)) % alignment;
    files[name] = [data, { level: 0, mtime: FIXED_MTIME, extra: { [PADDING_FIELD_ID]: new Uint8Array(padding) } }];
    offset = unpadded + padding + data.length;
  }
  return zipSync(files);
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export interface ReadZipOptions {
  /**
   * The most bytes all entries may inflate to, together. Default: 256 MiB or 64 times the archive's size,
   * whichever is more (torch.save stores entries uncompressed, so an honest checkpoint never comes near).
   */
  maxInflatedBytes?: number;
}

const MIN_INFLATE_BUDGET = 256 * 2 ** 20;
const INFLATE_BUDGET_RATIO = 64;
/** Compressed input is fed to the inflater in pieces this big, so an over-long entry is stopped early. */
const INFLATE_CHUNK = 4096;
const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;

interface DirectoryEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

class ZipError extends Error {}

/**
 * The entries of a zip archive by name (in archive order); `source` names the file in errors. Every entry's
 * CRC-32 is checked, and inflated entries are bounded by their declared size and a budget derived from the
 * archive's size, so a corrupt or hostile file fails with one clear error instead of loading wrong bytes or
 * exhausting memory.
 */
export function readZip(bytes: Uint8Array, source: string, options: ReadZipOptions = {}): Map<string, Uint8Array> {
  const budget = options.maxInflatedBytes ?? Math.max(MIN_INFLATE_BUDGET, INFLATE_BUDGET_RATIO * bytes.length);
  const fail = (problem: string): never => {
    throw new ZipError(`${source}: ${problem}`);
  };
  try {
    const entries = new Map<string, Uint8Array>();
    let inflated = 0;
    for (const entry of readDirectory(bytes)) {
      if (entries.has(entry.name)) fail(`zip entry '${entry.name}' appears twice; the file is corrupt`);
      const start = dataStart(bytes, entry);
      const end = start + entry.compressedSize;
      if (end > bytes.length) {
        fail(
          `zip entry '${entry.name}' should hold ${entry.compressedSize} bytes but only ` +
            `${Math.max(0, bytes.length - start)} ` +
            'are present; the file is truncated or corrupt',
        );
      }
      const raw = bytes.subarray(start, end);
      let data: Uint8Array;
      if (entry.method === 0) {
        if (entry.size !== entry.compressedSize)
          fail(`stored zip entry '${entry.name}' has two different sizes; the file is corrupt`);
        data = raw;
      } else if (entry.method === 8) {
        if (entry.size > budget - inflated) {
          fail(
            `zip entry '${entry.name}' declares ${entry.size} bytes once inflated, ` +
              `more than the ${budget - inflated} left of the ${budget}-byte budget ` +
              `for a ${bytes.length}-byte archive (a decompression bomb?); re-save the ` +
              'checkpoint uncompressed, as torch.save does',
          );
        }
        data = inflateBounded(raw, entry.size, (problem) =>
          fail(`zip entry '${entry.name}' ${problem}; the file is corrupt`),
        );
        inflated += data.length;
      } else {
        throw new ZipError(
          `${source}: zip entry '${entry.name}' uses compression method ${entry.method}; ` +
            'only stored and deflated entries are read',
        );
      }
      const crc = crc32(data) >>> 0;
      if (crc !== entry.crc) {
        fail(
          `zip entry '${entry.name}' fails its CRC-32 check (recorded ${hex(entry.crc)}, computed ${hex(crc)}); ` +
            'the file is corrupt',
        );
      }
      entries.set(entry.name, data);
    }
    return entries;
  } catch (error) {
    if (error instanceof ZipError) throw new Error(error.message);
    throw new Error(
      `${source}: not a readable zip archive (${(error as Error).message}); the file is truncated or corrupt`,
    );
  }
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** The central directory's entries (zip64 sizes and offsets included). */
function readDirectory(bytes: Uint8Array): DirectoryEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => {
    const value = view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('a zip64 size is out of range');
    return Number(value);
  };
  // The end-of-directory record is the last 22 bytes, unless a comment (at most 65535 bytes) follows it.
  let end = bytes.length - 22;
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  while (end >= lowest && u32(end) !== END_OF_DIRECTORY) end--;
  if (end < lowest) throw new Error('no end-of-central-directory record');
  let count = u16(end + 10);
  let offset = u32(end + 16);
  if (end >= 20 && u32(end - 20) === ZIP64_LOCATOR) {
    const zip64End = u64(end - 12);
    if (zip64End + 56 > bytes.length || u32(zip64End) !== ZIP64_END_OF_DIRECTORY)
      throw new Error('a broken zip64 record');
    count = u64(zip64End + 32);
    offset = u64(zip64End + 48);
  }
  const entries: DirectoryEntry[] = [];
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (offset + 46 > bytes.length || u32(offset) !== CENTRAL_HEADER)
      throw new Error(`central directory entry ${i} is missing`);
    const nameLength = u16(offset + 28);
    const extraLength = u16(offset + 30);
    const next = offset + 46 + nameLength + extraLength + u16(offset + 32);
    if (next > bytes.length) throw new Error(`central directory entry ${i} runs past the end`);
    const entry: DirectoryEntry = {
      name: decoder.decode(bytes.subarray(offset + 46, offset + 46 + nameLength)),
      method: u16(offset + 10),
      crc: u32(offset + 16),
      compressedSize: u32(offset + 20),
      size: u32(offset + 24),
      localHeaderOffset: u32(offset + 42),
    };
    // Fields that do not fit 32 bits are 0xffffffff here and follow, in this order, in the zip64 extra field.
    for (let at = offset + 46 + nameLength; at + 4 <= offset + 46 + nameLength + extraLength; ) {
      const id = u16(at);
      const length = u16(at + 2);
      if (id === ZIP64_EXTRA_ID) {
        let field = at + 4;
        for (const key of ['size', 'compressedSize', 'localHeaderOffset'] as const) {
          if (entry[key] !== 0xffffffff) continue;
          if (field + 8 > at + 4 + length) throw new Error(`the zip64 field of '${entry.name}' is too short`);
          entry[key] = u64(field);
          field += 8;
        }
      }
      at += 4 + length;
    }
    entries.push(entry);
    offset = next;
  }
  return entries;
}

/** Where an entry's data starts: after its local header, whose name and extra field lengths may differ. */
function dataStart(bytes: Uint8Array, entry: DirectoryEntry): number {
  const at = entry.localHeaderOffset;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL_HEADER) {
    throw new Error(`the local header of '${entry.name}' is missing`);
  }
  return at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
}

/** Inflates `raw`, stopping as soon as the output passes `size` bytes; `fail` throws. */
function inflateBounded(raw: Uint8Array, size: number, fail: (problem: string) => never): Uint8Array {
  const out = new Uint8Array(size);
  let length = 0;
  let ended = false;
  const inflater = new Inflate((chunk, final) => {
    if (length + chunk.length > size) fail(`inflates to more than its declared ${size} bytes`);
    out.set(chunk, length);
    length += chunk.length;
    if (final) ended = true;
  });
  for (let at = 0; at < raw.length; at += INFLATE_CHUNK) {
    const last = at + INFLATE_CHUNK >= raw.length;
    inflater.push(raw.subarray(at, at + INFLATE_CHUNK), last);
  }
  if (raw.length === 0) inflater.push(raw, true);
  if (!ended || length !== size) fail(`inflates to ${length} bytes, not its declared ${size}`);
  return out;
}
