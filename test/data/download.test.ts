// ensureCifar against a local HTTP server serving the sample archive (the machines have no network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tar from 'tar';
import { ensureCifar, loadCifar } from '../../src/data/index.js';
import { BIN_SAMPLE, tempDir } from './support.js';

const ARCHIVE = readFileSync(join(BIN_SAMPLE, 'cifar-10-binary.tar.gz'));
const ARCHIVE_MD5 = 'bb69fde886ecc626ea969244263fb35f';
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

interface ServerOptions {
  body?: Uint8Array;
  /** On the first request for the archive, close the connection after this many body bytes. */
  dropFirstAfter?: number;
  /** Answer every request with the whole file (200), as servers without Range support do. */
  ignoreRange?: boolean;
}

interface TestServer {
  url: string;
  redirectUrl: string;
  /** The Range header of each archive request (null when none). */
  ranges: (string | null)[];
}

async function serve(t: { after(fn: () => Promise<void>): void }, options: ServerOptions = {}): Promise<TestServer> {
  const body = options.body ?? ARCHIVE;
  const ranges: (string | null)[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/files/cifar-10-binary.tar.gz' }).end();
      return;
    }
    ranges.push(req.headers.range ?? null);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !options.ignoreRange) {
      const start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    if (options.dropFirstAfter !== undefined && ranges.length === 1) {
      res.write(body.subarray(0, options.dropFirstAfter), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${base}/files/cifar-10-binary.tar.gz`, redirectUrl: `${base}/moved`, ranges };
}

/** A port nothing listens on: a server is started to get a free port, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Everything in the cache folder except the extracted dataset and the verified archive. */
function leftovers(cacheDir: string): string[] {
  return readdirSync(cacheDir).filter((name) => name !== 'cifar-10-batches-bin' && name !== 'cifar-10-binary.tar.gz');
}

test('ensureCifar downloads (following a redirect), verifies, extracts, and then reuses the result', async (t) => {
  const server = await serve(t);
  const cacheDir = tempDir(t);
  const progress: [number, number | undefined][] = [];
  const folder = await ensureCifar('cifar10', {
    cacheDir,
    url: server.redirectUrl,
    md5: ARCHIVE_MD5,
    onProgress: (received, total) => progress.push([received, total]),
  });
  assert.equal(folder, join(cacheDir, 'cifar-10-batches-bin'));
  assert.deepEqual(server.ranges, [null]);
  assert.deepEqual(progress.at(-1), [ARCHIVE.length, ARCHIVE.length]);
  assert.ok(
    progress.every(([received], i) => i === 0 || received >= progress[i - 1][0]),
    'progress only grows',
  );
  assert.ok(existsSync(join(folder, '.senet-complete')));
  assert.deepEqual(leftovers(cacheDir), [], 'no .part file or temporary folder is left');
  assert.equal(
    md5(readFileSync(join(folder, 'test_batch.bin'))),
    md5(readFileSync(join(BIN_SAMPLE, 'cifar-10-batches-bin', 'test_batch.bin'))),
  );
  assert.equal((await loadCifar('cifar10', 'test', { root: cacheDir })).length, 1000);

  assert.equal(await ensureCifar('cifar10', { cacheDir, url: server.url, md5: ARCHIVE_MD5 }), folder);
  assert.equal(server.ranges.length, 1, 'a complete dataset is not downloaded again');
});

test('a dropped connection is resumed with a Range request, in the same call', async (t) => {
  const half = Math.floor(ARCHIVE.length / 2);
  const server = await serve(t, { dropFirstAfter: half });
  const cacheDir = tempDir(t);
  const folder = await ensureCifar('cifar10', { cacheDir, url: server.url, md5: ARCHIVE_MD5 });
  assert.equal(server.ranges.length, 2);
  assert.equal(server.ranges[0], null);
  const resumedFrom = Number(/^bytes=(\d+)-$/.exec(server.ranges[1] ?? '')?.[1]);
  assert.ok(resumedFrom > 0 && resumedFrom <= half, `resumed from byte ${resumedFrom}`);
  assert.equal((await loadCifar('cifar10', 'test', { root: cacheDir })).length, 1000);
  assert.ok(existsSync(join(folder, '.senet-complete')));
});

test('a later call resumes the .part file a failed call left', async (t) => {
  const half = Math.floor(ARCHIVE.length / 2);
  const server = await serve(t, { dropFirstAfter: half });
  const cacheDir = tempDir(t);
  await assert.rejects(
    ensureCifar('cifar10', { cacheDir, url: server.url, md5: ARCHIVE_MD5, retries: 0 }),
    /could not download CIFAR-10 from http:.*: the connection (broke|closed) after/,
  );
  assert.ok(!existsSync(join(cacheDir, 'cifar-10-batches-bin')), 'nothing extracted');
  const partSize = readFileSync(join(cacheDir, 'cifar-10-binary.tar.gz.part')).length;
  assert.ok(partSize > 0 && partSize <= half);

  await ensureCifar('cifar10', { cacheDir, url: server.url, md5: ARCHIVE_MD5, retries: 0 });
  assert.deepEqual(server.ranges, [null, `bytes=${partSize}-`]);
  assert.equal((await loadCifar('cifar10', 'test', { root: cacheDir })).length, 1000);
});

test('the download restarts from zero when the server ignores Range', async (t) => {
  const server = await serve(t, { dropFirstAfter: 100_000, ignoreRange: true });
  const cacheDir = tempDir(t);
  await ensureCifar('cifar10', { cacheDir, url: server.url, md5: ARCHIVE_MD5 });
  assert.equal(server.ranges.length, 2);
  assert.match(server.ranges[1] ?? '', /^bytes=[1-9]\d*-$/, 'the second request asked to resume');
  assert.equal(
    md5(readFileSync(join(cacheDir, 'cifar-10-binary.tar.gz'))),
    ARCHIVE_MD5,
    'the whole file, not appended',
  );
  assert.equal((await loadCifar('cifar10', 'test', { root: cacheDir })).length, 1000);
});

test('a corrupt .part from an earlier run is detected by the MD5 and the download restarts cleanly', async (t) => {
  const server = await serve(t);
  const cacheDir = tempDir(t);
  writeFileSync(join(cacheDir, 'cifar-10-binary.tar.gz.part'), new Uint8Array(1000).fill(7));
  await ensureCifar('cifar10', { cacheDir, url: server.url, md5: ARCHIVE_MD5 });
  assert.deepEqual(server.ranges, ['bytes=1000-', null]);
  assert.equal((await loadCifar('cifar10', 'test', { root: cacheDir })).length, 1000);
});

test('a wrong MD5 is a clear error and nothing is extracted or kept', async (t) => {
  const server = await serve(t);
  const cacheDir = tempDir(t);
  const wrong = '0123456789abcdef0123456789abcdef';
  await assert.rejects(
    ensureCifar('cifar10', { cacheDir, url: server.url, md5: wrong }),
    new RegExp(`has MD5 ${ARCHIVE_MD5}, expected ${wrong}; it was deleted`),
  );
  assert.deepEqual(readdirSync(cacheDir), []);
});

test('a truncated archive (with a matching MD5) fails extraction clearly and leaves nothing half-written', async (t) => {
  const truncated = ARCHIVE.subarray(0, Math.floor(ARCHIVE.length * 0.6));
  const server = await serve(t, { body: truncated });
  const cacheDir = tempDir(t);
  await assert.rejects(
    ensureCifar('cifar10', { cacheDir, url: server.url, md5: md5(truncated) }),
    /cannot extract .*cifar-10-binary\.tar\.gz: .*The archive is truncated or corrupt/,
  );
  assert.deepEqual(readdirSync(cacheDir), [], 'no dataset folder, temporary folder or archive remains');
});

test('without network the error names the URL and where to put the files by hand', async (t) => {
  const cacheDir = tempDir(t);
  const url = `http://127.0.0.1:${await closedPort()}/cifar-10-binary.tar.gz`;
  await assert.rejects(ensureCifar('cifar10', { cacheDir, url }), (error: Error) => {
    assert.match(error.message, new RegExp(`could not download CIFAR-10 from ${url.replace(/\./g, '\\.')}`));
    assert.match(error.message, /ECONNREFUSED/);
    assert.ok(error.message.includes(join(cacheDir, 'cifar-10-batches-bin')), error.message);
    assert.ok(error.message.includes(join(cacheDir, 'cifar-10-binary.tar.gz')), error.message);
    assert.match(error.message, /data_batch_1\.bin.*test_batch\.bin.*batches\.meta\.txt/);
    return true;
  });
});

test('files or an archive put in the cache by hand are used without a download', async (t) => {
  const url = `http://127.0.0.1:${await closedPort()}/unreachable.tar.gz`;
  const byHand = tempDir(t);
  cpSync(join(BIN_SAMPLE, 'cifar-10-batches-bin'), join(byHand, 'cifar-10-batches-bin'), { recursive: true });
  assert.equal(await ensureCifar('cifar10', { cacheDir: byHand, url }), join(byHand, 'cifar-10-batches-bin'));

  const archiveByHand = tempDir(t);
  copyFileSync(join(BIN_SAMPLE, 'cifar-10-binary.tar.gz'), join(archiveByHand, 'cifar-10-binary.tar.gz'));
  await ensureCifar('cifar10', { cacheDir: archiveByHand, url, md5: ARCHIVE_MD5 });
  assert.equal((await loadCifar('cifar10', 'test', { root: archiveByHand })).length, 1000);
});

test('another transport can be plugged in: globalThis.fetch', async (t) => {
  const server = await serve(t, { dropFirstAfter: 200_000 });
  const cacheDir = tempDir(t);
  await ensureCifar('cifar10', { cacheDir, url: server.redirectUrl, md5: ARCHIVE_MD5, fetchImpl: fetch });
  assert.equal(server.ranges.length, 2);
  assert.match(server.ranges[1] ?? '', /^bytes=\d+-$/);
  assert.equal((await loadCifar('cifar10', 'test', { root: cacheDir })).length, 1000);
});

/** A .tar.gz of `folder` (a sub-folder of `dir`), as bytes. */
function targz(dir: string, folder: string): Uint8Array {
  const file = join(dir, `${folder}.tar.gz`);
  tar.c({ gzip: true, file, cwd: dir, sync: true }, [folder]);
  return readFileSync(file);
}

test('CIFAR-100 archives are extracted and checked by their own layout', async (t) => {
  const work = tempDir(t);
  const folder = join(work, 'cifar-100-binary');
  mkdirSync(folder);
  writeFileSync(join(folder, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine${i}`).join('\n'));
  writeFileSync(join(folder, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `coarse${i}`).join('\n'));
  const record = new Uint8Array(3074).fill(9);
  writeFileSync(join(folder, 'test.bin'), record);
  const archive = targz(work, 'cifar-100-binary');
  const server = await serve(t, { body: archive });
  const cacheDir = tempDir(t);
  assert.equal(
    await ensureCifar('cifar100', { cacheDir, url: server.url, md5: md5(archive) }),
    join(cacheDir, 'cifar-100-binary'),
  );
  const ds = await loadCifar('cifar100', 'test', { root: cacheDir });
  assert.deepEqual([ds.length, ds.labels[0], ds.classes[9]], [1, 9, 'fine9']);

  // A record of the CIFAR-10 size is not a CIFAR-100 record.
  writeFileSync(join(folder, 'test.bin'), new Uint8Array(3073));
  const wrongRecords = targz(work, 'cifar-100-binary');
  const server2 = await serve(t, { body: wrongRecords });
  const cacheDir2 = tempDir(t);
  await assert.rejects(
    ensureCifar('cifar100', { cacheDir: cacheDir2, url: server2.url, md5: md5(wrongRecords) }),
    /is not a CIFAR-100 binary archive: cifar-100-binary\/test\.bin is 3073 bytes, not whole 3074-byte records/,
  );
  assert.deepEqual(
    readdirSync(cacheDir2),
    ['cifar-100-binary.tar.gz'],
    'nothing extracted; the verified archive stays',
  );
});

test('an archive of something else is refused and nothing is extracted', async (t) => {
  const work = tempDir(t);
  mkdirSync(join(work, 'photos'));
  writeFileSync(join(work, 'photos', 'a.txt'), 'hello');
  const archive = targz(work, 'photos');
  const server = await serve(t, { body: archive });
  const cacheDir = tempDir(t);
  await assert.rejects(
    ensureCifar('cifar10', { cacheDir, url: server.url, md5: md5(archive) }),
    /is not a CIFAR-10 binary archive: it has no cifar-10-batches-bin\/ folder/,
  );
  assert.deepEqual(readdirSync(cacheDir), ['cifar-10-binary.tar.gz']);
});
