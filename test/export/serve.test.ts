// The HTTP service on a real loopback port: predictions for JPEG, PNG and WebP bodies and multipart forms
// equal `senet predict`'s for the same files, concurrent requests share batches, a full queue answers
// 503, and every kind of bad input gets a 4xx JSON error after which the service still answers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import sharp from 'sharp';
import { loadTrainedModel } from '../../src/train/trained-model.js';
import { predictFiles } from '../../src/train/predict.js';
import type { Predictor, Service } from '../../src/export/serve/index.js';
import { tempDir } from '../data/support.js';
import { imageBody, send, startService, writeImages, writeWeights } from './serve-support.js';

let dir: string;
let weights: string;
let images: { jpeg: string; png: string; webp: string };
let service: Service;
let url: string;

before(async () => {
  dir = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-serve-');
  weights = writeWeights(dir);
  images = await writeImages(dir);
  ({ service, url } = await startService(weights, { maxWaitMs: 20, bodyLimit: 20_000, maxPixels: 100 * 100 }));
});

after(async () => {
  await service.close();
});

/** `senet predict`'s answer for files (its own model instance: unfolded BatchNorm, NCHW). */
async function predicted(files: string[], k: number) {
  const trained = loadTrainedModel({ weights });
  try {
    return await predictFiles(trained, files, k);
  } finally {
    trained.model.dispose();
  }
}

function assertSameTop(actual: { index: number; class: string; probability: number }[], expected: typeof actual) {
  assert.deepEqual(
    actual.map((t) => [t.index, t.class]),
    expected.map((t) => [t.index, t.class]),
  );
  // Folded BatchNorm and another memory format change the logits by float32 rounding only.
  actual.forEach((t, i) => assert.ok(Math.abs(t.probability - expected[i].probability) < 1e-5, `${t.probability}`));
}

test("JPEG, PNG and WebP bodies answer `senet predict`'s top-k for the same file", async () => {
  const expected = await predicted([images.jpeg, images.png, images.webp], 3);
  const types = ['image/jpeg', 'image/png', 'image/webp'];
  const files = [images.jpeg, images.png, images.webp];
  for (const [i, file] of files.entries()) {
    const { status, body } = await send(`${url}/predict?k=3`, imageBody(readFileSync(file), types[i]));
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.top.length, 3);
    assertSameTop(body.top, expected[i].top);
  }
  assert.notDeepEqual(expected[0].top[0], expected[1].top[0], 'the images are told apart');
  const bySniffing = await send(`${url}/predict`, imageBody(readFileSync(images.png), 'application/octet-stream'));
  assert.equal(bySniffing.status, 200);
  assert.equal(bySniffing.body.top.length, 5, "the service's default k");
});

test('a multipart form of several files answers one prediction per file, by file name', async () => {
  const expected = await predicted([images.webp, images.jpeg], 2);
  const form = new FormData();
  form.append('a', new Blob([readFileSync(images.webp)], { type: 'image/webp' }), basename(images.webp));
  form.append('note', 'fields other than files are ignored');
  form.append('b', new Blob([readFileSync(images.jpeg)], { type: 'image/jpeg' }), basename(images.jpeg));
  const { status, body } = await send(`${url}/predict?k=2`, { method: 'POST', body: form });
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(
    body.predictions.map((p: { file: string }) => p.file),
    ['frog.webp', 'cat.jpg'],
  );
  body.predictions.forEach((p: { top: [] }, i: number) => assertSameTop(p.top, expected[i].top));
});

test('concurrent requests are batched together; GET /health counts the batches and their sizes', async () => {
  const before = (await send(`${url}/health`)).body.batching;
  const body = readFileSync(images.jpeg);
  const answers = await Promise.all(
    Array.from({ length: 12 }, () => send(`${url}/predict`, imageBody(body, 'image/jpeg'))),
  );
  for (const a of answers) assert.equal(a.status, 200);
  assert.ok(answers.every((a) => a.body.top[0].index === answers[0].body.top[0].index));
  const health = (await send(`${url}/health`)).body;
  assert.equal(health.status, 'ok');
  const batches = health.batching.batches - before.batches;
  assert.equal(health.batching.items - before.items, 12);
  assert.ok(batches < 12, `12 concurrent requests ran in ${batches} batches: some must have shared one`);
  assert.ok(health.batching.largestBatch > 1);
  const sizes = Object.entries(health.batching.batchSizes as Record<string, number>);
  assert.equal(
    sizes.reduce((n, [size, count]) => n + Number(size) * count, 0),
    health.batching.items,
  );
});

test('GET /model says what is served and how', async () => {
  const { status, body } = await send(`${url}/model`);
  assert.equal(status, 200);
  assert.equal(body.model, 'se-resnet20');
  assert.deepEqual(body.inputShape, [3, 32, 32]);
  assert.equal(body.classes.length, 10);
  assert.deepEqual(body.mean, [0.49, 0.48, 0.45]);
  assert.equal(body.engine, 'libtorch');
  assert.ok(body.foldedBatchNorms > 0, 'BatchNorm is folded for serving');
  assert.equal(body.limits.maxWaitMs, 20);
});

/** A PNG of the given size (pseudo-random noise, so that it does not compress below the body limit). */
function noisePng(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  let state = 12345;
  for (let i = 0; i < pixels.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pixels[i] = state >>> 24;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

test('bad input gets a 4xx JSON error naming the problem, and the service goes on answering', async () => {
  const jpeg = readFileSync(images.jpeg);
  const truncated = jpeg.subarray(0, Math.floor(jpeg.length * 0.85)); // the header whole, the scan cut
  const huge = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  const large = await noisePng(90, 90);
  assert.ok(large.length > 20_000, 'the large image is over the 20 KB body limit');
  const gif = await sharp(jpeg).gif().toBuffer();
  const tooManyFiles = new FormData();
  for (let i = 0; i < 17; i++) tooManyFiles.append(`f${i}`, new Blob([jpeg]), `${i}.jpg`);
  const noFiles = new FormData();
  noFiles.append('field', 'no file here');
  const post = (body: Buffer, type: string) => imageBody(body, type);
  const cases: [string, string, RequestInit, number, RegExp][] = [
    ['not an image', '/predict', post(Buffer.from('hello, not an image'), 'image/jpeg'), 400, /is not an image/],
    ['a corrupt (truncated) JPEG', '/predict', post(truncated, 'image/jpeg'), 400, /cannot decode the request body/],
    ['an image format not served', '/predict', post(gif, 'image/png'), 400, /is a gif image/],
    ['too many pixels', '/predict', post(huge, 'image/png'), 400, /200×200 = 40000 pixels.*--max-pixels/],
    ['too large', '/predict', post(large, 'image/png'), 413, /larger than the limit of 0\.02 MB/],
    [
      'JSON',
      '/predict',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
      415,
      /'application\/json' is not accepted/,
    ],
    ['text', '/predict', { method: 'POST', body: 'a cat' }, 415, /'text\/plain;charset=UTF-8' is not accepted/],
    ['no body', '/predict', { method: 'POST' }, 400, /has no body/],
    ['a bad k', '/predict?k=11', post(jpeg, 'image/jpeg'), 400, /\?k=11 is not an integer in \[1, 10\]/],
    ['too many files', '/predict', { method: 'POST', body: tooManyFiles }, 413, /more than 16 files/],
    ['a form without files', '/predict', { method: 'POST', body: noFiles }, 400, /holds no file/],
    ['an unknown route', '/predictions', { method: 'GET' }, 404, /there is no GET \/predictions/],
  ];
  for (const [what, path, init, status, message] of cases) {
    const answer = await send(`${url}${path}`, init);
    assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
    assert.deepEqual(Object.keys(answer.body), ['error'], what);
    assert.match(answer.body.error, message, what);
    const good = await send(`${url}/predict`, post(jpeg, 'image/jpeg'));
    assert.equal(good.status, 200, `after ${what}, the service still answers`);
  }
  const corruptFile = new FormData();
  corruptFile.append('x', new Blob([truncated]), 'broken.jpg');
  const inForm = await send(`${url}/predict`, { method: 'POST', body: corruptFile });
  assert.equal(inForm.status, 400);
  assert.match(inForm.body.error, /cannot decode the file 'broken\.jpg'/, 'a bad file of a form is named');
});

/** The libtorch predictor with its batches held until open() is called. */
function gated(inner: Predictor): Predictor & { open(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    ...inner,
    async run(images, count) {
      await gate;
      return inner.run(images, count);
    },
    open,
  };
}

test('a full queue answers 503 at once; the queued requests are still answered', async (t) => {
  let predictor!: ReturnType<typeof gated>;
  const busy = await startService(weights, { maxBatch: 1, maxQueue: 1, maxWaitMs: 0, maxFiles: 1 }, (p) => {
    predictor = gated(p);
    return predictor;
  });
  t.after(() => busy.service.close());
  const jpeg = readFileSync(images.jpeg);
  const waitFor = async (ok: (b: { running: boolean; waiting: number }) => boolean) => {
    for (let i = 0; i < 500 && !ok((await send(`${busy.url}/health`)).body.batching); i++)
      await new Promise((r) => setTimeout(r, 10));
  };
  const first = send(`${busy.url}/predict`, imageBody(jpeg, 'image/jpeg'));
  await waitFor((b) => b.running);
  const second = send(`${busy.url}/predict`, imageBody(jpeg, 'image/jpeg'));
  await waitFor((b) => b.waiting === 1);
  const refused = await fetch(`${busy.url}/predict`, imageBody(jpeg, 'image/jpeg'));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.match(
    ((await refused.json()) as { error: string }).error,
    /the service is busy: 1 images are waiting.*--max-queue/,
  );
  predictor.open();
  assert.equal((await first).status, 200);
  assert.equal((await second).status, 200);
  const stats = (await send(`${busy.url}/health`)).body.batching;
  assert.equal(stats.refused, 1);
  assert.deepEqual(stats.batchSizes, { 1: 2 });
});
