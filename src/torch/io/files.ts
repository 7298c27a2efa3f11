// Reading and writing whole files. Writes are atomic: the bytes go to a temporary file in the same folder,
// are flushed to disk, and only then renamed over the target, so a crash or a full disk mid-save leaves
// either the old file or the new one, never a half-written one.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export function readBytes(path: string): Uint8Array {
  return readFileSync(path);
}

/** Writes `data` to `path` atomically (temp file, fsync, rename). */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o644);
  try {
    try {
      for (let written = 0; written < data.length;) {
        written += writeSync(fd, data, written, data.length - written);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try { unlinkSync(temp); } catch { /* already gone */ }
    throw error;
  }
  syncDirectory(dir);
}

/** Makes the rename itself durable; some platforms cannot fsync a directory, which is not an error. */
function syncDirectory(dir: string): void {
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
