// The report's charts as Vega-Lite specifications, rendered to SVG in Node by Vega's headless view (no
// browser, no canvas): training curves per epoch, the confusion matrix as a heatmap, per-class accuracy
// bars, and the SE excitation profiles of the paper's Fig. 6. Each spec function is pure data → spec,
// so tests can check what is drawn; renderSvg (src/util/svg-charts.ts) does the drawing.
import { CHART_CONFIG, type ChartSpec, renderSvg, VEGA_LITE_SCHEMA } from '../util/svg-charts.js';
import type { EpochMetrics, RunEvaluation } from './run-files.js';
import type { UnitExcitation } from './se-analysis.js';

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
        scale: options.logY ? { type: 'log' } : { zero: false },
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
      y: { field: 'value', type: 'quantitative', title: 'mean activation', scale: { zero: false } },
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
