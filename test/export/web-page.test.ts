// End to end: a tiny SE model trained here (simple-cnn, 1 epoch on 800 CIFAR-10 sample images), exported with
// `senet export --format web`, the page served from 127.0.0.1 and opened in headless Chromium, images set on
// its file input, and what the page shows compared with senet's own predictions for the same files.
//
// Two kinds of images, because the page resizes with the browser's canvas and senet with sharp (different
// filters): PNGs of CIFAR-10 test images at the model's 32×32 input, which neither resizes (and PNG decodes
// to the same pixels everywhere), so the page's probabilities and SE gates must equal senet's to float
// precision; and real photos (400×534 JPEGs, shrunk 12×), where the filters differ, so the photos used are
// those whose senet top-1 leads its second class clearly, and the page's probabilities are also checked
// against senet run on the page's own 32×32 pixels (read back from its preview canvas).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import * as torch from '../../src/torch/index.js';
import { BatchTransform } from '../../src/data/index.js';
import { excitationUnits, probeExcitation } from '../../src/se/probe.js';
import { createModel } from '../../src/models/index.js';
import { loadTrainedModel, weightsMetadata, type TrainedModel } from '../../src/train/trained-model.js';
import { predictFiles } from '../../src/train/predict.js';
import { trainRun } from '../../src/train/trainer.js';
import { resolveConfig } from '../../src/train/config.js';
import { launchChromium, serveFolder } from '../browser.js';
import { DATASETS, JPEG_FOLDER, tempDir } from '../data/support.js';
import { errorLine, makeTinyCifar, senetInProcess } from '../cli/support.js';
import { runOnnx } from './support.js';

let work = '';
let run = '';
let site = '';
const pngs: string[] = [];

before(async () => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-web-page-');
  run = join(work, 'run');
  const config = resolveConfig({
    values: { model: 'simple-cnn', data: 'cifar10', epochs: 1, batchSize: 32, seed: 1, threads: 1 },
    source: { describe: (key) => `the test's ${key}` },
  });
  await trainRun({ config, runDir: run, cacheDir: makeTinyCifar(join(work, 'data')) });
  site = join(work, 'site');
  const exported = await senetInProcess('export', '--format', 'web', '--run', run, '--output', site);
  assert.equal(exported.code, 0, exported.stderr);
  mkdirSync(join(work, 'images'));
  for (const [cls, file] of [
    ['cat', '0000.jpg'],
    ['ship', '0001.jpg'],
    ['frog', '0002.jpg'],
  ]) {
    const png = join(work, 'images', `${cls}-${file.replace('.jpg', '.png')}`);
    await sharp(join(JPEG_FOLDER, 'test', cls, file))
      .png()
      .toFile(png);
    pngs.push(png);
  }
});

interface Shown {
  top: { class: string; index: number; probability: number }[];
  gates: number[];
  /** The 32×32 RGBA pixels the page fed the model (its preview canvas). */
  rgba: number[];
}

/** What the test reads of an HTML canvas. */
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
}

/** Sets `file` on the page's file input and reads what the page shows once it has classified it. */
async function classify(page: Page, file: string): Promise<Shown> {
  const name = file.split('/').at(-1)!;
  await page.setInputFiles('#file', file);
  await page.locator(`#result[data-file="${name}"]`).waitFor({ timeout: 10_000 });
  const top = await page.locator('#top li').evaluateAll((items) =>
    items.map((li) => {
      const data = (li as unknown as { dataset: Record<string, string> }).dataset;
      return { class: data.class, index: Number(data.index), probability: Number(data.probability) };
    }),
  );
  const gates = await page
    .locator('#gates-chart rect.gate')
    .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-gate'))));
  const rgba = await page.locator('#preview').evaluate((element) => {
    const canvas = element as unknown as Canvas; // the tests are compiled without the DOM's types
    return Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data);
  });
  return { top, gates, rgba };
}

/** senet on given pixels (uint8 [N, 3, H, W]): the softmax probabilities and the last SE unit's gates. */
async function senetOnPixels(trained: TrainedModel, pixels: Uint8Array, n: number) {
  const [c, h, w] = trained.model.inputShape;
  const units = excitationUnits(trained.model);
  let gates: Float64Array = new Float64Array();
  const handles = units.map(([, unit]) =>
    probeExcitation(unit, (e) => {
      gates = e.values; // the last unit the forward pass runs reports last
    }),
  );
  const batch = torch.tensor(pixels, { shape: [n, c, h, w] });
  const transform = new BatchTransform({ augment: 'none', mean: trained.context.mean, std: trained.context.std });
  const x = await transform.apply(batch);
  try {
    const probabilities = torch.noGrad(() =>
      torch.tidy(() => torch.F.softmax(trained.model.call(x), 1).data() as Float32Array),
    );
    return { probabilities, gates };
  } finally {
    for (const handle of handles) handle.remove();
    torch.dispose([batch, x]);
  }
}

/** RGBA from the canvas as planes C×H×W. */
function planes(rgba: readonly number[], channels: number): Uint8Array {
  const plane = rgba.length / 4;
  const out = new Uint8Array(channels * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) out[c * plane + p] = rgba[p * 4 + c];
  return out;
}

test('the exported page classifies dropped images as senet does, shows the SE gates, and logs no error', async (t) => {
  const trained = loadTrainedModel({ run });
  t.after(() => trained.model.dispose());
  const classes = trained.context.classes;
  const server = await serveFolder(site);
  t.after(() => server.close());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(server.url);
  await page.locator('#file:enabled').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('#status').textContent(), 'Ready: drop or choose an image.');
  assert.equal(await page.locator('#model-name').textContent(), '(simple-cnn, 10 classes)');

  // Images at the input's size: the same pixels in, the same numbers out.
  const expected = await predictFiles(trained, pngs, 5);
  for (const [i, png] of pngs.entries()) {
    const shown = await classify(page, png);
    const senet = expected[i].top;
    assert.deepEqual(
      shown.top.map((s) => s.class),
      senet.map((s) => s.class),
      `${png}: the page's top 5 are senet's, in order`,
    );
    for (const [j, s] of shown.top.entries())
      assert.ok(Math.abs(s.probability - senet[j].probability) < 1e-5, `${png}: ${s.class} ${s.probability}`);
    const reference = await senetOnPixels(trained, planes(shown.rgba, 3), 1);
    assert.equal(shown.gates.length, 64, 'one bar per channel of the SE block (64 channels)');
    assert.equal(reference.gates.length, 64);
    shown.gates.forEach((g, c) => assert.ok(Math.abs(g - reference.gates[c]) < 1e-5, `gate ${c}: ${g}`));
  }

  // Dropped rather than chosen: a drop anywhere on the page is classified the same way.
  const bytes = [...readFileSync(pngs[1])];
  const transfer = await page.evaluateHandle((data) => {
    const g = globalThis as unknown as Record<string, new (...args: unknown[]) => unknown>;
    const dt = new g.DataTransfer() as { items: { add(file: unknown): void } };
    dt.items.add(new g.File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
    return dt;
  }, bytes);
  await page.dispatchEvent('h1', 'drop', { dataTransfer: transfer });
  await page.locator('#result[data-file="dropped.png"]').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#top li').first().getAttribute('data-class'), expected[1].top[0].class);

  // Photos: senet's top-1 must lead clearly for the resize filters not to decide it.
  const photoRoot = join(DATASETS, 'clothing-small', 'test');
  const candidates = readdirSync(photoRoot)
    .sort()
    .map((cls) => join(photoRoot, cls, readdirSync(join(photoRoot, cls)).sort()[0]));
  const predicted = await predictFiles(trained, candidates, classes.length);
  const clear = predicted.filter((p) => p.top[0].probability - p.top[1].probability > 0.05).slice(0, 3);
  assert.equal(clear.length, 3, 'three photos with a clear senet top-1');
  let resizeGap = 0;
  for (const photo of clear) {
    const shown = await classify(page, photo.file);
    assert.equal(shown.top[0].class, photo.top[0].class, `${photo.file}: the page's top-1 is senet's`);
    for (const s of shown.top) {
      const senet = photo.top.find((p) => p.index === s.index)!;
      resizeGap = Math.max(resizeGap, Math.abs(s.probability - senet.probability));
    }
    const same = await senetOnPixels(trained, planes(shown.rgba, 3), 1);
    for (const s of shown.top) {
      assert.ok(
        Math.abs(s.probability - same.probabilities[s.index]) < 1e-5,
        `${photo.file}: ${s.class} on the page's own pixels`,
      );
    }
  }
  t.diagnostic(`photos: largest probability difference from senet predict (canvas vs sharp resize): ${resizeGap}`);
  assert.ok(classes.includes((await page.locator('#top li').first().getAttribute('data-class'))!));

  // Not an image: one message on the page, nothing thrown, and the next image still works.
  await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
  await page.locator('#status.error').waitFor();
  assert.equal(
    await page.locator('#status').textContent(),
    'cannot read notes.txt as an image; choose a JPEG, PNG or WebP file',
  );
  await classify(page, pngs[0]);

  assert.deepEqual(problems, [], 'no console errors or warnings');
  const missing = server.requests.filter((path) => !['/', ...readdirSync(site).map((f) => `/${f}`)].includes(path));
  assert.deepEqual(missing, [], 'the page asks only for files of the site');
  const shots = join(tmpdir(), 'senet-web-screenshot');
  mkdirSync(shots, { recursive: true });
  const screenshot = join(shots, 'web-page.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  t.diagnostic(`screenshot: ${screenshot}`);
});

test('a model without SE gets the page without the gates; a folder of other files is refused', async (t) => {
  const dir = tempDir(t, 'senet-web-plain-');
  const weights = join(dir, 'resnet20.safetensors');
  torch.manualSeed(3);
  const model = createModel('resnet20', { numClasses: 3 });
  const spec = { name: 'resnet20', options: { numClasses: 3, inChannels: 3, inputSize: [32, 32] as [number, number] } };
  const context = { classes: ['a', 'b', 'c'], mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
  torch.io.save(model.stateDict(), weights, { metadata: weightsMetadata(spec, context) });
  model.dispose();
  const output = join(dir, 'site');
  const exported = await senetInProcess('export', '--format', 'web', '--weights', weights, '--output', output);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^wrote .*site: a web page for resnet20 \(8 files, 1\d\.\d MiB\); serve the folder/);
  const info = JSON.parse(readFileSync(join(output, 'model.json'), 'utf8'));
  assert.deepEqual(info, {
    version: info.version,
    model: 'resnet20',
    inputShape: [3, 32, 32],
    input: 'input',
    logits: 'logits',
    seGates: null,
    ...context,
  });
  const x = torch.zeros([1, 3, 32, 32]);
  const outputs = await runOnnx(readFileSync(join(output, 'model.onnx')), { input: x });
  assert.deepEqual(Object.keys(outputs), ['logits'], 'no gates output');
  assert.deepEqual(outputs.logits.shape, [1, 3]);
  torch.dispose([x, ...Object.values(outputs)]);

  const gates = await senetInProcess(
    'export',
    '--format',
    'web',
    '--weights',
    weights,
    '--se-gates',
    '--output',
    join(dir, 'g'),
  );
  assert.equal(gates.code, 1);
  assert.match(errorLine(gates.stderr), /se_gates were asked for, but .* has no SE unit/);
  const mine = join(dir, 'mine');
  mkdirSync(mine);
  writeFileSync(join(mine, 'index.html'), 'my page');
  writeFileSync(join(mine, 'photo.jpg'), 'x');
  const refused = await senetInProcess('export', '--format', 'web', '--weights', weights, '--output', mine);
  assert.equal(refused.code, 1);
  assert.match(
    errorLine(refused.stderr),
    /^senet: the output folder .*mine holds files that are not part of a senet web export \(photo\.jpg\)/,
  );
  assert.equal(readFileSync(join(mine, 'index.html'), 'utf8'), 'my page', 'nothing overwritten');
});
