// Test-time augmentation (src/train/tta.ts) against an independent computation: a linear classifier on
// the flattened image, evaluated in plain JS float64 on mirrored and reflect-shifted copies made pixel by
// pixel; and evaluate() with TTA scoring the views' mean softmax (accuracy and cross-entropy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import { ttaProbabilities, TTA_VIEWS } from '../../src/train/tta.js';
import { evaluateDataset } from '../../src/train/evaluate.js';
import { makeDataset } from '../../src/data/index.js';

const [C, H, W, K] = [2, 4, 5, 3];

/** A classifier that is not mirror-invariant: a linear layer on the flattened CHW image. */
class LinearOnPixels extends nn.Module {
  fc = new nn.Linear(C * H * W, K);
  forward(x: Tensor): Tensor {
    return torch.tidy(() => this.fc.forward(x.reshape(x.size(0), -1)));
  }
}

const numbers = (t: Tensor) => Array.from(t.data() as ArrayLike<number>, Number);

/** The image as [c][y][x] → value, after a view transform (mirror, shift with reflection). */
type Image = (c: number, y: number, x: number) => number;
const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
const mirrored =
  (img: Image): Image =>
  (c, y, x) =>
    img(c, y, W - 1 - x);
const shifted =
  (img: Image, d: number): Image =>
  (c, y, x) =>
    img(c, reflect(y - d, H), reflect(x - d, W));

function softmaxOf(img: Image, weight: number[], bias: number[]): number[] {
  const logits = bias.map((b, k) => {
    let s = b;
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) s += weight[k * C * H * W + (c * H + y) * W + x] * img(c, y, x);
    return s;
  });
  const m = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

const mean = (rows: number[][], weights: number[]) =>
  rows[0].map((_, k) => rows.reduce((s, r, i) => s + weights[i] * r[k], 0));

test('flip TTA = mean of the softmax of the image and its mirror; flip-translate adds the diagonal one-pixel shifts (1/2, 1/4, 1/4)', () => {
  torch.manualSeed(1);
  const model = new LinearOnPixels();
  const x = torch.randn(3, C, H, W);
  const pixels = numbers(x);
  const weight = numbers(model.fc.weight);
  const bias = numbers(model.fc.bias!);
  const forward = (input: Tensor) => model.forward(input);
  const [none, flip, flipTranslate] = torch.noGrad(() =>
    (['none', 'flip', 'flip-translate'] as const).map((mode) => numbers(ttaProbabilities(forward, x, mode))),
  );
  for (let n = 0; n < 3; n++) {
    const img: Image = (c, y, xx) => pixels[((n * C + c) * H + y) * W + xx];
    const p = (view: Image) => softmaxOf(view, weight, bias);
    const flipMean = (view: Image) => mean([p(view), p(mirrored(view))], [0.5, 0.5]);
    const expected = {
      none: p(img),
      flip: flipMean(img),
      'flip-translate': mean([flipMean(img), flipMean(shifted(img, 1)), flipMean(shifted(img, -1))], [0.5, 0.25, 0.25]),
    };
    const got = {
      none: none.slice(n * K, n * K + K),
      flip: flip.slice(n * K, n * K + K),
      'flip-translate': flipTranslate.slice(n * K, n * K + K),
    };
    for (const mode of ['none', 'flip', 'flip-translate'] as const) {
      got[mode].forEach((v, k) =>
        assert.ok(
          Math.abs(v - expected[mode][k]) < 1e-5,
          `${mode} image ${n} class ${k}: ${v} vs ${expected[mode][k]}`,
        ),
      );
    }
    // The views really differ (else the test would not tell the modes apart).
    assert.ok(Math.abs(got.flip[0] - got.none[0]) > 1e-4 && Math.abs(got['flip-translate'][0] - got.flip[0]) > 1e-4);
  }
  assert.deepEqual(TTA_VIEWS, { none: 1, flip: 2, 'flip-translate': 6 });
  assert.throws(
    () => ttaProbabilities(forward, x, 'ten-crop' as 'flip'),
    /must be one of 'none', 'flip', 'flip-translate', got "ten-crop"/,
  );
  torch.dispose(x);
  model.dispose();
});

test('evaluate with TTA: predictions are the arg-max of the mean softmax, the loss its cross-entropy', async () => {
  torch.manualSeed(2);
  const model = new LinearOnPixels();
  const count = 40;
  const images = Uint8Array.from({ length: count * C * H * W }, (_, i) => (i * 97 + (i >> 3) * 31) % 256);
  const labels = Int32Array.from({ length: count }, (_, i) => (i * 7) % K);
  const dataset = makeDataset({
    name: 'tta-test',
    images,
    labels,
    classes: ['a', 'b', 'c'],
    channels: C,
    height: H,
    width: W,
  });
  const result = await evaluateDataset(model, dataset, { batchSize: 16, tta: 'flip', transform: { augment: 'none' } });
  // Independently: the mean softmax per image from numbers(x) as above.
  const weight = numbers(model.fc.weight);
  const bias = numbers(model.fc.bias!);
  let correct = 0;
  let loss = 0;
  for (let n = 0; n < count; n++) {
    const img: Image = (c, y, x) => images[((n * C + c) * H + y) * W + x] / 255;
    const p = mean([softmaxOf(img, weight, bias), softmaxOf(mirrored(img), weight, bias)], [0.5, 0.5]);
    if (p.indexOf(Math.max(...p)) === labels[n]) correct++;
    loss -= Math.log(p[labels[n]]);
  }
  assert.equal(result.accuracy, correct / count);
  assert.ok(Math.abs(result.loss - loss / count) < 1e-5, `loss ${result.loss} vs ${loss / count}`);
  const plain = await evaluateDataset(model, dataset, { batchSize: 16, transform: { augment: 'none' } });
  assert.notEqual(plain.loss, result.loss, 'TTA changes the scores');
  model.dispose();
});
