// Hostile files given to the readers: a checkpoint whose storage bytes were changed (CRC-32), zip bombs
// (honest and lying about their size), paths that are not regular files (directories, devices, FIFOs),
// and writers facing a full disk (a write that comes back short must never install a truncated file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import { zipSync } from 'fflate';
import * as torch from '../../src/torch/index.js';
import { PyDict } from '../../src/torch/io/python-values.js';
import { readZip } from '../../src/torch/io/zip.js';
import { writeFileAtomic, type WriteFs } from '../../src/util/files.js';
import { writeFileAtomic as writeCacheFileAtomic } from '../../src/data/cache.js';
import { downloadFile } from '../../src/data/http-download.js';
import type { FetchLike } from '../../src/data/http-get.js';

const { io } = torch;

function withTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'senet-hostile-'));
  return Promise.resolve()
    .then(() => fn(dir))
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** A zip of one entry whose data is given raw (deflated or not), with the sizes and CRC it claims. */
function zipWithEntry(
  name: string,
  data: Uint8Array,
  claims: { method: number; size: number; crc: number },
): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const local = Buffer.alloc(30 + nameBytes.length);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(claims.method, 8);
  local.writeUInt32LE(claims.crc >>> 0, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(claims.size, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  local.set(nameBytes, 30);
  const central = Buffer.alloc(46 + nameBytes.length);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(claims.method, 10);
  central.writeUInt32LE(claims.crc >>> 0, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(claims.size, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42);
  central.set(nameBytes, 46);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length, 12);
  end.writeUInt32LE(local.length + data.length, 16);
  return Buffer.concat([local, data, central, end]);
}

/**
 * 3 GiB of zeros as raw DEFLATE, built without holding them: 64 MiB of zeros deflated with a full flush
 * (byte-aligned, no reference to earlier data) repeated 48 times, then an empty final block.
 */
function deflatedZeros(): Uint8Array {
  const block = deflateRawSync(Buffer.alloc(64 * 2 ** 20), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  return Buffer.concat([...Array.from({ length: 48 }, () => block), Buffer.from([0x03, 0x00])]);
}
const THREE_GIB = 48 * 64 * 2 ** 20;

test('a checkpoint whose storage bytes were changed fails its CRC-32 check instead of loading wrong weights', () => {
  const values = [1.5, 2.5, 3.5, 4.5];
  const weights = torch.tensor(values);
  const good = io.serializePt(new PyDict([['w', weights]], true));
  weights.dispose();
  const at = Buffer.from(good).indexOf(Buffer.from(new Float32Array(values).buffer));
  assert.ok(at > 0, 'the storage bytes are in the file');
  const bad = Uint8Array.from(good);
  bad[at + 7] ^= 0x40; // 2.5 becomes another float
  assert.throws(
    () => io.parsePt(bad, 'flipped.pt'),
    /^Error: flipped\.pt: zip entry 'archive\/data\/0' fails its CRC-32 check \(recorded 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\); the file is corrupt$/,
  );
  // The same checkpoint with its entries deflated (as a zip tool would re-pack it) still loads.
  const entries = readZip(good, 'good.pt');
  const repacked = zipSync(Object.fromEntries([...entries].map(([name, data]) => [name, [data, { level: 6 }]])));
  assert.ok(repacked.length < good.length, 'the entries are deflated');
  const loaded = io.parsePt(repacked, 'repacked.pt') as Map<string, torch.Tensor>;
  assert.deepEqual([...loaded.get('w')!.data()], values);
  loaded.get('w')!.dispose();
});

test('a zip bomb is refused before it is inflated, or as soon as it inflates past its declared size', () => {
  const zeros = deflatedZeros();
  assert.ok(zeros.length < 4 * 2 ** 20, `the bomb is ${zeros.length} bytes`);
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const honest = zipWithEntry('archive/data.pkl', zeros, { method: 8, size: THREE_GIB, crc: 0 });
  assert.throws(
    () => io.parsePt(honest, 'bomb.pt'),
    new RegExp(
      `^Error: bomb\\.pt: zip entry 'archive/data\\.pkl' declares ${THREE_GIB} bytes once inflated, more than ` +
        `the \\d+ left of the 268435456-byte budget for a ${honest.length}-byte archive \\(a decompression bomb\\?\\); ` +
        're-save the checkpoint uncompressed, as torch\\.save does$',
    ),
  );
  const lying = zipWithEntry('archive/data.pkl', zeros, { method: 8, size: 1000, crc: 0 });
  assert.throws(
    () => io.parsePt(lying, 'liar.pt'),
    /^Error: liar\.pt: zip entry 'archive\/data\.pkl' inflates to more than its declared 1000 bytes; the file is corrupt$/,
  );
  const seconds = (performance.now() - started) / 1000;
  const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(seconds < 2, `refused in ${seconds.toFixed(2)} s`);
  assert.ok(grownMiB < 100, `memory grew by ${grownMiB.toFixed(0)} MiB`);
  // The budget is an option: a small one refuses an honest entry that would fit the default.
  const small = zipWithEntry('e', deflateRawSync(Buffer.alloc(5000)), { method: 8, size: 5000, crc: 0 });
  assert.throws(
    () => readZip(small, 's.zip', { maxInflatedBytes: 4096 }),
    /declares 5000 bytes once inflated, more than the 4096 left/,
  );
  assert.throws(() => readZip(small, 's.zip'), /zip entry 'e' fails its CRC-32 check/);
});

test('readers refuse directories, devices and FIFOs with one clear error instead of blocking', () =>
  withTempDir((dir) => {
    const folder = join(dir, 'weights.pt');
    mkdirSync(folder);
    assert.throws(
      () => io.load(folder),
      /^Error: cannot read the checkpoint .*weights\.pt: it is a directory, not a regular file; give the path of a file$/,
    );
    assert.throws(
      () => io.loadNpy('/dev/zero'),
      /^Error: cannot read the \.npy file \/dev\/zero: it is a device, not a regular file; give the path of a file$/,
    );
    assert.throws(
      () => io.loadSafetensors('/dev/null'),
      /cannot read the safetensors file \/dev\/null: it is a device/,
    );
    const fifo = join(dir, 'images.npy');
    execFileSync('mkfifo', [fifo]);
    assert.throws(
      () => io.loadNpy(fifo),
      /^Error: cannot read the \.npy file .*images\.npy: it is a FIFO \(named pipe\), not a regular file/,
    );
    assert.throws(
      () => io.loadPt(join(dir, 'absent.pt')),
      /^Error: cannot read the checkpoint .*absent\.pt: it does not exist$/,
    );
  }));

/** A file system whose disk fills after `room` bytes: later writes come back short, then write nothing. */
function fullDiskAfter(room: number): WriteFs {
  let left = room;
  return {
    writeSync(fd, data, offset, length) {
      const n = Math.min(length, left);
      left -= n;
      return n === 0 ? 0 : execWrite(fd, data, offset, n);
    },
  };
}
function execWrite(fd: number, data: Uint8Array, offset: number, length: number): number {
  writeFileSync(fd, data.subarray(offset, offset + length));
  return length;
}

test('a full disk never leaves a truncated file under its final name (atomic writes, cache, download)', () =>
  withTempDir(async (dir) => {
    const target = join(dir, 'model.safetensors');
    writeFileSync(target, 'old contents');
    const data = new Uint8Array(10_000).fill(7);
    assert.throws(
      () => writeFileAtomic(target, data, fullDiskAfter(4096)),
      /^Error: cannot write .*model\.safetensors\..*\.tmp: only 4096 of 10000 bytes could be written \(is the disk full\?\)$/,
    );
    assert.equal(readFileSync(target, 'utf8'), 'old contents');
    await assert.rejects(
      writeCacheFileAtomic(join(dir, 'cache', 'pixels.senetimg'), [data, data], fullDiskAfter(15_000)),
      /only 5000 of 10000 bytes could be written \(is the disk full\?\)/,
    );
    assert.ok(!existsSync(join(dir, 'cache', 'pixels.senetimg')));
    // A download whose disk fills: the error says so, and nothing is installed under the final name.
    const body = new Uint8Array(50_000).fill(3);
    const fetchImpl: FetchLike = async () => ({
      status: 200,
      headers: { get: (name: string) => (name === 'content-length' ? String(body.length) : null) },
      body: (async function* () {
        for (let at = 0; at < body.length; at += 8192) yield body.subarray(at, at + 8192);
      })(),
    });
    const dest = join(dir, 'download.bin');
    await assert.rejects(
      downloadFile('http://example.invalid/x', dest, { fetchImpl, writeFs: fullDiskAfter(20_000) }),
      /only 3616 of 8192 bytes could be written \(is the disk full\?\)/,
    );
    assert.ok(!existsSync(dest));
    assert.deepEqual(readdirSync(dir).sort(), ['cache', 'download.bin.part', 'model.safetensors']);
    // With room, the same download installs the whole file.
    await downloadFile('http://example.invalid/x', dest, { fetchImpl: async (url, init) => fetchImpl(url, init) });
    assert.equal(readFileSync(dest).length, body.length);
  }));
