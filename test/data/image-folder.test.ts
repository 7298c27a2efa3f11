import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  loadImageFolder,
  loadCifar,
  classCounts,
  channelStats,
  CIFAR10_MEAN,
  CIFAR10_STD,
} from '../../src/data/index.js';
import { BIN_SAMPLE, CIFAR10_CLASSES, JPEG_FOLDER, tempDir } from './support.js';

test('the real CIFAR-10 JPEG test split: classes, counts, pixels, statistics, and a cache that is reused', async (t) => {
  const cacheDir = tempDir(t);
  let progressCalls = 0;
  const first = await loadImageFolder(JPEG_FOLDER, 'test', { cacheDir, onProgress: () => progressCalls++ });
  t.diagnostic(
    `decoded ${first.length} images in ${first.load.seconds.toFixed(2)} s (${Math.round(first.load.imagesPerSecond)} images/s)`,
  );
  assert.equal(first.load.fromCache, false);
  assert.equal(progressCalls, 10_000);
  assert.deepEqual(first.classes, CIFAR10_CLASSES);
  assert.equal(first.length, 10_000);
  assert.deepEqual(classCounts(first), new Array(10).fill(1000));
  assert.deepEqual([first.channels, first.height, first.width], [3, 32, 32]);
  assert.equal(first.paths[0], 'airplane/0000.jpg');
  assert.equal(first.paths[1000], 'automobile/0000.jpg');
  assert.equal(first.labels[1000], 1);

  // The binary sample holds test images 0000-0099 of every class, interleaved by class (record i is
  // image floor(i/10) of class i mod 10), written from an independent decoding of the same JPEGs:
  // the two parsers must agree on pixel layout (C×H×W, channel order) up to JPEG decoder rounding.
  const sample = await loadCifar('cifar10', 'test', { root: BIN_SAMPLE });
  const position = new Map(first.paths.map((p, i) => [p, i]));
  let worst = 0;
  for (let i = 0; i < sample.length; i++) {
    const path = `${sample.classes[sample.labels[i]]}/${String(Math.floor(i / 10)).padStart(4, '0')}.jpg`;
    const j = position.get(path)!;
    assert.equal(first.labels[j], sample.labels[i], path);
    for (let p = 0; p < 3072; p++)
      worst = Math.max(worst, Math.abs(first.images[j * 3072 + p] - sample.images[i * 3072 + p]));
  }
  assert.ok(worst <= 2, `largest pixel difference to the binary sample: ${worst}`);

  // The exported constants are CIFAR-10's training-set statistics; the test set's are within 0.01.
  const stats = channelStats(first);
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(stats.mean[c] - CIFAR10_MEAN[c]) < 0.01, `mean of channel ${c}: ${stats.mean[c]}`);
    assert.ok(Math.abs(stats.std[c] - CIFAR10_STD[c]) < 0.01, `std of channel ${c}: ${stats.std[c]}`);
  }

  progressCalls = 0;
  const second = await loadImageFolder(JPEG_FOLDER, 'test', { cacheDir, onProgress: () => progressCalls++ });
  t.diagnostic(`from the cache in ${second.load.seconds.toFixed(2)} s`);
  assert.equal(second.load.fromCache, true);
  assert.equal(progressCalls, 0, 'nothing decoded');
  assert.ok(
    second.load.seconds < first.load.seconds / 3,
    `cache ${second.load.seconds} s vs decoding ${first.load.seconds} s`,
  );
  assert.equal(Buffer.compare(second.images, first.images), 0);
  assert.deepEqual(second.labels, first.labels);
  assert.ok(second.load.cacheFile.startsWith(join(cacheDir, 'image-folders')), 'the cache lives in the cache folder');
  assert.ok(existsSync(second.load.cacheFile));
});

/** A small image folder copied from the real one: classes -> number of images per split. */
function smallFolder(t: { after(fn: () => void): void }, classes: string[], perClass = 3): string {
  const root = tempDir(t);
  for (const split of ['train', 'test']) {
    for (const [k, name] of classes.entries()) {
      mkdirSync(join(root, split, name), { recursive: true });
      for (let i = 0; i < perClass; i++) {
        const source = join(JPEG_FOLDER, split, CIFAR10_CLASSES[k], `${String(i).padStart(4, '0')}.jpg`);
        copyFileSync(source, join(root, split, name, `img${i}.jpg`));
      }
    }
  }
  return root;
}

test('the cache is rebuilt when a source file changes, and classes and files follow torchvision order', async (t) => {
  const root = smallFolder(t, ['b', 'B', 'a']);
  mkdirSync(join(root, 'train', 'a', 'sub'));
  copyFileSync(join(root, 'train', 'a', 'img0.jpg'), join(root, 'train', 'a', 'sub', 'deep.jpg'));
  writeFileSync(join(root, 'train', 'a', 'notes.txt'), 'not an image');
  const cacheDir = tempDir(t);

  const first = await loadImageFolder(root, 'train', { cacheDir });
  assert.deepEqual(first.classes, ['B', 'a', 'b'], 'sorted by code point, as Python sorts');
  assert.deepEqual(first.paths, [
    'B/img0.jpg',
    'B/img1.jpg',
    'B/img2.jpg',
    'a/img0.jpg',
    'a/img1.jpg',
    'a/img2.jpg',
    'a/sub/deep.jpg',
    'b/img0.jpg',
    'b/img1.jpg',
    'b/img2.jpg',
  ]);
  assert.deepEqual(Array.from(first.labels), [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
  const test = await loadImageFolder(root, 'test', { cacheDir });
  assert.deepEqual(test.classes, first.classes, 'the test split uses the classes of train');
  assert.equal((await loadImageFolder(root, 'train', { cacheDir })).load.fromCache, true);

  // Replace B/img0.jpg by b/img1.jpg: same class folder, other pixels.
  copyFileSync(join(root, 'train', 'b', 'img1.jpg'), join(root, 'train', 'B', 'img0.jpg'));
  utimesSync(join(root, 'train', 'B', 'img0.jpg'), new Date(), new Date(Date.now() + 5000));
  const changed = await loadImageFolder(root, 'train', { cacheDir });
  assert.equal(changed.load.fromCache, false);
  assert.deepEqual(changed.images.subarray(0, 3072), first.images.subarray(8 * 3072, 9 * 3072));
  assert.equal((await loadImageFolder(root, 'train', { cacheDir })).load.fromCache, true);
  assert.deepEqual(
    readdirSync(join(cacheDir, 'image-folders')).length,
    2,
    'one cache file per split, replaced in place',
  );
});

test('unreadable images are reported together, by path', async (t) => {
  const root = smallFolder(t, ['cat', 'dog']);
  writeFileSync(join(root, 'train', 'dog', 'broken.jpg'), 'this is not a JPEG');
  writeFileSync(join(root, 'train', 'cat', 'empty.png'), '');
  await assert.rejects(loadImageFolder(root, 'train', { cacheDir: tempDir(t) }), (error: Error) => {
    assert.match(error.message, /^2 images in .*train could not be decoded:/);
    assert.ok(error.message.includes(join(root, 'train', 'dog', 'broken.jpg')), error.message);
    assert.ok(error.message.includes(join(root, 'train', 'cat', 'empty.png')), error.message);
    return true;
  });
});

test('images of another size need `size`, which resizes them; greyscale becomes RGB', async (t) => {
  const root = smallFolder(t, ['cat', 'dog']);
  const gradient = Buffer.alloc(40 * 40 * 3, 0).map((_, i) => i % 251);
  await sharp(gradient, { raw: { width: 40, height: 40, channels: 3 } })
    .png()
    .toFile(join(root, 'train', 'dog', 'big.png'));
  const grey = Buffer.alloc(32 * 32, 0).map((_, i) => i % 256);
  await sharp(grey, { raw: { width: 32, height: 32, channels: 1 } })
    .png()
    .toFile(join(root, 'train', 'cat', 'grey.png'));
  const cacheDir = tempDir(t);

  await assert.rejects(
    loadImageFolder(root, 'train', { cacheDir }),
    /the images in .*train differ in size: cat\/grey\.png is 32×32 but 1 are not:\n {2}.*big\.png \(40×40\)\nPass a size/,
  );
  const resized = await loadImageFolder(root, 'train', { cacheDir, size: 32 });
  assert.equal(resized.length, 8);
  assert.deepEqual([resized.channels, resized.height, resized.width], [3, 32, 32]);
  const g = resized.paths.indexOf('cat/grey.png');
  const planes = [0, 1, 2].map((c) => resized.images.subarray(g * 3072 + c * 1024, g * 3072 + (c + 1) * 1024));
  assert.deepEqual(planes[0], Uint8Array.from(grey), 'a 32×32 image is kept as it is');
  assert.deepEqual(planes[1], planes[0]);
  assert.deepEqual(planes[2], planes[0]);
  const small = await loadImageFolder(root, 'train', { cacheDir, size: 16 });
  assert.deepEqual([small.height, small.width, small.images.length], [16, 16, 8 * 3 * 16 * 16]);
});

test('folder layout problems give clear errors', async (t) => {
  const cacheDir = tempDir(t);
  const root = smallFolder(t, ['cat']);
  mkdirSync(join(root, 'test', 'zebra'));
  await assert.rejects(loadImageFolder(root, 'test', { cacheDir }), /has class folders that train\/ does not: zebra/);
  await assert.rejects(
    loadImageFolder(tempDir(t), 'train', { cacheDir }),
    /is not an image folder: .*train is missing/,
  );
  await assert.rejects(loadImageFolder(root, 'val', { cacheDir }), /the image folder split .*val is missing/);
  mkdirSync(join(root, 'train', 'empty'));
  await assert.rejects(loadImageFolder(root, 'train', { cacheDir }), /the class folder .*empty has no images/);
  await assert.rejects(
    loadImageFolder(root, 'train', { cacheDir, size: 0 }),
    /image size must be a positive integer, got 0/,
  );
});
