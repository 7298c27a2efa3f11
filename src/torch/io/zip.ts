// The zip container of PyTorch checkpoints: uncompressed entries whose data starts on a 64-byte boundary
// (PyTorch aligns them so storages can be memory-mapped), written deterministically with fflate.
import { unzipSync, zipSync, type Zippable } from 'fflate';

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

/** The entries of a zip archive by name (in archive order); `source` names the file in errors. */
export function readZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  const sizes = new Map<string, number>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (info) => {
        sizes.set(info.name, info.originalSize);
        return true;
      },
    });
  } catch (error) {
    throw new Error(
      `${source}: not a readable zip archive (${(error as Error).message}); the file is truncated or corrupt`,
    );
  }
  const entries = new Map<string, Uint8Array>();
  for (const [name, expected] of sizes) {
    const data = files[name];
    // fflate cuts short an entry whose recorded size runs past the end of the file instead of failing.
    if (!data || data.length !== expected) {
      throw new Error(
        `${source}: zip entry '${name}' should hold ${expected} bytes but only ${data?.length ?? 0} ` +
          'are present; the file is truncated or corrupt',
      );
    }
    entries.set(name, data);
  }
  return entries;
}
