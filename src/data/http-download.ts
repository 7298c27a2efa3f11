// Downloading one large file reliably: into `<dest>.part`, resumed with an HTTP Range request after a
// dropped connection (in this call or a later one), restarted from zero when the server ignores Range
// or the part turns out corrupt, checked against an MD5 or SHA-256 when the caller knows one, and only
// then renamed to `dest`. Error messages leave the URL out: the caller names what it was downloading.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { nodeFetch, type FetchLike, type FetchLikeResponse } from './http-get.js';

export interface DownloadOptions {
  /** The expected MD5 (hex) of the whole file. */
  md5?: string;
  /** The expected SHA-256 (hex) of the whole file (used when no MD5 is given; with neither, nothing is checked). */
  sha256?: string;
  /** The HTTP transport (default: node:http/https). */
  fetchImpl?: FetchLike;
  /** Called as bytes arrive; total is undefined when the server does not say. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** How many times a dropped connection is resumed within this call (default 3). */
  retries?: number;
}

const MAX_REDIRECTS = 5;

/** A failure worth retrying: the connection broke or the server had a temporary problem. */
class TransientError extends Error {}

/** Downloads `url` to `dest` (see the file comment); resolves once `dest` holds the verified file. */
export async function downloadFile(url: string, dest: string, options: DownloadOptions): Promise<void> {
  const part = `${dest}.part`;
  const resumed = await fetchWithRetries(url, part, options);
  const check =
    options.md5 !== undefined
      ? ({ algorithm: 'md5', name: 'MD5', expected: options.md5 } as const)
      : options.sha256 !== undefined
        ? ({ algorithm: 'sha256', name: 'SHA-256', expected: options.sha256 } as const)
        : null;
  if (check) {
    const expected = check.expected.toLowerCase();
    let actual = await digestOfFile(part, check.algorithm);
    if (actual !== expected && resumed) {
      // What was appended to may be corrupt (a part of another file, or one the server changed since): start over once.
      await rm(part, { force: true });
      await fetchWithRetries(url, part, options);
      actual = await digestOfFile(part, check.algorithm);
    }
    if (actual !== expected) {
      await rm(part, { force: true });
      throw new Error(
        `the downloaded file has ${check.name} ${actual}, expected ${expected}; ` +
          'it was deleted (a wrong URL, or the file changed on the server)',
      );
    }
  }
  await rename(part, dest);
}

/** Fetches until the part is whole, resuming after transient failures; true if it ever appended to earlier bytes. */
async function fetchWithRetries(url: string, part: string, options: DownloadOptions): Promise<boolean> {
  const retries = options.retries ?? 3;
  let appended = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const start = await fetchIntoPart(url, part, options);
      return appended || start > 0;
    } catch (error) {
      if (!(error instanceof TransientError) || attempt >= retries) throw error;
      appended ||= (await fileSize(part)) > 0;
    }
  }
}

/**
 * One request: continues `part` from its current size if the server honours Range, else rewrites it.
 * Returns the offset it continued from (0 for a whole download).
 */
async function fetchIntoPart(url: string, part: string, options: DownloadOptions): Promise<number> {
  const offset = await fileSize(part);
  const response = await getFollowingRedirects(
    url,
    offset > 0 ? { range: `bytes=${offset}-` } : {},
    options.fetchImpl ?? nodeFetch,
  );
  let start: number;
  let total: number | undefined;
  if (response.status === 416 && offset > 0) {
    return offset; // nothing after `offset`: the part is already whole (or too long; the MD5 check decides)
  } else if (response.status === 206 && offset > 0) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== offset) {
      await rm(part, { force: true }); // the retry starts from zero
      throw new TransientError(
        `the server answered the range request from byte ${offset} with content-range ` +
          `'${response.headers.get('content-range')}'`,
      );
    }
    start = offset;
    total = range[2] === '*' ? undefined : Number(range[2]);
  } else if (response.status === 200) {
    start = 0; // a fresh download, or the server ignored Range: rewrite the part from the beginning
    const length = response.headers.get('content-length');
    total = length === null ? undefined : Number(length);
  } else {
    const message = `the server answered HTTP ${response.status}`;
    throw response.status >= 500 ? new TransientError(message) : new Error(message);
  }
  if (!response.body) throw new TransientError('the server sent no body');

  const handle = await open(part, start === 0 ? 'w' : 'a');
  const chunks = response.body[Symbol.asyncIterator]();
  let received = start;
  let done = false;
  try {
    options.onProgress?.(received, total);
    while (!done) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await chunks.next();
      } catch (error) {
        throw new TransientError(`the connection broke after ${received} bytes: ${(error as Error).message}`);
      }
      done = next.done === true;
      if (done) break;
      await handle.write(next.value);
      received += next.value.length;
      options.onProgress?.(received, total);
    }
  } finally {
    if (!done) await chunks.return?.().catch(() => undefined); // stop a body we will not read (closes its connection)
    await handle.close();
  }
  if (total !== undefined && received < total) {
    throw new TransientError(`the connection closed after ${received} of ${total} bytes`);
  }
  return start;
}

async function getFollowingRedirects(
  url: string,
  headers: Record<string, string>,
  fetchImpl: FetchLike,
): Promise<FetchLikeResponse> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let response: FetchLikeResponse;
    try {
      response = await fetchImpl(current, { headers, redirect: 'manual' });
    } catch (error) {
      // node:http puts the system error code on the error; fetch() on its cause.
      const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
      const code = (error as NodeJS.ErrnoException).code ?? cause?.code;
      const why = [(error as Error).message, cause?.message].filter(Boolean).join(': ');
      const message = `${current === url ? '' : `${current} (redirected): `}${why}${code && !why.includes(code) ? ` (${code})` : ''}`;
      // A reset or timeout may pass; a refused connection or an unknown host will not within this call.
      throw code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE'
        ? new TransientError(message)
        : new Error(message);
    }
    const location = response.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
    await discard(response);
    current = new URL(location, current).toString();
  }
  throw new Error(`more than ${MAX_REDIRECTS} redirects`);
}

async function discard(response: FetchLikeResponse): Promise<void> {
  try {
    for await (const _ of response.body ?? []) {
      /* drain so the connection can close */
    }
  } catch {
    // the redirect's own body does not matter
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** The hex digest of a file's bytes. */
export async function digestOfFile(path: string, algorithm: 'md5' | 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function md5OfFile(path: string): Promise<string> {
  return digestOfFile(path, 'md5');
}
