import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import {
  DataLoader,
  makeDataset,
  deriveSeed,
  type Batch,
  type ImageDataset,
  type DataLoaderOptions,
} from '../../src/data/index.js';
import { loadFixture, type FixtureTensor } from '../helpers.js';

/** n images of 3×4×4 whose every pixel is the image's index (so a batch tells which images it holds). */
function indexedDataset(n: number, classes = 3): ImageDataset {
  const images = new Uint8Array(n * 48);
  for (let i = 0; i < n; i++) images.fill(i, i * 48, (i + 1) * 48);
  return makeDataset({
    name: 'indexed',
    images,
    labels: Int32Array.from({ length: n }, (_, i) => i % classes),
    classes: Array.from({ length: classes }, (_, i) => `class${i}`),
    channels: 3,
    height: 4,
    width: 4,
  });
}

/** The dataset indices in a batch of indexedDataset, read back from x (pixels scaled to [0, 1]). */
function imageIndices(batch: Batch): number[] {
  return torch.tidy(() =>
    Array.from(batch.x.select(1, 0).select(1, 0).select(1, 0).mul(255).round().data() as Float32Array),
  );
}

interface EpochSummary {
  indices: number[][];
  labels: number[][];
  x: Float32Array[];
  batchIndices: number[];
}

async function runEpoch(loader: DataLoader, epoch: number, startBatch = 0): Promise<EpochSummary> {
  const summary: EpochSummary = { indices: [], labels: [], x: [], batchIndices: [] };
  for await (const batch of loader.epoch(epoch, { startBatch })) {
    summary.indices.push(imageIndices(batch));
    summary.labels.push(Array.from(batch.y.data() as BigInt64Array, Number));
    summary.x.push(batch.x.data() as Float32Array);
    summary.batchIndices.push(batch.index);
    torch.dispose(batch);
  }
  return summary;
}

function loader(dataset: ImageDataset, options: Partial<DataLoaderOptions> = {}): DataLoader {
  return new DataLoader(dataset, { batchSize: 4, ...options });
}

test('batches have the configured shapes and dtypes; the last one is short unless dropLast', async () => {
  const ds = indexedDataset(10);
  const plain = loader(ds);
  assert.equal(plain.length, 3);
  const shapes: number[][] = [];
  for await (const batch of plain.epoch(0)) {
    assert.equal(batch.x.dtype, 'float32');
    assert.equal(batch.y.dtype, 'int64');
    shapes.push([...batch.x.shape, ...batch.y.shape]);
    torch.dispose(batch);
  }
  assert.deepEqual(shapes, [
    [4, 3, 4, 4, 4],
    [4, 3, 4, 4, 4],
    [2, 3, 4, 4, 2],
  ]);
  const epoch = await runEpoch(plain, 0);
  assert.deepEqual(
    epoch.indices,
    [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ],
    'without shuffle, dataset order',
  );
  assert.deepEqual(epoch.batchIndices, [0, 1, 2]);

  const dropping = loader(ds, { dropLast: true });
  assert.equal(dropping.length, 2);
  assert.deepEqual((await runEpoch(dropping, 0)).indices, [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
  ]);
  plain.dispose();
  dropping.dispose();
});

test('a shuffled epoch holds every image exactly once, each with its own label', async () => {
  const ds = indexedDataset(23);
  const l = loader(ds, { batchSize: 5, shuffle: true, seed: 3, transform: { augment: 'none' } });
  const epoch = await runEpoch(l, 0);
  const all = epoch.indices.flat();
  assert.deepEqual(
    [...all].sort((a, b) => a - b),
    Array.from({ length: 23 }, (_, i) => i),
  );
  assert.notDeepEqual(
    all,
    [...all].sort((a, b) => a - b),
    'shuffled',
  );
  assert.deepEqual(
    epoch.labels.flat(),
    all.map((i) => i % 3),
  );
  l.dispose();
});

test('the epoch order is fixed by (seed, epoch) and equals PyTorch randperm with the derived seed', async () => {
  const cases =
    loadFixture<{ seed: string; epoch: number; n: number; derived: string; order: FixtureTensor }[]>('data');
  for (const c of cases) {
    assert.equal(
      deriveSeed(BigInt(c.seed), c.epoch, 0),
      BigInt(c.derived),
      `derived seed for seed ${c.seed}, epoch ${c.epoch}`,
    );
    const l = loader(indexedDataset(c.n), { batchSize: 8, shuffle: true, seed: BigInt(c.seed) });
    assert.deepEqual(
      (await runEpoch(l, c.epoch)).indices.flat(),
      c.order.data,
      `order for seed ${c.seed}, epoch ${c.epoch}`,
    );
    l.dispose();
  }
});

test('an epoch is the same whatever ran before; other epochs and seeds differ', async () => {
  const ds = indexedDataset(40);
  const options = { batchSize: 8, shuffle: true, seed: 17, transform: { augment: 'crop-flip' as const } };
  const first = loader(ds, options);
  const e2 = await runEpoch(first, 2);
  const fresh = loader(ds, options);
  await runEpoch(fresh, 0);
  await runEpoch(fresh, 5);
  const again = await runEpoch(fresh, 2);
  assert.deepEqual(again.indices, e2.indices);
  assert.deepEqual(again.x, e2.x, 'the same augmentation too');
  assert.notDeepEqual((await runEpoch(first, 3)).indices, e2.indices);
  const otherSeed = loader(ds, { ...options, seed: 18 });
  assert.notDeepEqual((await runEpoch(otherSeed, 2)).indices, e2.indices);
  const morePrefetch = loader(ds, { ...options, prefetch: 5 });
  assert.deepEqual((await runEpoch(morePrefetch, 2)).x, e2.x, 'independent of how far ahead batches are prepared');
  [first, fresh, otherSeed, morePrefetch].forEach((l) => l.dispose());
});

test('startBatch resumes an epoch exactly where a full pass would be', async () => {
  const ds = indexedDataset(30);
  const l = loader(ds, {
    batchSize: 4,
    shuffle: true,
    seed: 5,
    transform: { augment: 'crop-flip', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  });
  const full = await runEpoch(l, 1);
  const resumed = await runEpoch(l, 1, 3);
  assert.deepEqual(resumed.batchIndices, full.batchIndices.slice(3));
  assert.deepEqual(resumed.x, full.x.slice(3));
  assert.deepEqual(resumed.labels, full.labels.slice(3));
  assert.deepEqual((await runEpoch(l, 1, l.length)).x, [], 'starting at the end yields nothing');
  l.dispose();
});

test('no tensor outlives an epoch (nor an epoch left early), and dispose frees the dataset copy', async () => {
  const start = torch.memory().tensors;
  const l = loader(indexedDataset(50), {
    batchSize: 8,
    shuffle: true,
    transform: { augment: 'crop-flip' },
    prefetch: 3,
  });
  const withLoader = torch.memory().tensors;
  assert.equal(withLoader, start + 2, 'images and labels');
  await runEpoch(l, 0);
  assert.equal(torch.memory().tensors, withLoader);
  for await (const batch of l.epoch(1)) {
    torch.dispose(batch);
    if (batch.index === 1) break;
  }
  assert.equal(torch.memory().tensors, withLoader, 'prefetched batches are freed on break');
  // Batches survive the caller's tidy scopes: they belong to the caller until disposed.
  await torch.tidy(async () => {
    for await (const batch of l.epoch(2)) {
      assert.equal(batch.x.isDisposed, false);
      torch.tidy(() => batch.x.mul(2).sum());
      torch.dispose(batch);
    }
  });
  assert.equal(torch.memory().tensors, withLoader);
  l.dispose();
  assert.equal(torch.memory().tensors, start);
  await assert.rejects(l.epoch(0).next(), /used after dispose/);
});

test('batches are delivered on the requested device (the meta device stands in for a GPU here)', async () => {
  const start = torch.memory().tensors;
  const l = loader(indexedDataset(10), { device: 'meta', transform: { augment: 'crop-flip' } });
  for await (const batch of l.epoch(0)) {
    assert.deepEqual(
      [batch.x.device, batch.x.dtype, batch.y.device, batch.y.dtype],
      ['meta', 'float32', 'meta', 'int64'],
    );
    assert.equal(batch.x.size(0), batch.y.size(0));
    torch.dispose(batch);
  }
  l.dispose();
  assert.equal(torch.memory().tensors, start, 'the CPU copies are freed');
});

test('bad loader arguments give clear errors', async () => {
  const ds = indexedDataset(5);
  assert.throws(() => new DataLoader(ds, { batchSize: 0 }), /batchSize must be a positive integer, got 0/);
  assert.throws(() => new DataLoader(ds, { batchSize: 2, prefetch: 0 }), /prefetch must be a positive integer/);
  assert.throws(() => new DataLoader(ds, { batchSize: 2, seed: 1.5 }), /seed must be an integer, got 1\.5/);
  const l = loader(ds);
  await assert.rejects(l.epoch(-1).next(), /epoch must be a non-negative integer, got -1/);
  await assert.rejects(l.epoch(0, { startBatch: 3 }).next(), /startBatch must be an integer in 0\.\.2, got 3/);
  l.dispose();
});
