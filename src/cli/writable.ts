// Checks, before any work starts, that the places a command will write to can be written: a run directory
// (--out, --resume), the data cache, an output file. Otherwise the failure comes late (after data decoding
// or training) and names a temporary file instead of what the user gave.
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Why `error` (from the file system) stopped a write, in words. */
function cause(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EROFS') return 'it is on a read-only file system';
  if (code === 'EACCES' || code === 'EPERM') return 'you have no permission to write there';
  return (error as Error).message;
}

/**
 * Why the folder `path` cannot be created or written into (null when it can): it is a file, an ancestor
 * is a file, or the nearest existing folder is not writable.
 */
export function folderUnwritable(path: string): string | null {
  const target = resolve(path);
  let existing = target;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) {
    return existing === target
      ? `${target} is a file, not a folder`
      : `${existing} is a file, so no folder can be made under it`;
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch (error) {
    return `${existing} is not writable: ${cause(error)}`;
  }
  return null;
}

/**
 * Makes sure `path` can be written as an output file given by `flag`: not a folder, in a folder that
 * exists (created if missing, as `senet convert` does) and is writable. Throws one clear error otherwise.
 */
export function prepareOutputFile(path: string, flag: string): void {
  const target = resolve(path);
  if (existsSync(target) && statSync(target).isDirectory()) {
    throw new Error(
      `${flag} ${path} is a folder; give the path of a file to write, e.g. ${flag} ${path.replace(/\/+$/, '')}/logits.npy`,
    );
  }
  const reason = folderUnwritable(dirname(target));
  if (reason !== null)
    throw new Error(`cannot write ${flag} ${path}: ${reason}; give ${flag} a path in a folder you can write`);
  mkdirSync(dirname(target), { recursive: true });
}

/** Makes sure the folder `path` given by `flag` (an option, or words naming a field) can be created or written into; throws one clear error otherwise. */
export function checkOutputFolder(path: string, flag: string): void {
  const reason = folderUnwritable(path);
  if (reason !== null)
    throw new Error(`cannot write into ${flag} ${path}: ${reason}; give ${flag} a folder you can write`);
}
