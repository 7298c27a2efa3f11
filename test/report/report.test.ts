// End to end: a real tiny training run (SE-ResNet-20, 2 epochs on 400 images of the CIFAR-10 sample),
// `senet report` on it in a child process, and the HTML opened in headless Chromium with the network
// blocked: every diagram and chart must render from the file alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from '../helpers.js';
import { tinyCifarCache, tinyRun } from './support.js';
import { checkPipeline, stateDiagram, ganttChart } from '../../src/report/index.js';
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

test('senet report writes report.md with its figures, report.html, se-analysis.json and a TensorBoard event file', async () => {
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
    /wrote .*report\.md\nwrote .*report\.html\nwrote 8 figures\nwrote .*se-analysis\.json\nwrote .*events\.out\.tfevents\./,
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
      'confusion-matrix.svg',
      'excitation-layer1-2-se.svg',
      'excitation-layer2-2-se.svg',
      'excitation-layer3-2-se.svg',
      'learning-rate.svg',
      'loss.svg',
      'per-class-accuracy.svg',
    ].map((f) => `figures/${f}`),
  );
  for (const link of links) assert.match(readFileSync(join(runDir, link), 'utf8'), /^<svg /, link);
  assert.doesNotMatch(md, /https?:\/\//, 'the Markdown links nothing outside the run');

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
  assert.ok(html.includes('mermaid.initialize'), 'Mermaid is inlined');
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
  assert.equal(readdirSync(join(out, 'figures')).length, 5);
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
  const badCount = await senet(['report', runDir, '--se-images', '0']);
  assert.notEqual(badCount.code, 0);
  assert.match(badCount.stderr, /--se-images expects an integer in \[1, 1000000\], got '0'/);
});

/** A synthetic failed run: its diagrams must parse and mark the failure (states Mermaid has to draw). */
function failedRunPage(path: string): void {
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
        { kind: 'mermaid', code: stateDiagram(pipeline), caption: 'states' },
        { kind: 'mermaid', code: ganttChart(pipeline)!, caption: 'timeline' },
      ],
    }),
  );
}

test('report.html renders offline in headless Chromium: both Mermaid diagrams, a Gantt bar per stage, every chart', async (t) => {
  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
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
    await page.waitForFunction('document.body.dataset.mermaid !== undefined', null, { timeout: 30_000 });
    assert.equal(await page.evaluate('document.body.dataset.mermaid'), 'done', problems.join('\n'));
    assert.deepEqual(problems, [], 'no console errors');
    assert.deepEqual(requests, [], 'nothing fetched');
    return page;
  };

  const page = await open(join(runDir, 'report.html'));
  const diagrams = page.locator('figure.diagram');
  assert.equal(await diagrams.count(), 2);
  assert.equal(await page.locator('figure.diagram svg').count(), 2, 'each Mermaid diagram became an <svg>');
  const states = await diagrams
    .nth(0)
    .locator('g.node.statediagram-state')
    .evaluateAll((nodes) => nodes.map((n) => `${n.id} ${n.getAttribute('class')}`));
  for (const name of STAGES) {
    const status = name === 'hyperparameter-tuning' ? 'skipped' : 'done';
    assert.equal(
      states.filter((s) => s.includes(`-${ID(name)}-`) && s.includes(` ${status} `)).length,
      1,
      `${name} drawn once as ${status}`,
    );
  }
  const bars = await diagrams
    .nth(1)
    .locator('rect.task')
    .evaluateAll((rects) => rects.map((r) => r.id));
  assert.equal(bars.length, STAGES.length, 'a Gantt bar per stage');
  STAGES.forEach((name, i) => assert.ok(bars[i].endsWith(ID(name)), `${bars[i]} is ${name}`));
  assert.equal(await page.locator('figure.chart svg').count(), 8, 'every chart inline');
  const shots = join(tmpdir(), 'senet-report-screenshot');
  mkdirSync(shots, { recursive: true });
  const screenshot = join(shots, 'report.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  t.diagnostic(`screenshot: ${screenshot}`);
  console.log(`report screenshot: ${screenshot}`);

  const failedPage = join(work, 'failed.html');
  failedRunPage(failedPage);
  const failed = await open(failedPage);
  assert.equal(await failed.locator('g.node.failed').count(), 1, 'the failed stage carries the failed class');
  assert.equal(await failed.locator('g.node.statediagram-note').count(), 1, 'with its error beside it');
  assert.equal(
    await failed.locator('rect.task.crit0, rect.task.crit1, rect.task.crit2, rect.task.crit3').count(),
    1,
    'a red Gantt bar',
  );
  assert.equal(await failed.locator('rect.task').count(), STAGES.length);
});
