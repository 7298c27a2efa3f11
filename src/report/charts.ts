// The report's charts as Vega-Lite specifications, rendered to SVG in Node by Vega's headless view (no
// browser, no canvas): training curves per epoch and per step, the confusion matrix as a heatmap,
// per-class accuracy bars, the SE excitation profiles of the paper's Fig. 6, and the pipeline's stage
// timeline. Each spec function is pure data → spec, so tests can check what is drawn; renderSvg
// (src/util/svg-charts.ts) does the drawing.
import { CHART_CONFIG, type ChartSpec, renderSvg, VEGA_LITE_SCHEMA } from '../util/svg-charts.js';
import type { EpochMetrics, Pipeline, RunEvaluation, StepLoss } from './run-files.js';
import type { UnitExcitation } from './se-analysis.js';
import { placeStages, stageLabel } from './gantt.js';
import { STATUS_COLOURS } from './state-diagram.js';
import { STAGE_STATUSES } from './run-files.js';

const WIDTH = 460;
const HEIGHT = 240;

export { renderSvg, type ChartSpec };

interface SeriesPoint {
  epoch: number;
  value: number;
  series: string;
}

/** train_x and test_x of every epoch as long-form rows, leaving out epochs without a value. */
function seriesRows(
  metrics: readonly EpochMetrics[],
  pick: (m: EpochMetrics) => [string, number | null | undefined][],
  scale = 1,
): SeriesPoint[] {
  return metrics.flatMap((m) =>
    pick(m)
      .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]))
      .map(([series, value]) => ({ epoch: m.epoch, value: value * scale, series })),
  );
}

/**
 * A y scale that keeps several ticks: values (nearly) all alike — an SE unit whose gates all sit at 0.5,
 * a constant loss — would make a domain too narrow for more than one tick, so the domain is widened to
 * at least 2% of the values' magnitude (at least 0.001) around them.
 */
export function spreadDomain(values: readonly number[]): { domain?: [number, number] } {
  // A loop, not Math.min(...values): an excitation chart of 100 classes × 2048 channels has too many
  // values to spread into arguments.
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo > hi) return {};
  const middle = (lo + hi) / 2;
  const least = Math.max(Math.abs(middle) * 0.02, 1e-3);
  return hi - lo >= least ? {} : { domain: [middle - least / 2, middle + least / 2] };
}

function lineChart(title: string, rows: SeriesPoint[], yTitle: string, options: { logY?: boolean } = {}): ChartSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: WIDTH,
    height: HEIGHT,
    config: CHART_CONFIG,
    data: { values: rows },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: {
        field: 'value',
        type: 'quantitative',
        title: yTitle,
        scale: options.logY ? { type: 'log' } : { zero: false, ...spreadDomain(rows.map((r) => r.value)) },
      },
      // A single series (the learning rate) needs no legend.
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: ['train', 'test'],
        legend: new Set(rows.map((r) => r.series)).size > 1 ? {} : null,
      },
    },
  };
}

/** Mean training loss and test loss per epoch. */
export function lossSpec(metrics: readonly EpochMetrics[]): ChartSpec {
  const rows = seriesRows(metrics, (m) => [
    ['train', m.train_loss],
    ['test', m.test_loss],
  ]);
  return lineChart('Loss per epoch', rows, 'cross-entropy');
}

/** Training and test accuracy per epoch, in percent. */
export function accuracySpec(metrics: readonly EpochMetrics[]): ChartSpec {
  const rows = seriesRows(
    metrics,
    (m) => [
      ['train', m.train_acc],
      ['test', m.test_acc],
    ],
    100,
  );
  return lineChart('Accuracy per epoch', rows, 'accuracy (%)');
}

/** The learning rate per epoch; a log axis when it spans more than two decades (warmup, step decay). */
export function learningRateSpec(metrics: readonly EpochMetrics[]): ChartSpec {
  const rows = seriesRows(metrics, (m) => [['lr', m.lr]]);
  const positive = rows.map((r) => r.value).filter((v) => v > 0);
  const logY =
    positive.length === rows.length && positive.length > 0 && Math.max(...positive) / Math.min(...positive) > 100;
  return lineChart('Learning rate per epoch', rows, 'learning rate', { logY });
}

/** confusion[true][predicted] as a heatmap with the count in every cell. */
export function confusionSpec(evaluation: RunEvaluation): ChartSpec {
  const { classes, confusion } = evaluation;
  const rows = confusion.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({
      truth: classes[t],
      predicted: classes[p],
      count,
      share: total === 0 ? 0 : count / total,
    }));
  });
  const side = Math.max(200, Math.min(560, classes.length * 36));
  const showCounts = classes.length <= 20; // beyond that the numbers no longer fit in the cells
  const order = [...classes];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: 'Confusion matrix (test set)',
    width: side,
    height: side,
    config: CHART_CONFIG,
    data: { values: rows },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: order, title: 'predicted class', axis: { labelAngle: -45 } },
      y: { field: 'truth', type: 'ordinal', sort: order, title: 'true class' },
    },
    layer: [
      {
        mark: { type: 'rect', tooltip: true },
        encoding: {
          // Colour by the share of the true class, so rare and common classes read on one scale.
          color: {
            field: 'share',
            type: 'quantitative',
            title: 'share of row',
            scale: { scheme: 'blues', domain: [0, 1] },
          },
        },
      },
      ...(showCounts
        ? [
            {
              mark: { type: 'text', fontSize: 10 },
              encoding: {
                text: { field: 'count', type: 'quantitative' },
                color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
              },
            },
          ]
        : []),
    ],
  };
}

/** Each class's test accuracy as a bar, with the overall accuracy as a rule across. */
export function perClassSpec(evaluation: RunEvaluation): ChartSpec {
  const rows = evaluation.classes.map((name, i) => ({ class: name, accuracy: (evaluation.perClass[i] ?? 0) * 100 }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: 'Accuracy per class (test set)',
    width: Math.max(WIDTH, evaluation.classes.length * 14),
    height: HEIGHT,
    config: CHART_CONFIG,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'class', type: 'nominal', sort: evaluation.classes, title: null, axis: { labelAngle: -45 } },
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } },
        },
      },
      {
        data: { values: [{ overall: evaluation.accuracy * 100 }] },
        mark: { type: 'rule', color: '#b91c1c', strokeDash: [4, 3] },
        encoding: { y: { field: 'overall', type: 'quantitative' } },
      },
    ],
  };
}

/**
 * One SE unit's mean gate per channel, one line per class (the paper's Fig. 6): lines lying on top of
 * each other mean the unit treats every class alike; lines apart mean it is class-specific.
 */
export function excitationSpec(unit: UnitExcitation, classes: readonly string[]): ChartSpec {
  const rows = unit.perClass.flatMap((means, k) =>
    means === null ? [] : means.map((value, channel) => ({ channel, value, class: classes[k] })),
  );
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: `Excitation of ${unit.name}`,
      subtitle: `class-specificity ${unit.classSpecificity.toFixed(4)} (mean over channels of the std across classes)`,
    },
    width: Math.max(WIDTH, Math.min(900, unit.channels * 6)),
    height: HEIGHT,
    config: CHART_CONFIG,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1.2, tooltip: true },
    encoding: {
      x: {
        field: 'channel',
        type: 'quantitative',
        title: 'channel index',
        scale: { domain: [0, unit.channels - 1], nice: false },
      },
      y: {
        field: 'value',
        type: 'quantitative',
        title: 'mean activation',
        scale: { zero: false, ...spreadDomain(rows.map((r) => r.value)) },
      },
      // Beyond 20 classes a legend no longer identifies lines (colours repeat): the profiles' spread still shows.
      color: {
        field: 'class',
        type: 'nominal',
        sort: [...classes],
        legend: classes.length <= 20 ? {} : null,
        scale: { scheme: classes.length <= 10 ? 'category10' : 'tableau20' },
      },
    },
  };
}

/** At most this many points on the per-step chart: longer runs are averaged over buckets of steps. */
export const MAX_STEP_POINTS = 500;

/**
 * The training loss of every step (steps.jsonl), with the epochs' mean test loss as points when known.
 * Beyond MAX_STEP_POINTS steps, consecutive steps are grouped: the line is each group's mean and a band
 * its range, so the chart stays a few tens of kB whatever the run's length.
 */
export function stepLossSpec(steps: readonly StepLoss[]): ChartSpec {
  const size = Math.max(1, Math.ceil(steps.length / MAX_STEP_POINTS));
  const rows: { step: number; loss: number; low: number; high: number }[] = [];
  for (let i = 0; i < steps.length; i += size) {
    const group = steps.slice(i, i + size).map((s) => s.loss);
    rows.push({
      step: steps[Math.min(i + size, steps.length) - 1].step,
      loss: group.reduce((a, b) => a + b, 0) / group.length,
      low: Math.min(...group),
      high: Math.max(...group),
    });
  }
  const x = { field: 'step', type: 'quantitative', title: 'step', axis: { tickMinStep: 1, format: 'd' } };
  const title =
    size === 1 ? 'Training loss per step' : `Training loss per step (mean and range of every ${size} steps)`;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: WIDTH,
    height: HEIGHT,
    config: CHART_CONFIG,
    data: { values: rows },
    layer: [
      ...(size > 1
        ? [
            {
              mark: { type: 'area', opacity: 0.25, color: '#4c78a8' },
              encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
            },
          ]
        : []),
      {
        mark: { type: 'line', strokeWidth: 1.2, color: '#4c78a8', tooltip: true },
        encoding: {
          x,
          y: {
            field: 'loss',
            type: 'quantitative',
            title: 'cross-entropy',
            scale: { zero: false, ...spreadDomain(rows.flatMap((r) => [r.low, r.high])) },
          },
        },
      },
    ],
  } as ChartSpec;
}

/**
 * The stage timeline (the SVG twin of gantt.ts's Mermaid chart): a bar per stage from its real start to
 * its end, a diamond for stages with no time of their own, coloured by status; null before any stage ran.
 */
export function ganttSpec(pipeline: Pipeline, now: number): ChartSpec | null {
  const placed = placeStages(pipeline, now);
  if (!placed) return null;
  const rows = placed.map((p) => ({
    stage: stageLabel(p),
    start: p.start,
    end: p.start + p.duration,
    status: p.stage.status,
    milestone: p.duration === 0,
  }));
  const order = rows.map((r) => r.stage);
  const statuses = STAGE_STATUSES.filter((s) => rows.some((r) => r.status === s));
  const y = { field: 'stage', type: 'nominal', sort: order, title: null, axis: { labelLimit: 320 } };
  const x = {
    field: 'start',
    type: 'temporal',
    title: 'time (UTC)',
    scale: { type: 'utc' },
    axis: { format: '%H:%M:%S', labelAngle: 0 },
  };
  const color = {
    field: 'status',
    type: 'nominal',
    title: 'status',
    scale: { domain: statuses, range: statuses.map((s) => STATUS_COLOURS[s].stroke) },
  };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: 'Pipeline stages (UTC)',
    width: WIDTH + 120,
    height: rows.length * 24,
    config: CHART_CONFIG,
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: '!datum.milestone' }],
        mark: { type: 'bar', height: 14, minBandSize: 2, tooltip: true },
        encoding: { x, x2: { field: 'end' }, y, color },
      },
      {
        transform: [{ filter: 'datum.milestone' }],
        mark: { type: 'point', shape: 'diamond', size: 110, filled: true, tooltip: true },
        encoding: { x, y, color },
      },
    ],
  } as ChartSpec;
}
