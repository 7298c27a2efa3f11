import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { makeDataset, datasetTensors, classCounts, channelStats, subsetOf } from '../../src/data/index.js';

const fields = () => ({
  name: 'tiny',
  images: Uint8Array.from({ length: 3 * 2 * 2 * 2 }, (_, i) => (i * 37) % 256),
  labels: Int32Array.from([1, 0, 1]),
  classes: ['a', 'b'],
  channels: 2,
  height: 2,
  width: 2,
});

test('makeDataset checks that pixels, labels and classes agree', () => {
  const ds = makeDataset(fields());
  assert.equal(ds.length, 3);
  assert.throws(
    () => makeDataset({ ...fields(), images: new Uint8Array(23) }),
    /dataset 'tiny': 23 pixel bytes for 3 labels; expected 3 × 2×2×2 = 24/,
  );
  assert.throws(
    () => makeDataset({ ...fields(), labels: Int32Array.from([1, 2, 0]) }),
    /dataset 'tiny': image 1 has label 2; expected 0\.\.1 \(2 classes\)/,
  );
  assert.throws(() => makeDataset({ ...fields(), height: 0 }), /height must be a positive integer, got 0/);
  assert.throws(() => makeDataset({ ...fields(), classes: [] }), /no class names/);
});

test('datasetTensors gives uint8 [N, C, H, W] images and int64 labels that the caller owns', () => {
  const ds = makeDataset(fields());
  const before = torch.memory().tensors;
  const { images, labels } = torch.tidy(() => datasetTensors(ds));
  assert.equal(torch.memory().tensors, before + 2, 'kept, so the tidy scope does not free them');
  assert.deepEqual(images.shape, [3, 2, 2, 2]);
  assert.equal(images.dtype, 'uint8');
  assert.deepEqual(Array.from(images.data() as Uint8Array), Array.from(ds.images));
  assert.equal(labels.dtype, 'int64');
  assert.deepEqual(Array.from(labels.data() as BigInt64Array, Number), [1, 0, 1]);
  torch.dispose([images, labels]);
  assert.equal(torch.memory().tensors, before);
});

test('classCounts and channelStats summarise the dataset', () => {
  const ds = makeDataset(fields());
  assert.deepEqual(classCounts(ds), [1, 2]);
  const { mean, std } = channelStats(ds);
  // Direct computation: channel c of image n is images[(n*2 + c)*4 .. +4].
  for (let c = 0; c < 2; c++) {
    const values: number[] = [];
    for (let n = 0; n < 3; n++)
      values.push(...Array.from(ds.images.subarray((n * 2 + c) * 4, (n * 2 + c + 1) * 4), (v) => v / 255));
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    const s = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length);
    assert.ok(Math.abs(mean[c] - m) < 1e-12, `mean of channel ${c}`);
    assert.ok(Math.abs(std[c] - s) < 1e-12, `std of channel ${c}`);
  }
});

test('subsetOf: the images at the indices in that order; only 0..N-1 in order is the dataset itself', () => {
  // Image i has every pixel i; labels 0, 1, 0, 1.
  const d = makeDataset({
    name: 'four',
    images: Uint8Array.from({ length: 4 * 3 }, (_, k) => Math.floor(k / 3)),
    labels: Int32Array.from([0, 1, 0, 1]),
    classes: ['a', 'b'],
    channels: 3,
    height: 1,
    width: 1,
  });
  assert.equal(subsetOf(d, [0, 1, 2, 3]), d);
  const reordered = subsetOf(d, [3, 1, 2, 0]);
  assert.notEqual(reordered, d, 'a reordering of every image is a copy');
  assert.deepEqual([...reordered.images], [3, 3, 3, 1, 1, 1, 2, 2, 2, 0, 0, 0]);
  assert.deepEqual([...reordered.labels], [1, 1, 0, 0]);
  const some = subsetOf(d, [2, 2]);
  assert.equal(some.length, 2);
  assert.deepEqual([...some.images], [2, 2, 2, 2, 2, 2]);
});
