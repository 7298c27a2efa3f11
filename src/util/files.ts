// Reading and writing whole files. Writes are atomic: the bytes go to a temporary file in the same folder,
// are flushed to disk, and only then renamed over the target, so a crash or a full disk mid-save leaves
// either the old file or the new one, never a half-written one. Reads accept regular files only: a device
// (/dev/zero), a FIFO or a directory given where a file belongs would block, never end, or fail obscurely.
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** What a non-regular file is, in words; null for a regular file. */
function notRegular(stats: Stats): string | null {
  if (stats.isFile()) return null;
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Throws one clear error unless `path` (after symlinks) is a regular file; `what` names it ("the weights
 * file", "the image"). Returns the file's size.
 */
export function checkRegularFile(path: string, what = 'the file'): number {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'it does not exist' : (error as Error).message}`,
    );
  }
  const kind = notRegular(stats);
  if (kind) throw new Error(`cannot read ${what} ${path}: it is ${kind}, not a regular file; give the path of a file`);
  return stats.size;
}

/**
 * The bytes of a regular file, with one clear error for a missing file, a directory, a device or a FIFO.
 * The file is opened without blocking (a FIFO would wait for a writer) and checked again once open, so a
 * path swapped between the check and the open is caught too.
 */
export function readRegularFile(path: string, what = 'the file'): Buffer {
  checkRegularFile(path, what);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const kind = notRegular(fstatSync(fd));
    if (kind)
      throw new Error(`cannot read ${what} ${path}: it is ${kind}, not a regular file; give the path of a file`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readBytes(path: string, what = 'the file'): Uint8Array {
  return readRegularFile(path, what);
}

/** The file system calls the writers use; tests pass one that writes short to play a full disk. */
export interface WriteFs {
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
}
const NODE_FS: WriteFs = { writeSync };

/**
 * Writes every byte of `data` to the open file `fd`: write(2) may write fewer bytes than asked (a full disk,
 * a signal), so this loops until all are written, and a write that makes no progress is an error.
 */
export function writeAll(fd: number, data: Uint8Array, path: string, fs: WriteFs = NODE_FS): void {
  for (let written = 0; written < data.length; ) {
    const n = fs.writeSync(fd, data, written, data.length - written);
    if (!(n > 0))
      throw new Error(
        `cannot write ${path}: only ${written} of ${data.length} bytes could be written (is the disk full?)`,
      );
    written += n;
  }
}

/** Writes bytes to a new file (failing if it exists) and flushes them to disk before returning. */
export function writeFileDurably(path: string, data: Uint8Array | readonly Uint8Array[], fs: WriteFs = NODE_FS): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    for (const chunk of data instanceof Uint8Array ? [data] : data) writeAll(fd, chunk, path, fs);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` (one buffer or several, in order) to `path` atomically (temp file, fsync, rename): a failed
 * write leaves the old file, never a truncated one under the final name.
 */
export function writeFileAtomic(path: string, data: Uint8Array | readonly Uint8Array[], fs: WriteFs = NODE_FS): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileDurably(temp, data, fs);
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
