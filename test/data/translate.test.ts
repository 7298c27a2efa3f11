// The 'translate-flip' augmentation: random crops of the reflect-padded image (padding 2) and flips,
// checked against an independent computation (per-pixel reflection in plain JS) and against F.pad's
// reflect mode, with the offsets and flips drawn from the same generator sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { BatchTransform, randomCrop, randomHorizontalFlip, toFloat, TRANSLATE_PADDING } from '../../src/data/index.js';

function randomBatch(shape: [number, number, number, number], seed = 7): torch.Tensor {
  return torch.randint(0, 256, shape, { dtype: 'uint8', generator: new torch.Generator(seed) });
}

const values = (t: torch.Tensor) => Array.from(t.data() as ArrayLike<number>, Number);

/** Reflection without repeating the edge, as numpy.pad(mode='reflect'): -1 → 1, n → n - 2. */
function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

test("randomCrop(·, 2, g, 'reflect'): each image is its reflect-padded copy cut at the drawn offset", async () => {
  const [n, c, h, w] = [12, 3, 6, 5];
  const batch = randomBatch([n, c, h, w]);
  const out = await randomCrop(batch, 2, new torch.Generator(4), 'reflect');
  // The same draws: row offsets, then column offsets, uniform in 0..4.
  const g = new torch.Generator(4);
  const [rows, cols] = torch.tidy(() => [
    values(torch.randint(0, 5, [n], { generator: g })),
    values(torch.randint(0, 5, [n], { generator: g })),
  ]);
  const input = values(batch);
  const expected: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const sy = reflect(y + rows[b] - 2, h);
          const sx = reflect(x + cols[b] - 2, w);
          expected.push(input[((b * c + ch) * h + sy) * w + sx]);
        }
      }
    }
  }
  assert.deepEqual(values(out), expected);
  assert.ok(new Set(rows.map((r, i) => `${r},${cols[i]}`)).size > 5, 'offsets are drawn per image');

  // And as PyTorch pads: F.pad(x, [2, 2, 2, 2], 'reflect') then the window at (rows[b], cols[b]).
  torch.tidy(() => {
    const padded = torch.F.pad(batch.float(), [2, 2, 2, 2], 'reflect');
    for (let b = 0; b < n; b++) {
      const window = padded.select(0, b).narrow(1, rows[b], h).narrow(2, cols[b], w);
      assert.ok(window.equal(out.select(0, b).float()), `image ${b} vs F.pad reflect`);
    }
  });
  torch.dispose([batch, out]);
});

test("'translate-flip' equals randomCrop(2, 'reflect') then randomHorizontalFlip(0.5) from one generator, and is reproducible", async () => {
  assert.equal(TRANSLATE_PADDING, 2);
  const batch = randomBatch([32, 3, 8, 8]);
  const transform = new BatchTransform({ augment: 'translate-flip' });
  const fused = await transform.apply(batch, new torch.Generator(5));
  const generator = new torch.Generator(5);
  const cropped = await randomCrop(batch, 2, generator, 'reflect');
  const flipped = await randomHorizontalFlip(cropped, 0.5, generator);
  const stepwise = await toFloat(flipped);
  assert.ok(fused.equal(stepwise));
  const again = await transform.apply(batch, new torch.Generator(5));
  const other = await transform.apply(batch, new torch.Generator(6));
  assert.ok(fused.equal(again));
  assert.ok(!fused.equal(other));
  assert.deepEqual(JSON.parse(JSON.stringify(transform)), { augment: 'translate-flip' });
  torch.dispose([batch, fused, cropped, flipped, stepwise, again, other]);
});

test('translate-flip frees everything but its result; too-small images and bad fills are refused', async () => {
  const batch = randomBatch([4, 3, 8, 8]);
  const before = torch.memory().tensors;
  const y = await new BatchTransform({ augment: 'translate-flip' }).apply(batch, new torch.Generator(1));
  assert.equal(torch.memory().tensors, before + 1);
  y.dispose();
  const tiny = randomBatch([2, 3, 2, 2]);
  await assert.rejects(
    new BatchTransform({ augment: 'translate-flip' }).apply(tiny, new torch.Generator(0)),
    /reflect padding of 2 needs images larger than 2×2, got 2×2/,
  );
  await assert.rejects(
    randomCrop(batch, 1, new torch.Generator(0), 'mirror' as 'reflect'),
    /fill must be 'zeros' or 'reflect', got "mirror"/,
  );
  await assert.rejects(
    new BatchTransform({ augment: 'translate-flip' }).apply(batch),
    /the 'translate-flip' augmentation needs a torch\.Generator/,
  );
  torch.dispose([batch, tiny]);
});
