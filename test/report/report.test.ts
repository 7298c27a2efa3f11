// End to end: a real tiny training run (SE-ResNet-20, 2 epochs on 400 images of the CIFAR-10 sample),
// `senet report` on it in a child process, and the HTML opened in headless Chromium with the network
// blocked and no script allowed: every diagram, chart and picture must render from the file alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ROOT } from '../helpers.js';
import { launchChromium } from '../browser.js';
import { embeddedImages, tinyCifarCache, tinyRun } from './support.js';
import {
  checkPipeline,
  stateDiagram,
  stateDiagramSvg,
  ganttChart,
  ganttSpec,
  renderSvg,
} from '../../src/report/index.js';
import { renderHtml } from '../../src/report/html.js';

const SENET = join(ROOT, 'bin', 'senet.js');
const STAGES = [
  'data-preparation',
  'data-augmentation',
  'se-module-design',
  'cnn-model-design',
  'hyperparameter-tuning',
  'model-training',
  'evaluation',
];
const ID = (name: string) => `stage_${name.replace(/-/g, '_')}`;

let work = '';
let cache = '';
let runDir = '';

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'senet-report-'));
  cache = tinyCifarCache(join(work, 'cache'));
  runDir = join(work, 'run');
  await tinyRun(runDir, cache);
});

after(() => rmSync(work, { recursive: true, force: true }));

function senet(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SENET, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

test('senet report writes report.md with its figures, report.html, se-analysis.json and a TensorBoard event file', async (t) => {
  const tb = join(work, 'tb');
  const { code, stdout, stderr } = await senet([
    'report',
    runDir,
    '--data',
    cache,
    '--se-images',
    '100',
    '--tensorboard',
    tb,
  ]);
  assert.equal(code, 0, stderr);
  assert.match(
    stdout,
    /wrote .*report\.md\nwrote .*report\.html\nwrote 11 figures\nwrote .*se-analysis\.json\nwrote .*events\.out\.tfevents\./,
  );

  const md = readFileSync(join(runDir, 'report.md'), 'utf8');
  assert.match(md, /```mermaid\nstateDiagram-v2\n/);
  assert.match(md, /```mermaid\ngantt\n/);
  for (const name of STAGES)
    assert.equal(md.split(`as ${ID(name)}\n`).length, 2, `${name} declared once in the state diagram`);
  // se-resnet20 (r = 16, Linear, no bias): 274,490 parameters, as PyTorch counts them.
  assert.match(md, /`se-resnet20` on 3×32×32 inputs: 274,490 parameters/);
  const links = [...md.matchAll(/!\[[^\]]*\]\((figures\/[^)]+\.svg)\)/g)].map((m) => m[1]);
  assert.deepEqual(
    links.sort(),
    [
      'accuracy.svg',
      'augmentation-samples.svg',
      'confusion-matrix.svg',
      'excitation-layer1-2-se.svg',
      'excitation-layer2-2-se.svg',
      'excitation-layer3-2-se.svg',
      'learning-rate.svg',
      'loss-per-step.svg',
      'loss.svg',
      'misclassified.svg',
      'per-class-accuracy.svg',
    ].map((f) => `figures/${f}`),
  );
  for (const link of links) assert.match(readFileSync(join(runDir, link), 'utf8'), /^<svg /, link);
  assert.doesNotMatch(md, /https?:\/\//, 'the Markdown links nothing outside the run');

  // Results first, then the analysis, then how the run went and how to make it again.
  const sections = [...md.matchAll(/^## (.*)$/gm)].map((m) => m[1]);
  assert.deepEqual(sections, [
    'Evaluation',
    'Training',
    'SE analysis: the role of excitation',
    'Model',
    'Pipeline',
    'Reproducibility',
  ]);
  assert.ok(md.indexOf('![Confusion matrix]') < md.indexOf('| stage | status |'), 'charts before the pipeline tables');

  // The run recorded every step (2 epochs × 8 batches) and its environment; the report draws and shows them.
  assert.equal(readFileSync(join(runDir, 'steps.jsonl'), 'utf8').trim().split('\n').length, 16);
  const stepChart = readFileSync(join(runDir, 'figures', 'loss-per-step.svg'), 'utf8');
  assert.match(stepChart, /Training loss per step/);
  const environment = JSON.parse(readFileSync(join(runDir, 'environment.json'), 'utf8'));
  assert.equal(environment.sessions.length, 1);
  const reproducibility = md.slice(md.indexOf('## Reproducibility'));
  const session = environment.sessions[0];
  assert.ok(
    reproducibility.includes(`- Command: \`${session.argv.join(' ')}\` in \`${session.cwd}\``),
    reproducibility,
  );
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  assert.match(reproducibility, new RegExp(`senet ${version}, libtorch 1\\.\\d+\\.\\d+, Node ${process.version}`));
  assert.match(reproducibility, /; CPU .+, \d+ cores, 2 libtorch threads/);
  const configJson = /```json\n([\s\S]*?)\n```/.exec(reproducibility)![1];
  assert.deepEqual(JSON.parse(configJson), JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')));

  // Pictures: the augmentation samples at their source resolution (the PNG repeats each pixel 4×), and
  // the misclassified grid: 32 tiles, balanced over the 10 classes, each caption a wrong prediction.
  const [samples] = await embeddedImages(readFileSync(join(runDir, 'figures', 'augmentation-samples.svg'), 'utf8'));
  const original = await sharp(join(runDir, 'augmentation-samples.png')).metadata();
  assert.deepEqual([samples.width * 4, samples.height * 4], [original.width, original.height]);
  const grid = readFileSync(join(runDir, 'figures', 'misclassified.svg'), 'utf8');
  const [tiles] = await embeddedImages(grid);
  assert.ok(tiles.width >= 8 * 32 && tiles.height >= 4 * 32, `${tiles.width}×${tiles.height}`);
  const captions = [...grid.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.equal(captions.length, 64);
  const truths = captions.filter((_, i) => i % 2 === 0).map((c) => c.replace('true: ', ''));
  const preds = captions.filter((_, i) => i % 2 === 1).map((c) => /^pred: (\S+) \d+%$/.exec(c)![1]);
  truths.forEach((t, i) => assert.notEqual(t, preds[i], `tile ${i} is misclassified`));
  const perClass = [...new Set(truths)].map((c) => truths.filter((t) => t === c).length);
  assert.ok(Math.max(...perClass) - Math.min(...perClass) <= 1 || perClass.length < 10, perClass.join(','));

  const analysis = JSON.parse(readFileSync(join(runDir, 'se-analysis.json'), 'utf8'));
  assert.equal(analysis.weights, join('checkpoints', 'best', 'model.safetensors'));
  assert.equal(analysis.images, 100);
  assert.deepEqual(analysis.imagesPerClass, new Array(10).fill(10));
  assert.deepEqual(
    analysis.units.map((u: { name: string; channels: number }) => [u.name, u.channels]),
    [
      ['layer1.2.se', 16],
      ['layer2.2.se', 32],
      ['layer3.2.se', 64],
    ],
  );
  for (const unit of analysis.units) {
    assert.equal(unit.perClass.length, 10);
    for (const means of unit.perClass) {
      assert.equal(means.length, unit.channels);
      assert.ok(
        means.every((g: number) => g > 0 && g < 1),
        'sigmoid gates lie in (0, 1)',
      );
    }
    assert.ok(unit.classSpecificity >= 0 && unit.classSpecificity < 0.5, String(unit.classSpecificity));
  }
  // Blocks start as the identity (timm's zero_init_last), so an SE unit's input starts at zero; 16 steps
  // can leave layer1's single hidden unit (16 channels / 16) dead, its gates all exactly 0.5. Later units
  // differ by class.
  assert.ok(analysis.units.at(-1).classSpecificity > 0, 'the last unit is class-specific');

  const html = readFileSync(join(runDir, 'report.html'), 'utf8');
  assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i, 'no external resources');
  assert.doesNotMatch(html, /<script/i, 'no script: the diagrams are drawn as SVG');
  // Mermaid's runtime made the page 3.7 MB; with senet's own SVG diagrams and the pictures it stays small.
  const bytes = Buffer.byteLength(html);
  assert.ok(bytes < 400_000, `report.html is ${bytes} bytes`);
  t.diagnostic(`report.html: ${bytes} bytes`);
  const inHtml = await embeddedImages(html);
  assert.equal(inHtml.length, 2, 'the samples and the misclassified grid, as data URIs');
  assert.equal(readdirSync(tb).filter((f) => f.startsWith('events.out.tfevents.')).length, 1);
});

test('senet report --no-se-analysis --out writes elsewhere and says why the SE analysis is missing', async () => {
  const out = join(work, 'elsewhere');
  const { code, stdout, stderr } = await senet(['report', runDir, '--no-se-analysis', '--out', out], {
    SENET_DATA: join(work, 'empty'),
  });
  assert.equal(code, 0, stderr);
  assert.match(stdout, /SE analysis not made: disabled with --no-se-analysis/);
  assert.ok(existsSync(join(out, 'report.html')));
  assert.ok(!existsSync(join(out, 'se-analysis.json')));
  assert.match(
    readFileSync(join(out, 'report.md'), 'utf8'),
    /## SE analysis\n\nNot made: disabled with --no-se-analysis\./,
  );
  // The curves, the confusion matrix, per-class accuracy and the samples; no grid without the test split.
  assert.deepEqual(readdirSync(join(out, 'figures')).sort(), [
    'accuracy.svg',
    'augmentation-samples.svg',
    'confusion-matrix.svg',
    'learning-rate.svg',
    'loss-per-step.svg',
    'loss.svg',
    'per-class-accuracy.svg',
  ]);
  assert.match(
    readFileSync(join(out, 'report.md'), 'utf8'),
    /No grid of misclassified test images: the test split was not read \(--no-se-analysis\)\./,
  );
});

test('senet report: bad input gives one clear line and exit code 1', async () => {
  const missing = await senet(['report', join(work, 'no-such-run')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /^senet: .*no-such-run is not a run directory: it has no config\.json/);
  const noData = await senet(['report', runDir, '--out', join(work, 'x')], { SENET_DATA: join(work, 'empty') });
  assert.equal(noData.code, 1);
  assert.match(
    noData.stderr,
    /^senet: cannot read the cifar10 test split for the SE analysis .*pass --data DIR with the extracted dataset, or --no-se-analysis\n$/,
  );
  const broken = join(work, 'broken-samples');
  cpSync(runDir, broken, { recursive: true });
  writeFileSync(join(broken, 'augmentation-samples.png'), 'not a png');
  const badSamples = await senet(['report', broken, '--no-se-analysis']);
  assert.equal(badSamples.code, 1);
  assert.match(
    badSamples.stderr,
    /\nsenet: cannot read the run's augmentation samples .*augmentation-samples\.png: .*; delete the file to make the report without them\n$/,
  );
  const badCount = await senet(['report', runDir, '--se-images', '0']);
  assert.notEqual(badCount.code, 0);
  assert.match(badCount.stderr, /--se-images expects an integer in \[1, 1000000\], got '0'/);
});

/** A synthetic failed run: its diagrams must mark the failure. */
async function failedRunPage(path: string): Promise<void> {
  const t0 = Date.parse('2025-03-01T12:00:00Z');
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  const pipeline = checkPipeline(
    {
      stages: STAGES.map((name, i) => ({
        name,
        title: name,
        startedAt: i < 6 ? at(i * 10) : null,
        endedAt: i < 5 ? at(i * 10 + 5) : i === 5 ? at(400) : null,
        status: i === 4 ? 'skipped' : i === 5 ? 'failed' : i === 6 ? 'pending' : 'done',
        summary: i === 5 ? { error: 'loss became NaN at epoch 3: lower the learning rate' } : {},
      })),
    },
    'synthetic',
  );
  writeFileSync(
    path,
    renderHtml({
      title: 'failed run',
      blocks: [
        { kind: 'diagram', mermaid: stateDiagram(pipeline), svg: stateDiagramSvg(pipeline), caption: 'states' },
        {
          kind: 'diagram',
          mermaid: ganttChart(pipeline)!,
          svg: await renderSvg(ganttSpec(pipeline, Date.now())!),
          caption: 'timeline',
        },
      ],
    }),
  );
}

test('report.html renders offline in headless Chromium with no script: both diagrams, every chart, every picture', async (t) => {
  const browser = await launchChromium();
  t.after(() => browser.close());
  const open = async (file: string) => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith('file:')) return route.continue();
      requests.push(route.request().url());
      return route.abort();
    });
    await page.goto(`file://${file}`);
    await page.waitForLoadState('load');
    assert.deepEqual(problems, [], 'no console errors (a CSP violation would be one)');
    assert.deepEqual(requests, [], 'nothing fetched');
    return page;
  };
  /** The stages of a state-diagram SVG on the page, as 'id class'. */
  const stateNodes = (page: Awaited<ReturnType<typeof open>>) =>
    page
      .locator('figure.diagram')
      .nth(0)
      .locator('g.stage')
      .evaluateAll((nodes) => nodes.map((n) => `${n.id} ${n.getAttribute('class')}`));
  /** The Gantt chart's marks (bars and milestone diamonds) with their aria labels. */
  const ganttMarks = (page: Awaited<ReturnType<typeof open>>) =>
    page
      .locator('figure.diagram')
      .nth(1)
      .locator('g.mark-rect.role-mark path, g.mark-symbol.role-mark path')
      .evaluateAll((paths) => paths.map((p) => `${p.getAttribute('aria-label')} fill=${p.getAttribute('fill')}`));

  const page = await open(join(runDir, 'report.html'));
  assert.equal(await page.locator('figure.diagram').count(), 2);
  assert.equal(await page.locator('figure.diagram svg').count(), 2, 'each diagram is an inline <svg>');
  const states = await stateNodes(page);
  assert.equal(states.length, STAGES.length);
  STAGES.forEach((name, i) => {
    const status = name === 'hyperparameter-tuning' ? 'skipped' : 'done';
    assert.ok(states[i].endsWith(`-${ID(name)} stage ${status}`), `${states[i]}: ${name} drawn as ${status}`);
  });
  const marks = await ganttMarks(page);
  assert.equal(marks.length, STAGES.length, 'a Gantt bar or milestone per stage');
  assert.equal(marks.filter((m) => m.includes('status: skipped')).length, 1);
  assert.equal(await page.locator('figure.chart svg').count(), 11, 'every chart and picture inline');
  // Every embedded picture decodes in the browser (and the CSP lets data: images through).
  const sizes =
    (await page.evaluate(`Promise.all([...document.querySelectorAll('figure.chart image')].map(async (el) => {
    const img = new Image();
    img.src = el.getAttribute('href');
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  }))`)) as [number, number][];
  assert.equal(sizes.length, 2);
  for (const [w, h] of sizes) assert.ok(w > 0 && h > 0);
  const shots = join(tmpdir(), 'senet-report-screenshot');
  mkdirSync(shots, { recursive: true });
  const screenshot = join(shots, 'report.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  t.diagnostic(`screenshot: ${screenshot}`);
  console.log(`report screenshot: ${screenshot}`);

  const failedPage = join(work, 'failed.html');
  await failedRunPage(failedPage);
  const failed = await open(failedPage);
  const failedStates = await stateNodes(failed);
  assert.equal(
    failedStates.filter((s) => s.endsWith(' stage failed')).length,
    1,
    'the failed stage carries the failed class',
  );
  assert.equal(await failed.locator('figure.diagram').nth(0).locator('g.note').count(), 1, 'with its error beside it');
  assert.match(
    (await failed.locator('g.note').textContent()) ?? '',
    /failed - loss became NaN at epoch ?3 lower the learning rate/, // the note's lines run together
  );
  const failedMarks = await ganttMarks(failed);
  assert.equal(failedMarks.length, STAGES.length);
  assert.equal(
    failedMarks.filter((m) => m.includes('status: failed') && m.includes('fill=#b91c1c')).length,
    1,
    'a red bar',
  );
});
