// The 'decode-region' strategy (the streaming loader's default): which images libjpeg-turbo decodes (the
// training crops of plain JPEGs) and which still go through sharp (CMYK or ICC-tagged JPEGs, other
// formats, the evaluation view); errors; and a loader's batches against the sharp path's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/torch/index.js';
import { decodeJpegRegion } from '../../src/torch/jpeg.js';
import { decodeView, type CropStrategy, type ImagePlan } from '../../src/data/image-decode.js';
import { imageFolderSource, NORMALIZATIONS, StreamingLoader } from '../../src/data/index.js';
import { DATASETS, tempDir } from './support.js';

const CLOTHING = join(DATASETS, 'clothing-small', 'train');
const photo = readFileSync(join(CLOTHING, 'dress', readdirSync(join(CLOTHING, 'dress')).sort()[0]));
const box = { left: 30, top: 60, width: 300, height: 280 };
const trainingPlan = (): ImagePlan => ({ size: 48, box, flip: true, jitter: null });
const evalPlan = (): ImagePlan => ({ size: 48, box: null, flip: false, jitter: null });

const view = async (input: Buffer, plan: () => ImagePlan, strategy: CropStrategy) =>
  (await decodeView(input, plan, strategy)).pixels;

test('a training crop of a plain JPEG is decoded by libjpeg-turbo: only the box, at the DCT scale it allows', async () => {
  const ours = await view(photo, trainingPlan, 'decode-region');
  // 300×280 for 48 pixels: decoded at 1/4 (75×70), the box's edges divided by 4 and rounded.
  const direct = await decodeJpegRegion(photo, {
    denom: 4,
    region: { left: 8, top: 15, width: 75, height: 70 },
    width: 48,
    height: 48,
    mirror: true,
  });
  assert.ok(ours.equals(direct));
  assert.ok(!ours.equals(await view(photo, trainingPlan, 'resize-first')), 'not the sharp path');
});

test('CMYK and ICC-tagged JPEGs, PNGs and the evaluation view go through sharp, as resize-first does', async () => {
  const cmyk = await sharp(photo).toColourspace('cmyk').jpeg().toBuffer();
  const icc = await sharp(photo).withIccProfile('p3').jpeg().toBuffer();
  const png = await sharp(photo).png().toBuffer();
  for (const [name, input, plan] of [
    ['CMYK', cmyk, trainingPlan],
    ['ICC profile', icc, trainingPlan],
    ['PNG', png, trainingPlan],
    ['evaluation view', photo, evalPlan],
  ] as const) {
    const ours = await view(input, plan, 'decode-region');
    assert.ok(ours.equals(await view(input, plan, 'resize-first')), name);
  }
});

test('a truncated or corrupt JPEG rejects with libjpeg’s reason, from a path or from bytes', async (t) => {
  const dir = tempDir(t);
  const truncated = join(dir, 'truncated.jpg');
  writeFileSync(truncated, photo.subarray(0, photo.length >> 1));
  await assert.rejects(decodeView(truncated, trainingPlan, 'decode-region'), /Premature end of JPEG file/);
  const corrupt = Buffer.from(photo);
  corrupt.fill(0xff, 300, 340); // inside the quantisation and Huffman tables
  await assert.rejects(decodeView(corrupt, trainingPlan, 'decode-region'), /Corrupt JPEG data/);
  await assert.rejects(decodeView(join(dir, 'missing.jpg'), trainingPlan, 'decode-region'), /ENOENT/);
});

test("a loader's batches by libjpeg-turbo have the shape, labels and statistics of sharp's", async (t) => {
  const root = tempDir(t);
  for (const cls of ['dress', 'shoes']) {
    mkdirSync(join(root, 'train', cls), { recursive: true });
    for (const name of readdirSync(join(CLOTHING, cls)).sort().slice(0, 12)) {
      writeFileSync(join(root, 'train', cls, name), readFileSync(join(CLOTHING, cls, name)));
    }
  }
  const source = await imageFolderSource(root, 'train');
  const batches = async (strategy: CropStrategy) => {
    const loader = new StreamingLoader(source, {
      batchSize: 8,
      shuffle: true,
      seed: 3,
      strategy,
      view: { size: 64, augment: 'random-resized-crop', ...NORMALIZATIONS.imagenet },
    });
    const out: { shape: number[]; labels: number[]; mean: number[]; std: number[] }[] = [];
    for await (const batch of loader.epoch(0)) {
      out.push(
        torch.tidy(() => ({
          shape: batch.x.shape,
          labels: [...batch.y.data()].map(Number),
          mean: [...batch.x.mean([0, 2, 3]).data()].map(Number),
          std: [...batch.x.std([0, 2, 3]).data()].map(Number),
        })),
      );
      torch.dispose(batch);
    }
    return out;
  };
  const [ours, theirs] = [await batches('decode-region'), await batches('resize-first')];
  assert.equal(ours.length, 3);
  ours.forEach((b, i) => {
    assert.deepEqual(b.shape, [8, 3, 64, 64]);
    assert.deepEqual(b.labels, theirs[i].labels);
    // The same boxes, resampled a little differently: channel means and spreads agree closely.
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(b.mean[c] - theirs[i].mean[c]) < 0.03, `batch ${i} mean ${b.mean[c]} vs ${theirs[i].mean[c]}`);
      assert.ok(Math.abs(b.std[c] - theirs[i].std[c]) < 0.05, `batch ${i} std ${b.std[c]} vs ${theirs[i].std[c]}`);
    }
  });
});
