// Where senet keeps downloaded and decoded data, and how files get there without ever being seen
// half-written: everything is written under a temporary sibling name and renamed into place.
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** The data cache folder: $SENET_DATA if set, else ~/.cache/senet. */
export function defaultCacheDir(): string {
  const fromEnv = process.env.SENET_DATA;
  return resolve(fromEnv && fromEnv.trim() !== '' ? fromEnv : join(homedir(), '.cache', 'senet'));
}

/** The cache folder to use: the one given, else the default, as an absolute path. */
export function resolveCacheDir(cacheDir?: string): string {
  return cacheDir ? resolve(cacheDir) : defaultCacheDir();
}

/**
 * A fresh name next to `path` for work in progress (".name.tmp-<pid>-<random>"): on the same file
 * system, so the final rename is atomic; hidden and unique, so it is never mistaken for the real thing
 * and two processes never share it.
 */
export function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes the chunks to `path` atomically: readers see the old file or the complete new one. */
export async function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = temporarySibling(path);
  try {
    const handle = await open(temporary, 'w');
    try {
      for (const chunk of chunks) await handle.write(chunk);
      await handle.sync(); // the data is on disk before the name points at it
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** A short stable hex digest of some strings, for cache file names. */
export function cacheKey(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
}
