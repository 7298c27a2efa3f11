// libjpeg-turbo decoding in the native engine (src/torch/jpeg.ts, native/jpeg.cc, native/resample.cc):
// whole images against sharp's decode of the same file, regions against the same pixels of the whole
// image, DCT-scaled decodes against block averages, the resize against libtorch's antialiased bilinear
// interpolation, mirroring, grayscale, and corrupt, truncated and unsupported files rejected with
// libjpeg's reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/torch/index.js';
import { decodeJpegRegion, isJpeg, readJpegHeader } from '../../src/torch/jpeg.js';
import { SHARED } from '../helpers.js';

const DRESSES = join(SHARED, 'datasets', 'clothing-small', 'train', 'dress');
const photos = readdirSync(DRESSES)
  .sort()
  .slice(0, 4)
  .map((name) => ({ name, bytes: readFileSync(join(DRESSES, name)) }));

/** The largest and the mean absolute difference of two byte arrays of one length. */
function difference(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  assert.equal(a.length, b.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

async function decodeWhole(bytes: Uint8Array): Promise<{ pixels: Buffer; width: number; height: number }> {
  const { width, height } = readJpegHeader(bytes);
  return { pixels: await decodeJpegRegion(bytes, { region: { left: 0, top: 0, width, height } }), width, height };
}

/** Rows top..top+height, columns left..left+width of an interleaved RGB image `width` pixels wide. */
function cut(pixels: Uint8Array, imageWidth: number, r: { left: number; top: number; width: number; height: number }) {
  const out = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.top + y) * imageWidth + r.left) * 3;
    out.set(pixels.subarray(from, from + r.width * 3), y * r.width * 3);
  }
  return out;
}

test('the header gives the size and colour space without decoding', () => {
  for (const { bytes } of photos) {
    assert.ok(isJpeg(bytes));
    const header = readJpegHeader(bytes);
    assert.equal(header.colourSpace, 'ycbcr');
    assert.equal(header.components, 3);
    assert.equal(header.icc, false);
    assert.equal(header.width, 400);
    assert.ok(header.height >= 500, `height ${header.height}`);
  }
  assert.equal(isJpeg(Buffer.from('\x89PNG\r\n')), false);
});

test("a whole photo decodes to sharp's pixels (libjpeg-turbo both; measured: identical)", async () => {
  for (const { name, bytes } of photos) {
    const { pixels, width, height } = await decodeWhole(bytes);
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [width, height, 3]);
    const d = difference(pixels, data);
    assert.ok(d.max <= 1, `${name}: max |difference| ${d.max}`);
  }
});

test("a progressive JPEG decodes whole and by region as sharp's decode of it", async () => {
  const progressive = await sharp(photos[3].bytes).jpeg({ progressive: true, quality: 85 }).toBuffer();
  assert.equal(readJpegHeader(progressive).progressive, true);
  const { pixels, width } = await decodeWhole(progressive);
  const { data } = await sharp(progressive).raw().toBuffer({ resolveWithObject: true });
  assert.ok(difference(pixels, data).max <= 1);
  const region = { left: 50, top: 70, width: 120, height: 90 };
  const part = await decodeJpegRegion(progressive, { region });
  assert.ok(difference(part, cut(data, width, region)).max <= 8);
});

test('a region decodes to the same pixels as that part of the whole image', async () => {
  // Only the columns at an edge of the decoded block columns may differ (measured: by up to 5 levels): there the
  // chroma upsampling has no neighbour beyond the edge.
  for (const { name, bytes } of photos) {
    const whole = await decodeWhole(bytes);
    for (const region of [
      { left: 37, top: 51, width: 201, height: 170 },
      { left: 0, top: 0, width: 16, height: 8 },
      { left: 256, top: 300, width: 144, height: whole.height - 300 },
    ]) {
      const pixels = await decodeJpegRegion(bytes, { region });
      const expected = cut(whole.pixels, whole.width, region);
      const d = difference(pixels, expected);
      assert.ok(d.max <= 8, `${name} ${JSON.stringify(region)}: ${JSON.stringify(d)}`);
      for (let i = 0; i < pixels.length; i++) {
        const x = Math.floor(i / 3) % region.width;
        if (pixels[i] !== expected[i]) assert.ok(x === 0 || x === region.width - 1, `${name}: column ${x} differs`);
      }
    }
  }
});

test('a 1/2, 1/4, 1/8 scaled decode is ceil(size / denom) and close to the block averages of the whole', async () => {
  const { bytes } = photos[0];
  const whole = await decodeWhole(bytes);
  for (const denom of [2, 4, 8] as const) {
    const [w, h] = [Math.ceil(whole.width / denom), Math.ceil(whole.height / denom)];
    const scaled = await decodeJpegRegion(bytes, { denom, region: { left: 0, top: 0, width: w, height: h } });
    assert.equal(scaled.length, w * h * 3);
    await assert.rejects(
      decodeJpegRegion(bytes, { denom, region: { left: 0, top: 0, width: w + 1, height: h } }),
      /outside the \d+x\d+ image/,
    );
    // Block averages over the whole blocks; measured on clothing photos: mean 0.2–0.5, max ≤ 26.
    const [bw, bh] = [Math.floor(whole.width / denom), Math.floor(whole.height / denom)];
    const averages = new Uint8Array(bw * bh * 3);
    for (let y = 0; y < bh; y++) {
      for (let x = 0; x < bw; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let j = 0; j < denom; j++)
            for (let i = 0; i < denom; i++)
              sum += whole.pixels[((y * denom + j) * whole.width + x * denom + i) * 3 + c];
          averages[(y * bw + x) * 3 + c] = Math.round(sum / denom / denom);
        }
      }
    }
    const d = difference(cut(scaled, w, { left: 0, top: 0, width: bw, height: bh }), averages);
    assert.ok(d.mean < 1 && d.max < 40, `1/${denom}: ${JSON.stringify(d)}`);
  }
});

test("the resize is libtorch's interpolate(bilinear, antialias) to within one level, shrinking and growing", async () => {
  const { bytes } = photos[1];
  const region = { left: 20, top: 40, width: 301, height: 257 };
  const source = await decodeJpegRegion(bytes, { region });
  for (const [width, height] of [
    [224, 224],
    [96, 60],
    [450, 300],
    [301, 257],
  ]) {
    const ours = await decodeJpegRegion(bytes, { region, width, height });
    const reference = torch.tidy(() => {
      const image = torch.tensor(new Uint8Array(source), { shape: [1, region.height, region.width, 3] });
      const planar = image.permute(0, 3, 1, 2).to('float32');
      const resized = torch.F.interpolate(planar, { size: [height, width], mode: 'bilinear', antialias: true });
      return new Uint8Array(resized.round().clamp(0, 255).to('uint8').permute(0, 2, 3, 1).contiguous().data().buffer);
    });
    const d = difference(ours, reference);
    assert.ok(d.max <= 1 && d.mean < 0.01, `${width}×${height}: ${JSON.stringify(d)}`);
  }
});

test('a mirrored decode is the plain one reversed along each row', async () => {
  const { bytes } = photos[2];
  const options = { region: { left: 10, top: 10, width: 250, height: 200 }, width: 64, height: 48 };
  const plain = await decodeJpegRegion(bytes, options);
  const mirrored = await decodeJpegRegion(bytes, { ...options, mirror: true });
  for (let y = 0; y < 48; y++) {
    for (let x = 0; x < 64; x++) {
      for (let c = 0; c < 3; c++) assert.equal(mirrored[(y * 64 + x) * 3 + c], plain[(y * 64 + 63 - x) * 3 + c]);
    }
  }
});

test("a grayscale JPEG decodes to three equal channels, as sharp's sRGB decode", async () => {
  const gray = await sharp(photos[0].bytes).toColourspace('b-w').jpeg().toBuffer();
  const header = readJpegHeader(gray);
  assert.deepEqual([header.colourSpace, header.components], ['grayscale', 1]);
  const { pixels } = await decodeWhole(gray);
  const { data } = await sharp(gray).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const d = difference(pixels, data);
  assert.ok(d.max <= 1, JSON.stringify(d));
  for (let i = 0; i < pixels.length; i += 3) assert.ok(pixels[i] === pixels[i + 1] && pixels[i] === pixels[i + 2]);
});

test('CMYK JPEGs are named by the header and refused by the decoder (sharp renders them)', async () => {
  const cmyk = await sharp(photos[0].bytes).resize(40, 50).toColourspace('cmyk').jpeg().toBuffer();
  const header = readJpegHeader(cmyk);
  assert.ok(['cmyk', 'ycck'].includes(header.colourSpace), header.colourSpace);
  assert.equal(header.components, 4);
  await assert.rejects(
    decodeJpegRegion(cmyk, { region: { left: 0, top: 0, width: 40, height: 50 } }),
    /Unsupported color conversion/,
  );
});

test('truncated, corrupt and non-JPEG bytes are refused with libjpeg’s reason, and bad arguments named', async () => {
  const { bytes } = photos[0];
  const region = { left: 0, top: 0, width: 40, height: 40 };
  // Cut in the middle: even though the region lies in the decoded top rows, the rest is read and found missing.
  await assert.rejects(decodeJpegRegion(bytes.subarray(0, bytes.length >> 1), { region }), /Premature end of JPEG/);
  const corrupt = Buffer.from(bytes);
  corrupt.fill(0xff, corrupt.length - 2000, corrupt.length - 1000);
  await assert.rejects(decodeJpegRegion(corrupt, { region }), /Corrupt JPEG data|Premature end|marker/i);
  assert.throws(() => readJpegHeader(Buffer.alloc(0)), /Empty input buffer|empty/i);
  assert.throws(() => readJpegHeader(Buffer.from('not a jpeg at all')), /Not a JPEG file/);
  assert.throws(() => readJpegHeader(bytes.subarray(0, 100)), /Premature end|JPEG/);
  await assert.rejects(decodeJpegRegion(Buffer.from('nope'), { region }), /Not a JPEG file/);
  assert.throws(() => decodeJpegRegion(bytes, { region, denom: 3 as 2 }), /denom must be 1, 2, 4 or 8, got 3/);
  assert.throws(() => decodeJpegRegion(bytes, { region: { ...region, width: 0 } }), /region.width must be a positive/);
  assert.throws(() => decodeJpegRegion(bytes, { region: { ...region, left: -1 } }), /region.left must be a non-neg/);
  assert.throws(
    () => decodeJpegRegion(bytes, { region: { left: 0, top: 0, width: 20000, height: 20000 } }),
    /the region has 400000000 pixels, more than the limit 268402689/,
  );
  await assert.rejects(
    decodeJpegRegion(bytes, { region: { left: 399, top: 0, width: 2, height: 2 } }),
    /the region 2x2 at \(399, 0\) is outside the 400x\d+ image/,
  );
});
