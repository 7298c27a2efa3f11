// Making sure a CIFAR dataset is on disk: the official archive is downloaded (resumably, MD5-checked)
// into the cache folder and extracted into a temporary sibling folder that is renamed into place only
// when complete, with a completion marker, so a half-written dataset is never used.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveCacheDir, temporarySibling } from './cache.js';
import { cifarLayout, CIFAR_IMAGE, type CifarLayout, type CifarName } from './cifar.js';
import { downloadFile, md5OfFile } from './http-download.js';
import type { FetchLike } from './http-get.js';

/** The official archives (https://www.cs.toronto.edu/~kriz/cifar.html). */
export const CIFAR_ARCHIVES: Readonly<Record<CifarName, { url: string; md5: string; file: string }>> = {
  cifar10: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
    file: 'cifar-10-binary.tar.gz',
  },
  cifar100: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
    file: 'cifar-100-binary.tar.gz',
  },
};

/** Written into an extracted folder last, before it is renamed into place. */
export const COMPLETION_MARKER = '.senet-complete';

export interface EnsureCifarOptions {
  /** The data cache folder (default: $SENET_DATA or ~/.cache/senet). */
  cacheDir?: string;
  /** Where to download the archive from (default: the official URL). */
  url?: string;
  /** The archive's MD5 (default: the official archive's). */
  md5?: string;
  /** The HTTP transport (default: node:http/https); `globalThis.fetch` fits. */
  fetchImpl?: FetchLike;
  /** Download progress in bytes; total is undefined when the server does not say. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** How often a dropped connection is resumed within this call (default 3). */
  retries?: number;
}

/**
 * Makes sure `<cacheDir>/cifar-10-batches-bin` (or `cifar-100-binary`) exists and is complete,
 * downloading and extracting the archive when it is not, and returns that folder. Files put there by
 * hand are used as they are; an archive put at `<cacheDir>/cifar-10-binary.tar.gz` by hand is
 * checked and extracted without downloading.
 */
export async function ensureCifar(name: CifarName, options: EnsureCifarOptions = {}): Promise<string> {
  const layout = cifarLayout(name);
  const archiveInfo = CIFAR_ARCHIVES[name];
  const cacheDir = resolveCacheDir(options.cacheDir);
  const folder = join(cacheDir, layout.folder);
  if (await isReady(folder, layout)) return folder;
  if (existsSync(folder)) {
    throw new Error(
      `${folder} exists but does not hold ${layout.title}'s files (${expectedFiles(layout)}): ` +
        'complete it by hand, or delete it so that senet downloads the dataset again',
    );
  }

  const url = options.url ?? archiveInfo.url;
  const md5 = (options.md5 ?? archiveInfo.md5).toLowerCase();
  const archive = join(cacheDir, archiveInfo.file);
  await mkdir(cacheDir, { recursive: true });
  if (existsSync(archive)) {
    const actual = await md5OfFile(archive);
    if (actual !== md5) {
      throw new Error(
        `${archive} has MD5 ${actual}, expected ${md5}: it is not the ${layout.title} archive ` +
          '(or is damaged); delete it so that senet downloads it again',
      );
    }
  } else {
    try {
      await downloadFile(url, archive, {
        md5,
        fetchImpl: options.fetchImpl,
        onProgress: options.onProgress,
        retries: options.retries,
      });
    } catch (error) {
      throw new Error(
        `could not download ${layout.title} from ${url}: ${(error as Error).message}. ` +
          `Without network access, fetch ${archiveInfo.file} elsewhere and put it at ${archive}, or extract it ` +
          `so that ${folder}/ holds ${expectedFiles(layout)} (the cache folder is $SENET_DATA or ~/.cache/senet).`,
      );
    }
  }
  await extractInPlace(archive, folder, layout);
  return folder;
}

/** Complete when marked by senet's extraction, or (put there by hand) when the label names and a batch exist. */
async function isReady(folder: string, layout: CifarLayout): Promise<boolean> {
  if (existsSync(join(folder, COMPLETION_MARKER))) return true;
  if (!existsSync(join(folder, layout.labelSets[0].file))) return false;
  const all = [...layout.files.train, ...layout.files.test];
  return all.some((file) => existsSync(join(folder, file)));
}

function expectedFiles(layout: CifarLayout): string {
  return [...layout.files.train, ...layout.files.test, ...layout.labelSets.map((s) => s.file)].join(', ');
}

/**
 * Extracts the archive's `<layout.folder>/` into a temporary sibling of the cache's, checks that what
 * came out is whole, marks it complete and renames it into place.
 */
async function extractInPlace(archive: string, folder: string, layout: CifarLayout): Promise<void> {
  const workDir = temporarySibling(folder);
  await mkdir(workDir);
  const tar = await import('tar'); // on first use: loading it takes 0.1–0.3 s that import('senet') should not pay
  try {
    try {
      // Synchronous: when asynchronous extraction fails midway, tar may still be writing files after it
      // rejects, racing the clean-up below. Extracting takes a second or two, once.
      tar.x({
        file: archive,
        cwd: workDir,
        sync: true,
        strict: true,
        filter: (path) => path === layout.folder || path.startsWith(`${layout.folder}/`),
      });
    } catch (error) {
      await rm(archive, { force: true });
      throw new Error(
        `cannot extract ${archive}: ${(error as Error).message}. The archive is truncated or corrupt; ` +
          'it was deleted, so the next run downloads it again',
      );
    }
    const extracted = join(workDir, layout.folder);
    await checkExtracted(extracted, layout, archive);
    await writeFile(
      join(extracted, COMPLETION_MARKER),
      `${JSON.stringify({ archive, extracted: new Date().toISOString() })}\n`,
    );
    try {
      await rename(extracted, folder);
    } catch (error) {
      // Another process may have finished the same extraction first; its result is as good as ours.
      if (!(await isReady(folder, layout))) throw error;
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The extracted folder must hold the label names and whole-record batch files. */
async function checkExtracted(extracted: string, layout: CifarLayout, archive: string): Promise<void> {
  const names = existsSync(extracted) ? await readdir(extracted) : [];
  const problem = (what: string) => new Error(`${archive} is not a ${layout.title} binary archive: ${what}`);
  if (names.length === 0) throw problem(`it has no ${layout.folder}/ folder`);
  if (!names.includes(layout.labelSets[0].file))
    throw problem(`${layout.folder}/${layout.labelSets[0].file} is missing`);
  const batches = names.filter((n) => [...layout.files.train, ...layout.files.test].includes(n));
  if (batches.length === 0) throw problem(`${layout.folder}/ has none of ${expectedFiles(layout)}`);
  const recordBytes = layout.labelBytes + CIFAR_IMAGE.channels * CIFAR_IMAGE.height * CIFAR_IMAGE.width;
  for (const batch of batches) {
    const size = (await stat(join(extracted, batch))).size;
    if (size === 0 || size % recordBytes !== 0)
      throw problem(`${layout.folder}/${batch} is ${size} bytes, not whole ${recordBytes}-byte records`);
  }
}
