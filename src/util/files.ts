// Reading and writing whole files. Writes are atomic: the bytes go to a temporary file in the same folder,
// are flushed to disk, and only then renamed over the target, so a crash or a full disk mid-save leaves
// either the old file or the new one, never a half-written one.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export function readBytes(path: string): Uint8Array {
  return readFileSync(path);
}

/** Writes bytes to a new file (failing if it exists) and flushes them to disk before returning. */
export function writeFileDurably(path: string, data: Uint8Array): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    for (let written = 0; written < data.length; ) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` to `path` atomically (temp file, fsync, rename). */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileDurably(temp, data);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      /* already gone, or never made */
    }
    throw error;
  }
  syncDirectory(dir);
}

/**
 * Flushes a directory's entries (a rename or a new file in it) to disk; some platforms cannot fsync a
 * directory, which is not an error: the files themselves were flushed.
 */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
