import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  renderSvg,
  lossSpec,
  accuracySpec,
  learningRateSpec,
  confusionSpec,
  perClassSpec,
  excitationSpec,
  stepLossSpec,
  spreadDomain,
  MAX_STEP_POINTS,
  type EpochMetrics,
  type RunEvaluation,
  type UnitExcitation,
} from '../../src/report/index.js';

const METRICS: EpochMetrics[] = [
  {
    epoch: 1,
    train_loss: 2.1,
    train_acc: 0.25,
    test_loss: 1.9,
    test_acc: 0.31,
    lr: 0.1,
    seconds: 10,
    images_per_s: 500,
  },
  {
    epoch: 2,
    train_loss: 1.6,
    train_acc: 0.42,
    test_loss: null,
    test_acc: null,
    lr: 0.01,
    seconds: 10,
    images_per_s: 510,
  },
  {
    epoch: 3,
    train_loss: 1.2,
    train_acc: 0.58,
    test_loss: 1.3,
    test_acc: 0.55,
    lr: 0.0001,
    seconds: 10,
    images_per_s: 505,
  },
];

/** The items (paths, lines or texts) Vega drew for marks of one type, and their aria labels. */
function marks(svg: string, type: string): { count: number; labels: string[] } {
  const groups = [...svg.matchAll(new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, 'gs'))].map(
    (m) => m[1],
  );
  const items = groups.flatMap((g) => [...g.matchAll(/<(path|line|text)\b[^>]*>/g)].map((m) => m[0]));
  return { count: items.length, labels: items.map((i) => /aria-label="([^"]*)"/.exec(i)?.[1] ?? '') };
}

test('loss chart: one line per series and a point per recorded epoch (epochs without a test value left out)', async () => {
  const svg = await renderSvg(lossSpec(METRICS));
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(marks(svg, 'line').count, 2, 'train and test lines');
  const points = marks(svg, 'symbol').labels;
  assert.deepEqual(points.filter((l) => l.endsWith('series: train')).length, 3);
  assert.deepEqual(points.filter((l) => l.endsWith('series: test')).length, 2);
  assert.ok(points.includes('epoch: 3; cross-entropy: 1.3; series: test'), points.join('\n'));
  assert.match(svg, /Loss per epoch/);
});

test('accuracy chart in percent; learning-rate chart on a log axis when it spans decades', async () => {
  const accuracy = marks(await renderSvg(accuracySpec(METRICS)), 'symbol').labels;
  assert.ok(accuracy.includes('epoch: 1; accuracy (%): 31; series: test'), accuracy.join('\n'));
  assert.ok(accuracy.includes('epoch: 3; accuracy (%): 58; series: train'));
  const lrSpec = learningRateSpec(METRICS) as { encoding: { y: { scale: { type?: string } } } };
  assert.equal(lrSpec.encoding.y.scale.type, 'log');
  const flat = learningRateSpec(METRICS.map((m) => ({ ...m, lr: 0.001 }))) as typeof lrSpec;
  assert.equal(flat.encoding.y.scale.type, undefined);
  const svg = await renderSvg(learningRateSpec(METRICS));
  assert.equal(marks(svg, 'line').count, 1);
  assert.match(svg, /log scale/);
});

const EVALUATION: RunEvaluation = {
  loss: 0.9,
  accuracy: 0.6,
  classes: ['cat', 'dog', 'ship'],
  confusion: [
    [5, 3, 2],
    [1, 8, 1],
    [4, 0, 6],
  ],
  perClass: [0.5, 0.8, 0.6],
};

test('confusion matrix: a cell per (true, predicted) pair with its count and its share of the row', async () => {
  const svg = await renderSvg(confusionSpec(EVALUATION));
  const cells = marks(svg, 'rect').labels;
  assert.equal(cells.length, 9);
  assert.ok(cells.includes('predicted class: dog; true class: cat; share of row: 0.3'), cells.join('\n'));
  assert.ok(cells.includes('predicted class: ship; true class: ship; share of row: 0.6'));
  const texts = [...svg.matchAll(/<g class="mark-text role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)][0][1];
  const counts = [...texts.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  assert.deepEqual(
    counts,
    EVALUATION.confusion.flat().sort((a, b) => a - b),
  );
});

test('per-class accuracy: a bar per class and the overall accuracy as a rule', async () => {
  const svg = await renderSvg(perClassSpec(EVALUATION));
  const bars = marks(svg, 'rect').labels;
  assert.deepEqual(bars, [
    'class: cat; accuracy (%): 50',
    'class: dog; accuracy (%): 80',
    'class: ship; accuracy (%): 60',
  ]);
  assert.deepEqual(marks(svg, 'rule').labels, ['overall: 60']);
});

test('excitation chart: one line per class that has images, over every channel', async () => {
  const unit: UnitExcitation = {
    name: 'layer3.2.se',
    channels: 4,
    classSpecificity: 0.125,
    perClass: [[0.1, 0.2, 0.3, 0.4], null, [0.5, 0.5, 0.5, 0.5]],
    overall: [0.3, 0.35, 0.4, 0.45],
  };
  const svg = await renderSvg(excitationSpec(unit, ['cat', 'dog', 'ship']));
  assert.equal(marks(svg, 'line').count, 2, 'cat and ship; dog has no images');
  assert.match(svg, /Excitation of layer3\.2\.se/);
  assert.match(svg, /class-specificity 0\.1250/);
  assert.match(svg, /channel index/);
});

/** The tick labels of a chart's y axis. */
function yTicks(svg: string): string[] {
  const start = svg.indexOf('aria-label="Y-axis');
  assert.ok(start >= 0, 'the chart has a y axis');
  const axis = svg.slice(start);
  const labels = axis.slice(axis.indexOf('role-axis-label'), axis.indexOf('role-axis-title'));
  return [...labels.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

test('an SE unit whose gates all sit at 0.5 still gets a y axis with several ticks around 0.5', async () => {
  const unit: UnitExcitation = {
    name: 'layer1.2.se',
    channels: 4,
    classSpecificity: 0,
    perClass: [
      [0.5, 0.5, 0.5, 0.5],
      [0.5, 0.5, 0.5, 0.50001],
    ],
    overall: [0.5, 0.5, 0.5, 0.500005],
  };
  const ticks = yTicks(await renderSvg(excitationSpec(unit, ['cat', 'dog'])));
  assert.ok(ticks.length >= 3, `ticks: ${ticks.join(', ')}`);
  assert.ok(
    ticks.every((t) => Math.abs(Number(t) - 0.5) <= 0.005),
    ticks.join(', '),
  );
  // A constant learning rate too.
  const flat = METRICS.map((m) => ({ ...m, lr: 0.001 }));
  assert.ok(yTicks(await renderSvg(learningRateSpec(flat))).length >= 3);
});

test('spreadDomain widens only a range too narrow for ticks', () => {
  assert.deepEqual(spreadDomain([0.5, 0.5]), { domain: [0.495, 0.505] });
  assert.deepEqual(spreadDomain([0, 0]), { domain: [-0.0005, 0.0005] });
  assert.deepEqual(spreadDomain([1.2, 2.1]), {});
  assert.deepEqual(spreadDomain([]), {});
  assert.deepEqual(spreadDomain([Number.NaN, 2, 2]), { domain: [1.98, 2.02] });
  assert.deepEqual(
    spreadDomain(new Array(300_000).fill(0.25)),
    { domain: [0.2475, 0.2525] },
    'no argument-count limit',
  );
});

test('loss per step: every step drawn when few; beyond MAX_STEP_POINTS, bucket means with a min-max band', async () => {
  const few = Array.from({ length: 16 }, (_, i) => ({
    epoch: 1 + Math.floor(i / 8),
    batch: (i % 8) + 1,
    step: i + 1,
    loss: 2 - i / 10,
  }));
  const svg = await renderSvg(stepLossSpec(few));
  assert.match(svg, /Training loss per step/);
  assert.equal(marks(svg, 'line').count, 1);
  assert.equal(marks(svg, 'area').count, 0, 'no band when every step is a point');
  const rows = (stepLossSpec(few) as { data: { values: { step: number; loss: number }[] } }).data.values;
  assert.deepEqual(
    rows.map((r) => r.step),
    few.map((s) => s.step),
  );

  const many = Array.from({ length: 5 * MAX_STEP_POINTS + 3 }, (_, i) => ({
    epoch: 1,
    batch: i + 1,
    step: i + 1,
    loss: i % 2 === 0 ? 1 : 3,
  }));
  const spec = stepLossSpec(many) as {
    title: string;
    data: { values: { step: number; loss: number; low: number; high: number }[] };
  };
  assert.ok(spec.data.values.length <= MAX_STEP_POINTS, String(spec.data.values.length));
  assert.match(spec.title, /mean and range of every 6 steps/);
  assert.deepEqual(spec.data.values[0], { step: 6, loss: 2, low: 1, high: 3 });
  assert.equal(spec.data.values.at(-1)!.step, many.length, 'the last group ends at the last step');
  const big = await renderSvg(stepLossSpec(many));
  assert.equal(marks(big, 'area').count, 1);
  assert.ok(big.length < 60_000, `${big.length} bytes`);
});
