import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import {
  BatchTransform,
  type TransformConfig,
  toFloat,
  normalize,
  randomCrop,
  randomHorizontalFlip,
  NORMALIZATIONS,
} from '../../src/data/index.js';

/** A uint8 batch of random pixels in 1..255, so that a 0 can only come from padding. */
function randomBatch(shape: [number, number, number, number], seed = 7): torch.Tensor {
  return torch.randint(1, 256, shape, { dtype: 'uint8', generator: new torch.Generator(seed) });
}

const pixels = (t: torch.Tensor) => Array.from(t.data() as Uint8Array);

test('toFloat divides by 255 in float32 exactly, as ToTensor', async () => {
  const values = torch.arange(0, 256, 1, { dtype: 'uint8' }).view(1, 1, 16, 16);
  const x = await toFloat(values);
  assert.equal(x.dtype, 'float32');
  assert.deepEqual(x.shape, [1, 1, 16, 16]);
  // float32 division is correctly rounded; so is fround of the float64 quotient (53 >= 2·24 + 2 bits).
  assert.deepEqual(
    Array.from(x.data() as Float32Array),
    Array.from({ length: 256 }, (_, v) => Math.fround(v / 255)),
  );
  torch.dispose([values, x]);
});

test('normalize computes (x - mean) / std per channel in float32, as Normalize', async () => {
  const batch = randomBatch([2, 3, 4, 5]);
  const mean = [0.4914, 0.4822, 0.4465];
  const std = [0.247, 0.2435, 0.2616];
  const x = await toFloat(batch);
  const y = await normalize(x, mean, std);
  const input = pixels(batch);
  const f = Math.fround;
  const expected = input.map((v, i) => {
    const c = Math.floor(i / 20) % 3;
    return f(f(f(v / 255) - f(mean[c])) / f(std[c]));
  });
  assert.deepEqual(Array.from(y.data() as Float32Array), expected);
  torch.dispose([batch, x, y]);
});

test('a pipeline without augmentation gives exactly toFloat then normalize', async () => {
  const batch = randomBatch([4, 3, 8, 8]);
  const y = await new BatchTransform({ augment: 'none', ...NORMALIZATIONS.cifar100 }).apply(batch);
  const x = await toFloat(batch);
  const expected = await normalize(x, NORMALIZATIONS.cifar100.mean, NORMALIZATIONS.cifar100.std);
  assert.ok(y.equal(expected));
  const plain = await new BatchTransform({ augment: 'none' }).apply(batch);
  assert.ok(plain.equal(x), 'without mean and std the batch stays in [0, 1]');
  torch.dispose([batch, y, x, expected, plain]);
});

test('the seed recipe normalisation maps 0 and 255 to -1 and 1', async () => {
  const batch = torch.tensor(Uint8Array.from([0, 255, 0, 255, 0, 255]), { shape: [1, 3, 1, 2] });
  const transform = new BatchTransform({ augment: 'none', ...NORMALIZATIONS.half });
  const y = await transform.apply(batch);
  assert.deepEqual(Array.from(y.data() as Float32Array), [-1, 1, -1, 1, -1, 1]);
  torch.dispose([batch, y]);
});

/** The shift (dy, dx) with out[y][x] = in[y + dy][x + dx] (0 outside) for every channel, or null. */
function findShift(
  input: number[],
  output: number[],
  n: number,
  c: number,
  h: number,
  w: number,
  pad: number,
): [number, number] | null {
  const at = (a: number[], ch: number, y: number, x: number) => a[((n * c + ch) * h + y) * w + x];
  for (let dy = -pad; dy <= pad; dy++) {
    for (let dx = -pad; dx <= pad; dx++) {
      let ok = true;
      for (let ch = 0; ch < c && ok; ch++) {
        for (let y = 0; y < h && ok; y++) {
          for (let x = 0; x < w && ok; x++) {
            const sy = y + dy;
            const sx = x + dx;
            const expected = sy >= 0 && sy < h && sx >= 0 && sx < w ? at(input, ch, sy, sx) : 0;
            ok = at(output, ch, y, x) === expected;
          }
        }
      }
      if (ok) return [dy, dx];
    }
  }
  return null;
}

test('randomCrop keeps the shape and gives each image its own shifted copy with zeros in the padding', async () => {
  const [n, c, h, w] = [64, 3, 8, 6];
  const batch = randomBatch([n, c, h, w]);
  const out = await randomCrop(batch, 4, new torch.Generator(1));
  assert.deepEqual(out.shape, [n, c, h, w]);
  assert.equal(out.dtype, 'uint8');
  const input = pixels(batch);
  const output = pixels(out);
  const shifts = new Set<string>();
  for (let i = 0; i < n; i++) {
    const shift = findShift(input, output, i, c, h, w, 4);
    assert.ok(shift, `image ${i} is a shifted copy of its input`);
    shifts.add(shift.join(','));
  }
  assert.ok(shifts.size > 20, `offsets are drawn per image (${shifts.size} distinct shifts in ${n} images)`);
  torch.dispose([batch, out]);
});

test('randomHorizontalFlip mirrors each image with probability p', async () => {
  const [n, c, h, w] = [64, 3, 4, 5];
  const batch = randomBatch([n, c, h, w]);
  const mirrored = batch.flip(3);
  const half = await randomHorizontalFlip(batch, 0.5, new torch.Generator(3));
  let flipped = 0;
  torch.tidy(() => {
    for (let i = 0; i < n; i++) {
      const image = half.select(0, i);
      const same = image.equal(batch.select(0, i));
      const mirror = image.equal(mirrored.select(0, i));
      assert.ok(same !== mirror, `image ${i} is either unchanged or mirrored`);
      if (mirror) flipped++;
    }
  });
  assert.ok(flipped > 16 && flipped < 48, `${flipped} of ${n} flipped at p = 0.5`);
  const never = await randomHorizontalFlip(batch, 0, new torch.Generator(3));
  const always = await randomHorizontalFlip(batch, 1, new torch.Generator(3));
  assert.ok(never.equal(batch));
  assert.ok(always.equal(mirrored));
  torch.dispose([batch, mirrored, half, never, always]);
});

test('the same seed gives the same augmented batch, another seed another batch', async () => {
  const batch = randomBatch([16, 3, 8, 8]);
  const transform = new BatchTransform({ augment: 'crop-flip', ...NORMALIZATIONS.cifar10 });
  const a = await transform.apply(batch, new torch.Generator(11));
  const b = await transform.apply(batch, new torch.Generator(11));
  const c = await transform.apply(batch, new torch.Generator(12));
  assert.ok(a.equal(b));
  assert.ok(!a.equal(c));
  torch.dispose([batch, a, b, c]);
});

test("'crop-flip' equals randomCrop(4) then randomHorizontalFlip(0.5) drawing from one generator", async () => {
  const batch = randomBatch([32, 3, 8, 8]);
  const fused = await new BatchTransform({ augment: 'crop-flip' }).apply(batch, new torch.Generator(5));
  const generator = new torch.Generator(5);
  const cropped = await randomCrop(batch, 4, generator);
  const flipped = await randomHorizontalFlip(cropped, 0.5, generator);
  const stepwise = await toFloat(flipped);
  assert.ok(fused.equal(stepwise));
  torch.dispose([batch, fused, cropped, flipped, stepwise]);
});

test('a transform is described by JSON and rebuilt from it', async () => {
  const transform = new BatchTransform({ augment: 'crop-flip', mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] });
  const json = JSON.parse(JSON.stringify(transform));
  assert.deepEqual(json, { augment: 'crop-flip', mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] });
  const batch = randomBatch([4, 3, 8, 8]);
  const a = await transform.apply(batch, new torch.Generator(9));
  const b = await new BatchTransform(json as TransformConfig).apply(batch, new torch.Generator(9));
  assert.ok(a.equal(b));
  torch.dispose([batch, a, b]);
});

test('transforms free everything but their result', async () => {
  const batch = randomBatch([8, 3, 8, 8]);
  const before = torch.memory().tensors;
  const transform = new BatchTransform({ augment: 'crop-flip', ...NORMALIZATIONS.half });
  const y = await transform.apply(batch, new torch.Generator(1));
  assert.equal(torch.memory().tensors, before + 1);
  y.dispose();
  assert.equal(torch.memory().tensors, before);
  batch.dispose();
});

test('bad transform input gives clear errors', async () => {
  assert.throws(
    () => new BatchTransform({ augment: 'cutout' as 'none' }),
    /unknown augmentation 'cutout': expected 'none' or 'crop-flip'/,
  );
  assert.throws(() => new BatchTransform({ augment: 'none', mean: [0.5] }), /give both mean and std, or neither/);
  assert.throws(() => new BatchTransform({ augment: 'none', mean: [0.5, 0.5], std: [0.5] }), /equally long lists/);
  assert.throws(() => new BatchTransform({ augment: 'none', mean: [0.5], std: [0] }), /every std must be positive/);
  const floats = torch.zeros(2, 3, 4, 4);
  const bytes = torch.zeros([2, 3, 4, 4], { dtype: 'uint8' });
  await assert.rejects(
    toFloat(floats),
    /toFloat\(\): expected a uint8 batch \[B, C, H, W\], got float32 \[2, 3, 4, 4\]/,
  );
  await assert.rejects(normalize(floats, [0.5], [0.5]), /1 means and stds for a batch of 3 channels/);
  await assert.rejects(normalize(bytes, [0.5, 0.5, 0.5], [1, 1, 1]), /expected a floating-point batch, got uint8/);
  await assert.rejects(randomCrop(bytes, -1, new torch.Generator(0)), /padding must be a non-negative integer/);
  await assert.rejects(randomHorizontalFlip(bytes, 2, new torch.Generator(0)), /p must be in \[0, 1\]/);
  await assert.rejects(new BatchTransform({ augment: 'crop-flip' }).apply(bytes), /needs a torch\.Generator/);
  torch.dispose([floats, bytes]);
});
