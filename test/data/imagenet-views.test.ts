// The ImageNet-style views against real torchvision (test/fixtures/imagenet_views.json, made by
// scripts/fixtures/make_imagenet_views.py): the evaluation view (resize shorter side to size / 0.875,
// centre crop) and a crop box resized to size×size, by every strategy. Decoders and resampling kernels
// differ slightly (libjpeg-turbo or libvips vs PIL), so pixels must agree within a JPEG-decoder tolerance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CROP_STRATEGIES, decodeView } from '../../src/data/image-decode.js';
import type { CropBox } from '../../src/data/crop-geometry.js';
import { loadFixture } from '../helpers.js';
import { DATASETS } from './support.js';

interface ViewCase {
  image: string;
  width: number;
  height: number;
  size: number;
  eval: string;
  box: CropBox;
  crop: string;
}
const cases = loadFixture<ViewCase[]>('imagenet_views');

/** Mean and largest absolute difference of two uint8 images. */
function difference(ours: Uint8Array, theirs: Uint8Array): { mean: number; max: number } {
  assert.equal(ours.length, theirs.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i] - theirs[i]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / ours.length, max };
}

for (const c of cases) {
  test(`evaluation view of ${c.image} matches torchvision's Resize + CenterCrop`, async () => {
    const { pixels, width, height } = await decodeView(join(DATASETS, c.image), () => ({
      size: c.size,
      box: null,
      flip: false,
      jitter: null,
    }));
    assert.deepEqual([width, height], [c.width, c.height]);
    const d = difference(pixels, Buffer.from(c.eval, 'base64'));
    assert.ok(d.mean < 2.5 && d.max < 64, `mean |difference| ${d.mean.toFixed(2)}, max ${d.max}`);
  });
  for (const strategy of CROP_STRATEGIES) {
    test(`a crop box of ${c.image} resized (${strategy}) matches torchvision's resized_crop`, async () => {
      const { pixels } = await decodeView(
        join(DATASETS, c.image),
        () => ({ size: c.size, box: c.box, flip: false, jitter: null }),
        strategy,
      );
      const d = difference(pixels, Buffer.from(c.crop, 'base64'));
      assert.ok(
        d.mean < (strategy === 'resize-first' ? 5 : 2.5) && d.max < 80,
        `mean |difference| ${d.mean.toFixed(2)}, max ${d.max}`,
      );
    });
  }
}

test('a mirrored view is the plain view reversed along each row', async () => {
  const c = cases[0];
  const plan = (flip: boolean) => () => ({ size: c.size, box: null, flip, jitter: null });
  const plain = (await decodeView(join(DATASETS, c.image), plan(false))).pixels;
  const mirrored = (await decodeView(join(DATASETS, c.image), plan(true))).pixels;
  const s = c.size;
  for (const [y, x] of [
    [0, 0],
    [10, 3],
    [s - 1, s - 1],
  ]) {
    for (let ch = 0; ch < 3; ch++) assert.equal(mirrored[(y * s + x) * 3 + ch], plain[(y * s + (s - 1 - x)) * 3 + ch]);
  }
});

test('a mirrored training crop is the plain crop reversed along each row, for every strategy', async () => {
  const c = cases[1];
  for (const strategy of CROP_STRATEGIES) {
    const plan = (flip: boolean) => () => ({ size: c.size, box: c.box, flip, jitter: null });
    const plain = (await decodeView(join(DATASETS, c.image), plan(false), strategy)).pixels;
    const mirrored = (await decodeView(join(DATASETS, c.image), plan(true), strategy)).pixels;
    const s = c.size;
    for (const [y, x] of [
      [0, 0],
      [10, 3],
      [s - 1, s - 1],
    ]) {
      for (let ch = 0; ch < 3; ch++)
        assert.equal(mirrored[(y * s + x) * 3 + ch], plain[(y * s + (s - 1 - x)) * 3 + ch], strategy);
    }
  }
});
