// The report's pictures: misclassified test images found class by class, and images embedded in SVG
// figures as PNG data URIs that decode back to the pixels given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { embeddedImages } from './support.js';
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import { makeDataset } from '../../src/data/index.js';
import {
  balancedPick,
  classRoundRobin,
  findMisclassified,
  imageGridSvg,
  pictureSvg,
  type Misclassified,
} from '../../src/report/index.js';

/** Always answers class 0, sure of it: every image of another class is misclassified. */
class AlwaysFirst extends nn.Module {
  forward(x: Tensor): Tensor {
    const n = x.size(0);
    return torch.tensor(Array.from({ length: n }, () => [5, 0, 0, 0]).flat(), { shape: [n, 4] });
  }
}

const LABELS = [0, 1, 1, 3, 0, 1, 2, 3, 1, 0, 1, 3, 0, 1, 3, 0];

function labelled() {
  const size = 3 * 2 * 2;
  const images = new Uint8Array(LABELS.length * size);
  LABELS.forEach((_, i) => images.fill(i * 10, i * size, (i + 1) * size));
  return makeDataset({
    name: 'planes',
    images,
    labels: Int32Array.from(LABELS),
    classes: ['a', 'b', 'c', 'd'],
    channels: 3,
    height: 2,
    width: 2,
  });
}

test('classRoundRobin: every index once, class by class in turn', () => {
  assert.deepEqual(classRoundRobin(Int32Array.from(LABELS), 4), [0, 1, 6, 3, 4, 2, 7, 9, 5, 11, 12, 8, 14, 15, 10, 13]);
});

test('balancedPick: true classes as even as the finds allow, sorted by class then index', () => {
  const m = (index: number, truth: number): Misclassified => ({ index, truth, predicted: 0, probability: 1 });
  const found = [[], [m(1, 1), m(2, 1), m(5, 1)], [m(6, 2)], [m(3, 3), m(7, 3)]];
  assert.deepEqual(
    balancedPick(found, 4).map((x) => x.index),
    [1, 2, 6, 3],
  );
  assert.equal(balancedPick(found, 50).length, 6);
});

test('findMisclassified: the images a model gets wrong, balanced across true classes, with its answer', async () => {
  const data = labelled();
  const result = await findMisclassified(new AlwaysFirst(), data, {
    transform: { augment: 'none', mean: [0, 0, 0], std: [1, 1, 1] },
    max: 6,
    batchSize: 3,
  });
  // Class a is never wrong, so reading goes on until its last image (the 14th in class-by-class order),
  // to the end of that batch of 3: 15 images.
  assert.equal(result.examined, 15);
  assert.deepEqual(
    result.items.map((x) => [x.index, x.truth, x.predicted]),
    [
      [1, 1, 0],
      [2, 1, 0],
      [5, 1, 0],
      [6, 2, 0],
      [3, 3, 0],
      [7, 3, 0],
    ],
  );
  const sure = Math.exp(5) / (Math.exp(5) + 3);
  for (const x of result.items) assert.ok(Math.abs(x.probability - sure) < 1e-6, String(x.probability));
  await assert.rejects(
    findMisclassified(new AlwaysFirst(), data, { transform: { augment: 'none' }, max: 0 }),
    /max must be a positive integer, got 0/,
  );
});

test('findMisclassified stops reading once every class has its share', async () => {
  // Two classes, the model always says class 0: one wrong image of class 1 is enough for max 2.
  const labels = Int32Array.from({ length: 40 }, (_, i) => i % 2);
  const data = makeDataset({
    name: 'two',
    images: new Uint8Array(40 * 3),
    labels,
    classes: ['x', 'y'],
    channels: 3,
    height: 1,
    width: 1,
  });
  class TwoWay extends nn.Module {
    forward(x: Tensor): Tensor {
      const n = x.size(0);
      return torch.tensor(Array.from({ length: n }, () => [1, 0]).flat(), { shape: [n, 2] });
    }
  }
  // Class x is never wrong: to know that, every image of x is read, and y fills the grid.
  const result = await findMisclassified(new TwoWay(), data, { transform: { augment: 'none' }, max: 2, batchSize: 4 });
  assert.deepEqual(
    result.items.map((x) => x.truth),
    [1, 1],
  );
  assert.equal(result.examined, 40);
  // Told that only y can be wrong (x has no image), one batch is enough.
  const onlyY = makeDataset({ ...data, name: 'y only', labels: labels.map(() => 1) });
  const early = await findMisclassified(new TwoWay(), onlyY, { transform: { augment: 'none' }, max: 2, batchSize: 4 });
  assert.equal(early.items.length, 2);
  assert.equal(early.examined, 4, 'stopped after the first batch');
});

test('findMisclassified reads each image under its own index when the class order reorders the whole set', async () => {
  // The answer depends on the image: image i (every pixel i·10) is called class i mod 4. Class-by-class order
  // reads every image in a new order, and each find must still pair an index with that image's answer.
  class ByPixel extends nn.Module {
    forward(x: Tensor): Tensor {
      const means = x.mean([1, 2, 3]).data() as Float32Array;
      const rows = Array.from(means, (m) => [0, 1, 2, 3].map((k) => (k === Math.round(m * 25.5) % 4 ? 5 : 0)));
      return torch.tensor(rows.flat(), { shape: [means.length, 4] });
    }
  }
  const data = labelled();
  const result = await findMisclassified(new ByPixel(), data, {
    transform: { augment: 'none', mean: [0, 0, 0], std: [1, 1, 1] },
    max: 16,
    batchSize: 3,
  });
  const wrong = LABELS.flatMap((label, i) => (label === i % 4 ? [] : [i]));
  assert.deepEqual(
    result.items.map((x) => x.index).sort((a, b) => a - b),
    wrong,
  );
  for (const x of result.items) {
    assert.equal(x.predicted, x.index % 4, `image ${x.index}'s own answer`);
    assert.equal(x.truth, LABELS[x.index]);
  }
});

test('imageGridSvg: one PNG at the images own resolution, each tile exact, captions as text under it', async () => {
  // Three 2×3 (H×W) RGB tiles of a few colours each (palette PNG keeps them exactly).
  const tile = (seed: number) => Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => (seed * 60 + (i % 3) * 40) % 256);
  const tiles = [0, 1, 2].map((k) => ({ pixels: tile(k + 1), caption: [`true: c${k}`, `pred: <d${k}> 50%`] }));
  const svg = await imageGridSvg(tiles, { title: 'Grid', channels: 3, height: 2, width: 3, columns: 2 });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="(\d+)" height="(\d+)"/);
  assert.match(svg, /style="image-rendering:pixelated"/);
  const [image, ...more] = await embeddedImages(svg);
  assert.equal(more.length, 0, 'one picture for the whole grid');
  const [, shownW, shownH] = /width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
  assert.equal(shownW % image.width, 0);
  assert.equal(shownW / image.width, shownH / image.height, 'enlarged by one whole factor');
  const cellW = image.width / 2;
  const cellH = image.height / 2;
  tiles.forEach((t, k) => {
    const left = (k % 2) * cellW;
    const top = Math.floor(k / 2) * cellH;
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 3; x++)
        for (let c = 0; c < 3; c++) {
          const got = image.data[((top + y) * image.width + left + x) * 3 + c];
          assert.equal(got, t.pixels[c * 6 + y * 3 + x], `tile ${k} (${x}, ${y}) channel ${c}`);
        }
  });
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual(texts, [
    'true: c0',
    'pred: &lt;d0&gt; 50%',
    'true: c1',
    'pred: &lt;d1&gt; 50%',
    'true: c2',
    'pred: &lt;d2&gt; 50%',
  ]);
  await assert.rejects(imageGridSvg([], { title: 'x', channels: 3, height: 2, width: 3 }), /no tiles/);
});

test('pictureSvg: an image enlarged by repeating pixels is stored at its source size; others as they are', async () => {
  const small = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9, 200, 100, 50, 0, 0, 0]); // 3×2 RGB
  const enlarged = await sharp(Buffer.from(small), { raw: { width: 3, height: 2, channels: 3 } })
    .resize(12, 8, { kernel: 'nearest' })
    .png()
    .toBuffer();
  const svg = await pictureSvg(enlarged, 'Samples');
  assert.match(svg, /^<svg [^>]*width="12" height="8"/);
  const [image] = await embeddedImages(svg);
  assert.deepEqual([image.width, image.height], [3, 2]);
  assert.deepEqual([...image.data], [...small]);
  const plain = await sharp(Buffer.from(small), { raw: { width: 3, height: 2, channels: 3 } })
    .png()
    .toBuffer();
  const [same] = await embeddedImages(await pictureSvg(plain, 'Plain'));
  assert.deepEqual([same.width, same.height, [...same.data]], [3, 2, [...small]]);
});

test('imageGridSvg: large images are shrunk to 64 pixels a side; grey images stay grey', async () => {
  const big = (value: number) => ({ pixels: new Uint8Array(3 * 100 * 80).fill(value), caption: ['x'] });
  const svg = await imageGridSvg([big(40), big(200)], { title: 'Big', channels: 3, height: 100, width: 80 });
  const [image] = await embeddedImages(svg);
  assert.equal(image.height < 100, true, `stored ${image.width}×${image.height}`);
  const at = (x: number, y: number) => [
    ...image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3),
  ];
  assert.deepEqual(at(0, 0), [40, 40, 40]);
  assert.deepEqual(at(50, 63), [40, 40, 40], 'the first tile is 64 pixels tall and 51 wide');
  assert.deepEqual(at(0, 64), [255, 255, 255], 'white below it, for the caption');

  const grey = await imageGridSvg([{ pixels: Uint8Array.from([0, 85, 170, 255]), caption: ['g'] }], {
    title: 'Grey',
    channels: 1,
    height: 2,
    width: 2,
  });
  const [g] = await embeddedImages(grey);
  const pixel = (x: number, y: number) => [
    ...g.data.subarray((y * g.width + x) * g.channels, (y * g.width + x + 1) * g.channels),
  ];
  // Decoded as RGB (the palette's colours) or grey: either way each pixel's value is kept.
  assert.deepEqual(
    [pixel(0, 0), pixel(1, 0), pixel(0, 1), pixel(1, 1)].map((p) => [...new Set(p.slice(0, 3))]),
    [[0], [85], [170], [255]],
  );
});
