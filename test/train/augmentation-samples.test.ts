// The data-augmentation stage's sample grid: originals on top, augmented images below, each pixel enlarged;
// without augmentation both rows are the stored pixels, with it the bottom row differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeDataset } from '../../src/data/index.js';
import {
  SAMPLE_COUNT,
  SAMPLE_GAP,
  SAMPLE_SCALE,
  writeAugmentationSamples,
} from '../../src/train/augmentation-samples.js';
import { tempDir } from '../data/support.js';

const N = 10;
const C = 3;
const H = 6;
const W = 5;
const images = Uint8Array.from({ length: N * C * H * W }, (_, i) => (i * 37) % 251);
const dataset = makeDataset({
  name: 'tiny',
  images,
  labels: new Int32Array(N),
  classes: ['a'],
  channels: C,
  height: H,
  width: W,
});

/** The grid's pixel (x, y) of tile n in `row`, at source pixel (sx, sy), as [r, g, b]. */
function tilePixel(raw: Buffer, width: number, row: number, n: number, sx: number, sy: number): number[] {
  const x = SAMPLE_GAP + n * (W * SAMPLE_SCALE + SAMPLE_GAP) + sx * SAMPLE_SCALE + SAMPLE_SCALE - 1;
  const y = SAMPLE_GAP + row * (H * SAMPLE_SCALE + SAMPLE_GAP) + sy * SAMPLE_SCALE;
  return [...raw.subarray((y * width + x) * C, (y * width + x) * C + C)];
}

const stored = (n: number, sx: number, sy: number) => [0, 1, 2].map((k) => images[((n * C + k) * H + sy) * W + sx]);

test('the sample grid: size, originals on top, and the bottom row as the augmentation leaves it', async (t) => {
  const dir = tempDir(t);
  const none = join(dir, 'none.png');
  assert.equal(await writeAugmentationSamples(none, dataset, 'none', 0), SAMPLE_COUNT);
  const { data, info } = await sharp(none).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, SAMPLE_COUNT * W * SAMPLE_SCALE + (SAMPLE_COUNT + 1) * SAMPLE_GAP);
  assert.equal(info.height, 2 * H * SAMPLE_SCALE + 3 * SAMPLE_GAP);
  for (const n of [0, 3, SAMPLE_COUNT - 1]) {
    for (const [sx, sy] of [
      [0, 0],
      [4, 5],
      [2, 3],
    ]) {
      assert.deepEqual(tilePixel(data, info.width, 0, n, sx, sy), stored(n, sx, sy), `top row, image ${n}`);
      assert.deepEqual(
        tilePixel(data, info.width, 1, n, sx, sy),
        stored(n, sx, sy),
        `bottom row without augmentation, image ${n}`,
      );
    }
  }
  assert.deepEqual([...data.subarray(0, 3)], [255, 255, 255], 'white margins');

  const flipped = join(dir, 'crop-flip.png');
  await writeAugmentationSamples(flipped, dataset, 'crop-flip', 0);
  const augmentedGrid = await sharp(flipped).raw().toBuffer({ resolveWithObject: true });
  let same = 0;
  let differs = 0;
  for (let n = 0; n < SAMPLE_COUNT; n++) {
    assert.deepEqual(
      tilePixel(augmentedGrid.data, info.width, 0, n, 1, 1),
      stored(n, 1, 1),
      'the top row stays the originals',
    );
    for (let sy = 0; sy < H; sy++) {
      for (let sx = 0; sx < W; sx++) {
        if (tilePixel(augmentedGrid.data, info.width, 1, n, sx, sy).join() === stored(n, sx, sy).join()) same += 1;
        else differs += 1;
      }
    }
  }
  assert.ok(differs > same, `crop + flip moves most pixels (${differs} moved, ${same} in place)`);
});
