// The whitening sample: spread evenly over the training set, so that a folder listed class by class
// (CIFAR-10's JPEG folder: 5,000 airplanes first) still gives every class its share of the statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { makeDataset, type ImageDataset } from '../../src/data/index.js';
import { createModel, type FastNet } from '../../src/models/index.js';
import { evenlySpacedSample, whitenFirstLayer } from '../../src/train/whitening.js';

/** 4 classes × 10 images of 3×12×12, sorted by class; every pixel of image i is a function of i. */
function classSorted(): ImageDataset {
  const n = 40;
  const size = 3 * 12 * 12;
  const images = new Uint8Array(n * size);
  for (let i = 0; i < images.length; i++) images[i] = ((Math.floor(i / size) * 37 + i * 11) % 251) & 0xff;
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 10));
  return makeDataset({
    name: 'sorted',
    images,
    labels,
    classes: ['a', 'b', 'c', 'd'],
    channels: 3,
    height: 12,
    width: 12,
  });
}

test('evenlySpacedSample: image ⌊i·N/count⌋ for each i, so each class of a sorted set gets its share', () => {
  const d = classSorted();
  const s = evenlySpacedSample(d, 8);
  assert.equal(s.length, 8);
  assert.deepEqual([...s.labels], [0, 0, 1, 1, 2, 2, 3, 3]);
  const size = 3 * 12 * 12;
  for (let i = 0; i < 8; i++) {
    const j = i * 5;
    assert.deepEqual(
      s.images.subarray(i * size, (i + 1) * size),
      d.images.subarray(j * size, (j + 1) * size),
      `image ${i}`,
    );
  }
  assert.equal(evenlySpacedSample(d, 100).length, 40, 'a sample larger than the set is the whole set');
  assert.deepEqual(evenlySpacedSample(d, 100).images, d.images);
});

test('whitenFirstLayer: the stem is the whitening of the evenly spaced sample, not of the first images', async () => {
  const d = classSorted();
  const transform = { augment: 'none' as const, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
  const model = createModel('fastnet', { inputSize: 12 }) as FastNet;
  await whitenFirstLayer(model, d, transform, 8);
  const expected = createModel('fastnet', { inputSize: 12 }) as FastNet;
  const first = createModel('fastnet', { inputSize: 12 }) as FastNet;
  torch.tidy(() => {
    const pixels = (ds: ImageDataset) =>
      torch.tensor(
        Float32Array.from(ds.images, (v) => (v / 255 - 0.5) / 0.25),
        { shape: [ds.length, 3, 12, 12] },
      );
    expected.whitenStem_(pixels(evenlySpacedSample(d, 8)));
    const firstEight = makeDataset({ ...d, images: d.images.slice(0, 8 * 3 * 12 * 12), labels: d.labels.slice(0, 8) });
    first.whitenStem_(pixels(firstEight));
    const gap = model.stem.weight.sub(expected.stem.weight).abs().max().item();
    assert.ok(gap < 1e-5, `stem differs from the spread sample's whitening by ${gap}`);
    assert.ok(model.stem.weight.sub(first.stem.weight).abs().max().item() > 1e-2, 'and differs from the first images');
  });
  for (const m of [model, expected, first]) m.dispose();
});
