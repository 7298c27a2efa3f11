// RandomResizedCrop's boxes (torchvision's sampling: 10 tries, then the centre-crop fallback) and the
// evaluation geometry, checked by their statistics and against values worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CROP_RATIO,
  CROP_SCALE,
  centreCropBox,
  evalResizeSide,
  jpegDecodeDenominator,
  randomResizedCropBox,
  resizeShorterSide,
  roundHalfEven,
  scaleCropBox,
} from '../../src/data/crop-geometry.js';
import { deriveSeed, seededUniform } from '../../src/data/seeds.js';

test('random-resized-crop boxes lie inside the image with area share and ratio within bounds', () => {
  const uniform = seededUniform(deriveSeed(7));
  const [width, height] = [400, 534];
  const shares: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const box = randomResizedCropBox(width, height, uniform);
    assert.ok(
      box.left >= 0 && box.top >= 0 && box.left + box.width <= width && box.top + box.height <= height,
      JSON.stringify(box),
    );
    const share = (box.width * box.height) / (width * height);
    // Rounding the sides to whole pixels moves area and ratio a little past the bounds.
    assert.ok(share >= CROP_SCALE[0] * 0.97 && share <= CROP_SCALE[1] + 1e-9, `area share ${share}`);
    const ratio = box.width / box.height;
    assert.ok(ratio >= CROP_RATIO[0] * 0.97 && ratio <= CROP_RATIO[1] * 1.03, `ratio ${ratio}`);
    shares.push(share);
  }
  // The area share is drawn uniformly in [0.08, 1] and kept when the box fits; boxes that do not fit
  // (large and elongated) are redrawn, so the mean sits a little below 0.54.
  const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
  assert.ok(mean > 0.4 && mean < 0.56, `mean area share ${mean}`);
  assert.ok(Math.min(...shares) < 0.1 && Math.max(...shares) > 0.95);
});

test('the same seed gives the same boxes; another seed other boxes', () => {
  const draw = (seed: number) => {
    const uniform = seededUniform(deriveSeed(seed, 3, 1, 17));
    return Array.from({ length: 20 }, () => randomResizedCropBox(640, 480, uniform));
  };
  assert.deepEqual(draw(1), draw(1));
  assert.notDeepEqual(draw(1), draw(2));
});

test('when no try fits, the fallback is the centred box with the ratio clamped into [3/4, 4/3]', () => {
  // 1000×10: every try needs a height of at least sqrt(800 · 3/4) ≈ 24 > 10, so all 10 fail;
  // the image is wider than 4/3, so h = 10, w = round(10 · 4/3) = 13, centred: left = (1000 − 13) // 2 = 493.
  assert.deepEqual(randomResizedCropBox(1000, 10, seededUniform(1n)), { left: 493, top: 0, width: 13, height: 10 });
  // 10×1000: taller than 3/4 allows: w = 10, h = round(10 / (3/4)) = 13, top = (1000 − 13) // 2 = 493.
  assert.deepEqual(randomResizedCropBox(10, 1000, seededUniform(1n)), { left: 0, top: 493, width: 10, height: 13 });
});

test('evaluation geometry: torchvision Resize(256) + CenterCrop(224) for size 224', () => {
  assert.equal(evalResizeSide(224), 256);
  assert.equal(evalResizeSide(64), 73);
  // 400×534 → shorter side 256, longer int(256 · 534 / 400) = int(341.76) = 341.
  assert.deepEqual(resizeShorterSide(400, 534, 256), { width: 256, height: 341 });
  assert.deepEqual(resizeShorterSide(500, 375, 256), { width: 341, height: 256 });
  // (341 − 224) / 2 = 58.5 rounds to even: 58; (256 − 224) / 2 = 16.
  assert.deepEqual(centreCropBox(256, 341, 224), { left: 16, top: 58, width: 224, height: 224 });
  assert.deepEqual(
    [roundHalfEven(0.5), roundHalfEven(1.5), roundHalfEven(2.5), roundHalfEven(2.6), roundHalfEven(-0.5)],
    [0, 2, 2, 3, -0],
  );
});

test('the JPEG decode scale keeps at least size pixels of the box each way', () => {
  const box = (width: number, height: number) => ({ left: 0, top: 0, width, height });
  assert.equal(jpegDecodeDenominator(box(447, 2000), 224), 1);
  assert.equal(jpegDecodeDenominator(box(448, 448), 224), 2);
  assert.equal(jpegDecodeDenominator(box(900, 1000), 224), 4);
  assert.equal(jpegDecodeDenominator(box(1792, 1800), 224), 8);
  assert.equal(jpegDecodeDenominator(box(5000, 5000), 224), 8);
  assert.equal(jpegDecodeDenominator(box(100, 100), 224), 1, 'an upscaled box decodes whole');
});

test('a box scaled for a 1/denom decode: edges divided and rounded, inside the ceil-sized image', () => {
  assert.deepEqual(scaleCropBox({ left: 10, top: 21, width: 480, height: 500 }, 2, 1001, 999), {
    left: 5,
    top: 11, // 10.5 rounds up, 260.5 too
    width: 240,
    height: 250,
  });
  // libjpeg's 1/8 of 1001×999 is 126×125 pixels: the box's far edges stay inside it.
  assert.deepEqual(scaleCropBox({ left: 0, top: 0, width: 1001, height: 999 }, 8, 1001, 999), {
    left: 0,
    top: 0,
    width: 125,
    height: 125,
  });
  assert.deepEqual(scaleCropBox({ left: 1000, top: 998, width: 1, height: 1 }, 8, 1001, 999), {
    left: 125,
    top: 124,
    width: 1,
    height: 1,
  });
  assert.deepEqual(scaleCropBox({ left: 3, top: 4, width: 5, height: 6 }, 1, 10, 10), {
    left: 3,
    top: 4,
    width: 5,
    height: 6,
  });
});
