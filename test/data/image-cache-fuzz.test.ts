// Fuzzing the decoded-pixels cache reader (src/data/image-cache.ts) with the same mutations as the other
// file readers (test/fuzz-mutations.ts). The cache is disposable, so the property is: a mutated cache
// reads as no cache (null, and the folder is decoded again) or as exactly the pixels written; the reader
// never throws, never hangs and never serves other pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { manifestDigest, readPixelCache, writePixelCache, type CachedPixels } from '../../src/data/image-cache.js';
import { mutate, mutation } from '../fuzz-mutations.js';
import { tempDir } from './support.js';

const RUNS = 1000;
const SEED = Number(process.env.SENET_FUZZ_SEED ?? 12);
const MAX_READ_MS = 1000;

const digest = manifestDigest(['cat', 'dog'], [{ path: 'cat/0.jpg', size: 10, mtimeMs: 1 }]);
const expected = { count: 4, channels: 3, size: 8 };
const original: CachedPixels = {
  images: Uint8Array.from({ length: 4 * 3 * 8 * 8 }, (_, i) => (i * 37) % 256),
  channels: 3,
  height: 8,
  width: 8,
};

function assertOriginal(read: CachedPixels | null, what: string): void {
  assert.ok(read !== null, `${what}: the cache reads`);
  assert.deepEqual(
    { channels: read.channels, height: read.height, width: read.width },
    { channels: 3, height: 8, width: 8 },
  );
  assert.ok(Buffer.from(read.images).equals(Buffer.from(original.images)), `${what}: the pixels written`);
}

test('a mutated pixel cache reads as no cache or as exactly the pixels written', async (t) => {
  const dir = tempDir(t, 'senet-cache-fuzz-');
  const file = join(dir, 'split.senetimg');
  await writePixelCache(file, digest, original);
  const valid = readFileSync(file);
  assertOriginal(await readPixelCache(file, digest, expected), 'the valid file');
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
      const bytes = mutate(valid, mutations);
      writeFileSync(file, bytes);
      const started = performance.now();
      const read = await readPixelCache(file, digest, expected);
      const ms = performance.now() - started;
      assert.ok(ms < MAX_READ_MS, `one read took ${ms.toFixed(0)} ms`);
      if (read === null) refused++;
      else assertOriginal(read, 'a mutated file that reads');
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  assert.ok(refused > RUNS / 2, `most mutations are refused (${refused} of ${RUNS})`);
});

test('the pixel cache is refused when its pixels, its folder state or its shape differ from what is asked', async (t) => {
  const dir = tempDir(t, 'senet-cache-');
  const file = join(dir, 'split.senetimg');
  await writePixelCache(file, digest, original);
  const valid = readFileSync(file);
  // One pixel changed behind the header: same length, same header, wrong checksum.
  const flipped = Buffer.from(valid);
  flipped[flipped.length - 1] ^= 1;
  writeFileSync(file, flipped);
  assert.equal(await readPixelCache(file, digest, expected), null);
  writeFileSync(file, valid);
  assert.equal(await readPixelCache(file, 'another folder state', expected), null);
  assert.equal(await readPixelCache(file, digest, { ...expected, count: 5 }), null);
  assert.equal(await readPixelCache(file, digest, { ...expected, size: 16 }), null);
  assert.equal(await readPixelCache(file, digest, { ...expected, channels: 1 }), null);
  assertOriginal(await readPixelCache(file, digest, { count: 4, channels: 3 }), 'without a size');
  // A header that is JSON but not an object, and one claiming more bytes than the file has.
  const prefix = (header: string) => {
    const json = Buffer.from(header);
    const head = Buffer.alloc(12);
    head.write('SENETIMG', 0, 'latin1');
    head.writeUInt32LE(json.length, 8);
    return Buffer.concat([head, json]);
  };
  for (const header of ['null', '[1, 2]', '"text"', '{"version": 2}']) {
    writeFileSync(file, prefix(header));
    assert.equal(await readPixelCache(file, digest, expected), null, header);
  }
  const long = prefix('{}');
  long.writeUInt32LE(0xffffffff, 8);
  writeFileSync(file, long);
  assert.equal(await readPixelCache(file, digest, expected), null);
  assert.equal(await readPixelCache(join(dir, 'missing.senetimg'), digest, expected), null);
  assert.equal(await readPixelCache(dir, digest, expected), null, 'a folder in its place');
});
