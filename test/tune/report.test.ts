import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, readConfigFile, resolveConfig, fileSource, type TrainConfig } from '../../src/train/config.js';
import { parseSpace } from '../../src/tune/space.js';
import { historySpec, intermediateSpec, paramsSpec } from '../../src/tune/plots.js';
import { renderSvg } from '../../src/util/svg-charts.js';
import { bestTrial, formatCounts, formatTrialTable, trialRows, writeStudyOutputs } from '../../src/tune/report.js';
import { trialRecord } from './support.js';

const space = parseSpace({
  lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  'attention.reduction': { choices: [4, 8, 16] },
});
const trials = [
  trialRecord(0, {
    params: { lr: 0.01, 'attention.reduction': 8 },
    value: 0.6,
    intermediate: [
      [1, 0.4],
      [2, 0.5],
      [3, 0.6],
    ],
  }),
  trialRecord(1, {
    state: 'pruned',
    params: { lr: 0.09, 'attention.reduction': 4 },
    value: 0.2,
    intermediate: [[1, 0.2]],
  }),
  trialRecord(2, {
    params: { lr: 0.003, 'attention.reduction': 16 },
    value: 0.7,
    intermediate: [
      [1, 0.45],
      [2, 0.6],
      [3, 0.7],
    ],
  }),
  trialRecord(3, { state: 'failed', params: { lr: 0.05, 'attention.reduction': 4 } }),
  trialRecord(4, {
    state: 'pruned',
    params: { lr: 0.0002, 'attention.reduction': 8 },
    value: 0.3,
    intermediate: [
      [1, 0.35],
      [2, 0.3],
    ],
  }),
  trialRecord(5, { state: 'running', params: { lr: 0.001, 'attention.reduction': 4 }, intermediate: [[1, 0.5]] }),
  trialRecord(6, {
    params: { lr: 0.02, 'attention.reduction': 16 },
    value: 0.5,
    intermediate: [
      [1, 0.3],
      [2, 0.4],
      [3, 0.5],
    ],
  }),
];
trials[1].note = 'pruned: 0.2000 at rung 0 (epoch 1), bar 0.4000 = best 1 of 2 trials there';
trials[3].note = 'failed: training diverged';

test('trials rank complete by value, then pruned by how far they got, then the rest', () => {
  const rows = trialRows(trials, 'maximize');
  assert.deepEqual(
    rows.map((r) => [r.rank, r.number]),
    [
      [1, 2],
      [2, 0],
      [3, 6],
      [4, 4],
      [5, 1],
      [null, 5],
      [null, 3],
    ],
  );
  assert.equal(bestTrial(trials, 'maximize')!.number, 2);
  assert.equal(bestTrial(trials, 'minimize')!.number, 6);
  assert.equal(
    bestTrial(
      trials.filter((t) => t.state !== 'complete'),
      'maximize',
    ),
    null,
  );
  const table = formatTrialTable(rows, space, 'accuracy').split('\n');
  assert.match(table[0], /^rank +trial +state +accuracy +epochs +time +lr +attention\.reduction$/);
  assert.match(table[2], /^ +1 +2 +complete +0\.7000 +3 +0\.0s +0\.003 +16$/);
  assert.ok(table.includes('  #1: pruned: 0.2000 at rung 0 (epoch 1), bar 0.4000 = best 1 of 2 trials there'));
  assert.ok(table.includes('  #3: failed: training diverged'));
  assert.equal(formatCounts(trials), '7 trials: 3 complete, 2 pruned, 1 failed, 1 running');
});

test('the history chart draws every valued trial and a best-so-far line over complete ones', () => {
  const spec = historySpec(trials, 'maximize') as unknown as {
    layer: { data: { values: Record<string, unknown>[] } }[];
  };
  const [line, points] = spec.layer;
  assert.deepEqual(
    line.data.values.map((r) => [r.trial, r.best]),
    [
      [0, 0.6],
      [1, 0.6],
      [2, 0.7],
      [3, 0.7],
      [4, 0.7],
      [5, 0.7],
      [6, 0.7],
    ],
  );
  assert.deepEqual(
    points.data.values.map((r) => r.trial),
    [0, 1, 2, 4, 6],
  );
  const minimizing = historySpec(trials, 'minimize') as unknown as typeof spec;
  assert.deepEqual(
    minimizing.layer[0].data.values.map((r) => r.best),
    [0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5],
  );
});

test('the intermediate chart draws each trial per epoch and marks where pruned trials stopped', () => {
  const spec = intermediateSpec(trials) as unknown as { layer: { data: { values: Record<string, unknown>[] } }[] };
  const [lines, stops] = spec.layer;
  assert.equal(lines.data.values.length, 3 + 1 + 3 + 2 + 1 + 3);
  assert.deepEqual(
    stops.data.values.map((r) => [r.trial, r.step, r.value]),
    [
      ['#1', 1, 0.2],
      ['#4', 2, 0.3],
    ],
  );
});

test('the parameter chart has one panel per parameter, log axes for log ranges', () => {
  const spec = paramsSpec(trials, space) as unknown as {
    concat: { encoding: { x: Record<string, unknown> } }[];
    data: { values: Record<string, unknown>[] };
  };
  assert.equal(spec.concat.length, 2);
  assert.deepEqual(spec.concat[0].encoding.x.scale, { type: 'log' });
  assert.equal(spec.concat[1].encoding.x.type, 'nominal');
  assert.equal(spec.concat[1].encoding.x.title, 'attention.reduction');
  assert.deepEqual(
    spec.data.values.map((r) => [r.p0, r.p1]),
    [
      [0.01, '8'],
      [0.09, '4'],
      [0.003, '16'],
      [0.0002, '8'],
      [0.02, '16'],
    ],
  );
});

test('the charts render to SVG documents, and the study outputs are written', async (t) => {
  for (const spec of [historySpec(trials, 'maximize'), intermediateSpec(trials), paramsSpec(trials, space)]) {
    const svg = await renderSvg(spec);
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
  }
  const svg = await renderSvg(paramsSpec(trials, space, 'test accuracy'));
  assert.ok(svg.includes('attention.reduction') && svg.includes('test accuracy'), 'axis titles are drawn');

  const dir = mkdtempSync(join(tmpdir(), 'senet-study-out-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const base = { ...structuredClone(DEFAULT_CONFIG), attention: { type: 'se' }, epochs: 3 } as TrainConfig;
  const outputs = await writeStudyOutputs(dir, { trials, space, direction: 'maximize', base });
  assert.deepEqual(
    outputs.plots.map((p) => p.slice(dir.length)),
    ['/plots/history.svg', '/plots/intermediate.svg', '/plots/params.svg'],
  );
  for (const p of outputs.plots) assert.match(readFileSync(p, 'utf8'), /^<svg/);
  // best-config.json: the best trial's parameters on the base, a config senet train --config reads.
  const written = readConfigFile(outputs.bestConfig!);
  const config = resolveConfig({ values: written, source: fileSource(outputs.bestConfig!) });
  assert.equal(config.lr, 0.003);
  assert.deepEqual(config.attention, { type: 'se', reduction: 16 });
  assert.equal(config.epochs, 3);
  assert.equal(config.out, null);
  // No complete trial, no best config.
  const none = await writeStudyOutputs(join(dir, 'none'), { trials: [trials[1]], space, direction: 'maximize', base });
  assert.equal(none.bestConfig, null);
  assert.equal(existsSync(join(dir, 'none', 'best-config.json')), false);
});
