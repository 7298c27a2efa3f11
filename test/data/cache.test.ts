import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultCacheDir, resolveCacheDir, writeFileAtomic } from '../../src/data/cache.js';
import { tempDir } from './support.js';

test('the cache folder is $SENET_DATA, else ~/.cache/senet', (t) => {
  const saved = process.env.SENET_DATA;
  t.after(() => {
    if (saved === undefined) delete process.env.SENET_DATA;
    else process.env.SENET_DATA = saved;
  });
  process.env.SENET_DATA = '/data/senet-cache';
  assert.equal(defaultCacheDir(), '/data/senet-cache');
  assert.equal(resolveCacheDir('relative/dir'), join(process.cwd(), 'relative/dir'));
  delete process.env.SENET_DATA;
  assert.equal(defaultCacheDir(), join(homedir(), '.cache', 'senet'));
  assert.equal(resolveCacheDir(), join(homedir(), '.cache', 'senet'));
});

test('writeFileAtomic writes all chunks, creates folders, and leaves no temporary file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'nested', 'out.bin');
  await writeFileAtomic(file, [Uint8Array.from([1, 2]), Uint8Array.from([3])]);
  await writeFileAtomic(file, [Uint8Array.from([4, 5, 6, 7])]);
  assert.deepEqual(Array.from(readFileSync(file)), [4, 5, 6, 7]);
  assert.deepEqual(readdirSync(join(dir, 'nested')), ['out.bin']);
});
