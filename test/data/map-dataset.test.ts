// Map-style datasets in the DataLoader: TensorDataset's get and getBatch, a dataset with get() only
// (collated per sample), the same shuffled order and exact epoch positions as image datasets, the
// per-batch generator, ownership of what batches hold, and one clear error for each kind of bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { DataLoader, makeDataset, TensorDataset, type Batch, type Dataset, type Sample } from '../../src/data/index.js';

/** Tensors of n samples: inputs [n, 2] holding (i, 10 - i), targets [n] holding i % 3. */
function indexed(n: number): TensorDataset {
  return torch.tidy(() => {
    const i = torch.arange(n).to('float32');
    return new TensorDataset(
      torch.stack([i, i.neg().add(10)], 1),
      torch.tensor(Array.from({ length: n }, (_, k) => k % 3)),
    );
  });
}

/** n uint8 images whose every pixel is the image's index. */
function indexedImages(n: number) {
  const images = new Uint8Array(n * 3);
  for (let k = 0; k < n; k++) images.fill(k, k * 3, (k + 1) * 3);
  return makeDataset({
    name: 'images',
    images,
    labels: new Int32Array(n),
    classes: ['a'],
    channels: 3,
    height: 1,
    width: 1,
  });
}

/** Every batch of an epoch as the sample indices it holds (read from x[:, 0], or pixel 0 of images). */
async function epochIndices(loader: DataLoader<Dataset> | DataLoader, epoch: number, startBatch = 0) {
  const out: number[][] = [];
  for await (const batch of loader.epoch(epoch, { startBatch })) {
    out.push(indicesOf(batch));
    torch.dispose(batch);
  }
  return out;
}

const indicesOf = (batch: Batch): number[] =>
  torch.tidy(() => {
    const first = batch.x.ndim === 2 ? batch.x.select(1, 0) : batch.x.flatten(1).select(1, 0).mul(255).round();
    return (first.toArray() as number[]).map(Math.round);
  });

test('TensorDataset: get and getBatch return copies of the samples, checked against the tensors', () => {
  const ds = indexed(7);
  assert.equal(ds.length, 7);
  const [x, y] = ds.get(4);
  assert.deepEqual(x.toArray(), [4, 6]);
  assert.equal(y.item(), 1);
  const [xs, ys] = ds.getBatch([6, 0, 3]);
  assert.deepEqual(xs.toArray(), [
    [6, 4],
    [0, 10],
    [3, 7],
  ]);
  assert.deepEqual(ys.toArray(), [0, 0, 0]);
  torch.dispose([x, y, xs, ys]);
  assert.deepEqual(ds.get(4)[0].toArray(), [4, 6], 'freeing a sample leaves the dataset whole');
  assert.throws(() => ds.get(7), /TensorDataset\.get\(\): index must be an integer in 0\.\.6, got 7/);
  assert.throws(() => ds.getBatch([1, -1]), /getBatch\(\): indices must be integers in 0\.\.6, got -1/);
  assert.throws(
    () => new TensorDataset(torch.zeros([3, 2]), torch.zeros([4])),
    /inputs \[3, 2\] and targets \[4\] must have the same first dimension/,
  );
  assert.throws(() => new TensorDataset(torch.zeros([3]), torch.zeros([])), /targets must have a first/);
  ds.dispose();
});

test('a shuffled map-style dataset gets the same order, epoch by epoch, as an image dataset with the seed', async () => {
  const n = 23;
  const options = { batchSize: 5, shuffle: true, seed: 11 };
  const tensors = new DataLoader(indexed(n), options);
  const images = new DataLoader(indexedImages(n), options);
  assert.equal(tensors.length, 5);
  for (const epoch of [0, 1, 4]) {
    const order = await epochIndices(tensors, epoch);
    assert.deepEqual(order, await epochIndices(images, epoch), `epoch ${epoch}`);
    assert.deepEqual(
      order.flat().sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i),
    );
    // Resuming at any batch gives exactly the rest of the epoch.
    assert.deepEqual(await epochIndices(tensors, epoch, 3), order.slice(3));
  }
  assert.notDeepEqual(await epochIndices(tensors, 0), await epochIndices(tensors, 1), 'a new order each epoch');
  images.dispose();
  tensors.dispose();
  tensors.dataset.dispose();
});

test('a dataset with get() only: samples are stacked, numbers become int64 or float32 tensors', async () => {
  const seen: bigint[] = [];
  const dataset: Dataset = {
    length: 5,
    name: 'squares',
    get(index, generator): Sample {
      seen.push(generator.initialSeed());
      return [torch.full([2, 2], index * index), index % 2 === 0 ? 0 : 1];
    },
  };
  const loader = new DataLoader(dataset, { batchSize: 2, seed: 5 });
  const batches: { x: number[][][]; y: number[]; dtype: string; index: number }[] = [];
  for await (const batch of loader.epoch(0)) {
    batches.push({
      x: batch.x.toArray() as number[][][],
      y: batch.y.toArray() as number[],
      dtype: batch.y.dtype,
      index: batch.index,
    });
    torch.dispose(batch);
  }
  assert.deepEqual(
    batches.map((b) => b.x.map((m) => m[0][0])),
    [[0, 1], [4, 9], [16]],
  );
  assert.deepEqual(
    batches.map((b) => b.y),
    [[0, 1], [0, 1], [0]],
  );
  assert.deepEqual(
    batches.map((b) => b.dtype),
    ['int64', 'int64', 'int64'],
  );
  // Each batch's samples share one generator seeded by (seed, epoch, batch): the same on every pass.
  assert.equal(seen.length, 5);
  assert.equal(seen[0], seen[1]);
  assert.notEqual(seen[1], seen[2]);
  const again: bigint[] = seen.splice(0);
  for await (const batch of loader.epoch(0, { startBatch: 1 })) torch.dispose(batch);
  assert.deepEqual(seen, again.slice(2));

  const floats: Dataset = { length: 2, get: (i) => [i, i + 0.5] };
  for await (const batch of new DataLoader(floats, { batchSize: 2 }).epoch(0)) {
    assert.equal(batch.y.dtype, 'float32');
    assert.deepEqual(batch.y.toArray(), [0.5, 1.5]);
    assert.equal(batch.x.dtype, 'int64');
    torch.dispose(batch);
  }
});

test("batches are the caller's: a getBatch that returns stored tensors hands out copies", async () => {
  const stored = torch.keep(torch.arange(4).to('float32').reshape(4, 1));
  const labels = torch.keep(torch.zeros([4], { dtype: 'int64' }));
  const whole: Dataset = { length: 4, getBatch: () => [stored, labels] };
  const before = torch.memory().tensors;
  for await (const batch of new DataLoader(whole, { batchSize: 4 }).epoch(0)) {
    assert.notEqual(batch.x, stored);
    torch.dispose(batch);
  }
  assert.deepEqual(stored.toArray(), [[0], [1], [2], [3]], 'the stored tensor is still alive');
  assert.equal(torch.memory().tensors, before, 'no tensor left behind');
  torch.dispose([stored, labels]);
});

test('bad map-style datasets and options get one clear error', async () => {
  assert.throws(
    () => new DataLoader({ length: 3 } as Dataset, { batchSize: 2 }),
    /has neither get\(index\) nor getBatch\(indices\); give it one of them/,
  );
  assert.throws(
    () => new DataLoader({ length: -1, get: () => [0, 0] } as Dataset, { batchSize: 2 }),
    /must have a length \(a non-negative integer\), got -1/,
  );
  const ds = indexed(4);
  assert.throws(
    () => new DataLoader(ds, { batchSize: 2, transform: { augment: 'crop-flip' } }),
    /transform applies to uint8 image datasets; transform the samples in your dataset's get or getBatch/,
  );
  const single: Dataset = { length: 2, name: 'single', get: (i) => [i] as unknown as Sample };
  await assert.rejects(async () => {
    for await (const b of new DataLoader(single, { batchSize: 2 }).epoch(0)) torch.dispose(b);
  }, /single\.get\(0\) must return a sample \[input, target\]/);
  const ragged: Dataset = { length: 2, get: (i) => [torch.zeros([i + 1]), 0] };
  await assert.rejects(async () => {
    for await (const b of new DataLoader(ragged, { batchSize: 2 }).epoch(0)) torch.dispose(b);
  }, /samples of one batch must have the same input shape; got \[1\] and \[2\]/);
  const short: Dataset = { length: 3, getBatch: () => [torch.zeros([1]), torch.zeros([1])] };
  await assert.rejects(async () => {
    for await (const b of new DataLoader(short, { batchSize: 3 }).epoch(0)) torch.dispose(b);
  }, /getBatch\(\) returned a tensor of shape \[1\] for 3 indices/);
  ds.dispose();
});
