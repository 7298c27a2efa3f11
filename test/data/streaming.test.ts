// Streaming image folders and tar shards: batches decoded per epoch with flat memory, reproducible from
// the seed (and resumable), the evaluation split chosen as val/validation/test, WebDataset shards read
// through a shuffle buffer, and unreadable images named, skipped and counted instead of crashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tar from 'tar';
import * as torch from '../../src/torch/index.js';
import {
  chooseDataMode,
  imageFolderSource,
  openStreamingSource,
  StreamingLoader,
  NORMALIZATIONS,
  type UnreadableReport,
} from '../../src/data/index.js';
import { loadStreamingData, makeLoader, prepareData, splitFolder } from '../../src/train/data.js';
import { colourJitter } from '../../src/data/image-decode.js';
import { tempDir } from './support.js';

/** A small JPEG of noise (seeded, so every run makes the same files), w×h. */
async function noiseJpeg(seed: number, width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < pixels.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    pixels[i] = s >>> 24;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg()
    .toBuffer();
}

/** root/<split>/<class>/<i>.jpg for the given splits: `perClass` images of each of two classes. */
async function makeFolder(root: string, splits: string[], perClass: number): Promise<void> {
  let seed = 1;
  for (const split of splits) {
    for (const cls of ['cat', 'dog']) {
      mkdirSync(join(root, split, cls), { recursive: true });
      for (let i = 0; i < perClass; i++) {
        writeFileSync(
          join(root, split, cls, `${i}.jpg`),
          await noiseJpeg(seed++, 80 + (i % 3) * 10, 60 + (i % 2) * 30),
        );
      }
    }
  }
}

test('a folder bigger than the cache limit streams, every epoch whole, with flat memory', async (t) => {
  const root = tempDir(t);
  await makeFolder(root, ['train'], 12);
  assert.equal(
    chooseDataMode({ requested: 'auto', augment: 'none', imageSize: 96, imageCount: 24, cacheLimitBytes: 100_000 }),
    'stream',
  );
  assert.equal(
    chooseDataMode({ requested: 'auto', augment: 'none', imageSize: 96, imageCount: 24, cacheLimitBytes: 10_000_000 }),
    'memory',
  );
  assert.equal(chooseDataMode({ requested: 'auto', augment: 'none', imageSize: 32, imageCount: 10 ** 9 }), 'memory');
  assert.equal(
    chooseDataMode({ requested: 'auto', augment: 'random-resized-crop', imageSize: 32, imageCount: 1 }),
    'stream',
  );
  assert.throws(
    () => chooseDataMode({ requested: 'memory', augment: 'random-resized-crop', imageSize: 96, imageCount: 1 }),
    /needs --data-mode stream/,
  );

  const source = await imageFolderSource(root, 'train');
  const loader = new StreamingLoader(source, {
    batchSize: 5,
    shuffle: true,
    seed: 3,
    prefetch: 2,
    view: { size: 96, augment: 'random-resized-crop', ...NORMALIZATIONS.imagenet },
  });
  assert.equal(loader.length, 5);
  const tensorsBefore = torch.memory().tensors;
  const tensorsAfter: number[] = [];
  const rss: number[] = [];
  for (let epoch = 0; epoch < 4; epoch++) {
    const labels: number[] = [];
    for await (const batch of loader.epoch(epoch)) {
      assert.deepEqual(batch.x.shape.slice(1), [3, 96, 96]);
      assert.equal(batch.x.dtype, 'float32');
      assert.equal(batch.y.dtype, 'int64');
      const [low, high] = torch.tidy(() => [batch.x.min().item(), batch.x.max().item()]);
      assert.ok(low >= -2.2 && high <= 2.7 && high - low > 1, `normalised range ${low}..${high}`);
      labels.push(...(batch.y.toArray() as number[]));
      torch.dispose(batch);
    }
    assert.equal(labels.length, 24);
    assert.deepEqual([...labels].sort(), [...source.listing.labels].sort());
    tensorsAfter.push(torch.memory().tensors);
    rss.push(process.memoryUsage().rss);
  }
  assert.deepEqual(tensorsAfter, [tensorsBefore, tensorsBefore, tensorsBefore, tensorsBefore]);
  assert.ok(rss[3] - rss[1] < 64 * 1024 ** 2, `RSS grew by ${((rss[3] - rss[1]) / 1024 ** 2).toFixed(1)} MB`);
});

test('an epoch is the same for the same seed, resumes at a batch, and differs for another seed', async (t) => {
  const root = tempDir(t);
  await makeFolder(root, ['train'], 4);
  const source = await imageFolderSource(root, 'train');
  const make = (seed: number) =>
    new StreamingLoader(source, {
      batchSize: 3,
      shuffle: true,
      seed,
      view: { size: 32, augment: 'random-resized-crop', colorJitter: 0.4 },
    });
  const epoch = async (loader: StreamingLoader, startBatch = 0) => {
    const out: number[][] = [];
    for await (const batch of loader.epoch(2, { startBatch })) {
      out.push([...(batch.x.toArray() as number[][][][]).flat(3), ...(batch.y.toArray() as number[])]);
      torch.dispose(batch);
    }
    return out;
  };
  const full = await epoch(make(5));
  assert.equal(full.length, 3);
  assert.deepEqual(await epoch(make(5)), full);
  assert.deepEqual(await epoch(make(5), 1), full.slice(1));
  assert.notDeepEqual(await epoch(make(6)), full);
});

test('evaluation reads val, else validation, else test; train reads train', async (t) => {
  const root = tempDir(t);
  await makeFolder(root, ['train', 'test'], 1);
  assert.equal(splitFolder(root, 'evaluation'), 'test');
  assert.throws(() => splitFolder(root, 'validation'), /has no val or validation split/);
  assert.equal((await openStreamingSource(root, 'evaluation')).name.split('/').pop(), 'test');
  await makeFolder(root, ['validation'], 1);
  assert.equal(splitFolder(root, 'evaluation'), 'validation');
  assert.equal((await openStreamingSource(root, 'evaluation')).name.split('/').pop(), 'validation');
  await makeFolder(root, ['val'], 1);
  assert.equal(splitFolder(root, 'evaluation'), 'val');
  assert.equal(splitFolder(root, 'test'), 'test');
  const data = await loadStreamingData(root);
  assert.equal(data.test.name.split('/').pop(), 'val');
  assert.equal(data.train.name.split('/').pop(), 'train');
  assert.deepEqual(data.classes, ['cat', 'dog']);
  const empty = tempDir(t);
  await assert.rejects(openStreamingSource(empty, 'train'), /has no train split/);
});

test('tar shards stream every sample once per epoch through the shuffle buffer, in a new order each epoch', async (t) => {
  const root = tempDir(t);
  const staging = join(root, 'staging');
  mkdirSync(staging);
  const labels = new Map<string, number>();
  for (let shard = 0; shard < 3; shard++) {
    const names: string[] = [];
    for (let i = 0; i < 7; i++) {
      const key = `s${shard}_${String(i).padStart(3, '0')}`;
      labels.set(key, (shard + i) % 3);
      writeFileSync(join(staging, `${key}.jpg`), await noiseJpeg(shard * 100 + i, 40, 30));
      writeFileSync(join(staging, `${key}.cls`), String((shard + i) % 3));
      names.push(`${key}.jpg`, `${key}.cls`);
    }
    await tar.c({ file: join(root, `train-${String(shard).padStart(6, '0')}.tar`), cwd: staging }, names);
  }
  writeFileSync(join(root, 'classes.txt'), 'red\ngreen\nblue\n');
  const source = await openStreamingSource(root, 'train');
  assert.equal(source.length, 21);
  assert.deepEqual(source.classes, ['red', 'green', 'blue']);

  const orders: string[][] = [];
  for (const epoch of [0, 1]) {
    const seen: string[] = [];
    for await (const sample of source.samples(epoch, true, 9)) {
      const key = sample.name.split(':')[1];
      assert.equal(sample.label, labels.get(key), key);
      assert.deepEqual(sample.input, readFileSync(join(staging, `${key}.jpg`)));
      seen.push(key);
    }
    assert.deepEqual([...seen].sort(), [...labels.keys()].sort());
    orders.push(seen);
  }
  assert.notDeepEqual(orders[0], orders[1]);
  const inOrder: string[] = [];
  for await (const sample of source.samples(0, false, 9)) inOrder.push(sample.name.split(':')[1]);
  assert.deepEqual(inOrder, [...labels.keys()]);

  const loader = new StreamingLoader(source, { batchSize: 8, shuffle: true, view: { size: 24, augment: 'none' } });
  let count = 0;
  for await (const batch of loader.epoch(0)) {
    count += batch.y.size(0);
    torch.dispose(batch);
  }
  assert.equal(count, 21);
});

test('truncated, random-byte and empty images are named, skipped and counted, once per epoch', async (t) => {
  const root = tempDir(t);
  await makeFolder(root, ['train'], 3);
  const good = readFileSync(join(root, 'train', 'cat', '0.jpg'));
  writeFileSync(join(root, 'train', 'cat', 'truncated.jpg'), good.subarray(0, Math.floor(good.length / 2)));
  writeFileSync(
    join(root, 'train', 'dog', 'noise.jpg'),
    Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)),
  );
  writeFileSync(join(root, 'train', 'dog', 'empty.jpg'), Buffer.alloc(0));
  const reports: UnreadableReport[] = [];
  const source = await imageFolderSource(root, 'train');
  assert.equal(source.length, 9);
  const loader = new StreamingLoader(source, {
    batchSize: 4,
    shuffle: true,
    view: { size: 32, augment: 'random-resized-crop' },
    onUnreadable: (r) => reports.push(r),
  });
  for (const epoch of [0, 1]) {
    let count = 0;
    for await (const batch of loader.epoch(epoch)) {
      count += batch.y.size(0);
      torch.dispose(batch);
    }
    assert.equal(count, 6);
  }
  assert.equal(reports.length, 2);
  assert.deepEqual(
    reports.map((r) => r.epoch),
    [0, 1],
  );
  for (const r of reports) {
    assert.deepEqual(r.images.map((i) => i.name).sort(), ['cat/truncated.jpg', 'dog/empty.jpg', 'dog/noise.jpg']);
    assert.ok(r.images.every((i) => i.reason.length > 0));
  }
  assert.equal(loader.unreadable.size, 3);
});

test("colour jitter: brightness scales, contrast 0 gives the mean grey, saturation 0 gives each pixel's grey", () => {
  const rgb = () => Uint8Array.from([100, 200, 40, 10, 20, 30]);
  const brighter = rgb();
  colourJitter(brighter, { brightness: 1.5, contrast: 1, saturation: 1, order: [0, 1, 2] });
  assert.deepEqual([...brighter], [150, 255, 60, 15, 30, 45]);
  // Luma (299 R + 587 G + 114 B) / 1000: 151.86 and 18.15; their mean 85.005 rounds to 85.
  const flat = rgb();
  colourJitter(flat, { brightness: 1, contrast: 0, saturation: 1, order: [1] });
  assert.deepEqual([...flat], [85, 85, 85, 85, 85, 85]);
  const grey = rgb();
  colourJitter(grey, { brightness: 1, contrast: 1, saturation: 0, order: [2] });
  assert.deepEqual([...grey], [152, 152, 152, 18, 18, 18]);
});

test('prepareData streams for random-resized-crop and keeps small images in memory; makeLoader follows', async (t) => {
  const root = tempDir(t);
  await makeFolder(root, ['train', 'validation'], 2);
  const streamed = await prepareData(root, { imageSize: 40, augment: 'random-resized-crop' });
  assert.equal(streamed.mode, 'stream');
  assert.deepEqual(streamed.imageShape, [3, 40, 40]);
  assert.equal(streamed.test.length, 4);
  const loader = makeLoader(streamed, 'train', { batchSize: 3, transform: { augment: 'random-resized-crop' } });
  assert.ok(loader instanceof StreamingLoader);
  const memory = await prepareData(root, { imageSize: 40, augment: 'none', cacheDir: join(root, 'cache') });
  assert.equal(memory.mode, 'memory');
  assert.equal(memory.test.length, 4); // the validation split
  assert.throws(
    () => makeLoader(streamed, 'train', { batchSize: 3, transform: { augment: 'crop-flip' } }),
    /none or random-resized-crop/,
  );
  await assert.rejects(
    prepareData(root, { imageSize: 40, augment: 'random-resized-crop', dataMode: 'memory' }),
    /needs --data-mode stream/,
  );
});

test('shards: each rank streams every W-th sample, with the views one process draws at those positions', async (t) => {
  const root = tempDir(t);
  await makeFolder(root, ['train'], 5);
  const source = await imageFolderSource(root, 'train');
  const view = { size: 32, augment: 'random-resized-crop' as const };
  const views = async (shard?: { rank: number; worldSize: number; padded?: boolean }) => {
    const loader = new StreamingLoader(source, { batchSize: 1, shuffle: true, seed: 4, view, shard });
    const out: number[][] = [];
    for await (const batch of loader.epoch(1)) {
      out.push([...(batch.x.toArray() as number[][][][]).flat(3), ...(batch.y.toArray() as number[])]);
      torch.dispose(batch);
    }
    assert.equal(out.length, loader.length);
    return out;
  };
  const alone = await views();
  assert.equal(alone.length, 10);
  // 10 samples over 3 ranks, padded to 12: rank r reads positions r, r + 3, r + 6, r + 9.
  for (let rank = 0; rank < 3; rank++) {
    const mine = await views({ rank, worldSize: 3 });
    assert.equal(mine.length, 4);
    for (let k = 0; k < 4; k++) {
      const position = rank + 3 * k;
      if (position < 10) assert.deepEqual(mine[k], alone[position], `rank ${rank}, position ${position}`);
      // A padding position repeats the epoch's first samples (their label), with a view of its own.
      else assert.equal(mine[k].at(-1), alone[position - 10].at(-1));
    }
  }
  // Unpadded (evaluation): every sample once, 4 + 3 + 3.
  const unpadded = await Promise.all([0, 1, 2].map((rank) => views({ rank, worldSize: 3, padded: false })));
  assert.deepEqual(
    unpadded.map((r) => r.length),
    [4, 3, 3],
  );
  assert.deepEqual(unpadded.flat().sort(), [...alone].sort());
  assert.throws(
    () => new StreamingLoader(source, { batchSize: 1, view, shard: { rank: 3, worldSize: 3 } }),
    /StreamingLoader: shard must be \{ rank in 0..worldSize-1/,
  );
});
