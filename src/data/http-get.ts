// One HTTP GET with node:http(s), shaped like the WHATWG fetch API so that callers may substitute their
// own transport (or `globalThis.fetch`). Redirects are not followed here: the downloader does that, the
// same way for every transport.
import * as http from 'node:http';
import * as https from 'node:https';

export interface FetchLikeResponse {
  status: number;
  headers: { get(name: string): string | null };
  /** The response body; iterating it may throw if the connection drops. */
  body: AsyncIterable<Uint8Array> | null;
}

export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; redirect: 'manual' },
) => Promise<FetchLikeResponse>;

/** How long a connection may stay silent (connecting or mid-body) before it counts as failed. */
export const IDLE_TIMEOUT_MS = 30_000;

/** GET `url` with node:http or node:https; a connection idle for IDLE_TIMEOUT_MS fails with ETIMEDOUT. */
export const nodeFetch: FetchLike = (url, init) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : null;
    if (!client) {
      reject(new Error(`cannot download ${url}: only http and https URLs are supported`));
      return;
    }
    const request = client.get(target, { headers: { 'user-agent': 'senet', ...init.headers } }, (response) => {
      resolve({
        status: response.statusCode ?? 0,
        headers: {
          get(name: string) {
            const value = response.headers[name.toLowerCase()];
            return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
          },
        },
        body: response,
      });
    });
    request.setTimeout(IDLE_TIMEOUT_MS, () => {
      request.destroy(
        Object.assign(new Error(`no data from ${url} for ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }),
      );
    });
    request.on('error', reject);
  });
