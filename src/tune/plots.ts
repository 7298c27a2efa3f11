// The study's charts as Vega-Lite specifications, rendered to SVG in Node by Vega's headless view:
//   history       the objective value of every trial by trial number, with the best-so-far line
//   intermediate  the value after each epoch of every trial; pruned trials end in a cross
//   params        the value against each parameter (one panel per parameter; log axes for log ranges)
// Each spec function is pure data → spec, so tests can check what is drawn; renderSvg (svg-charts.ts) draws.
import { CHART_CONFIG, type ChartSpec, renderSvg, VEGA_LITE_SCHEMA } from '../util/svg-charts.js';
import type { SearchSpace } from './space.js';
import { isBetter, lastStep, type Direction, type TrialRecord } from './trial.js';

const STATE_COLORS: Record<string, string> = {
  complete: '#1f77b4',
  pruned: '#ff7f0e',
  running: '#2ca02c',
  waiting: '#9467bd',
  failed: '#d62728',
};

/** One colour per state, the same in every chart; the legend lists only the states drawn. */
function stateScale(trials: readonly TrialRecord[]) {
  const present = Object.keys(STATE_COLORS).filter((s) => trials.some((t) => t.state === s));
  return { domain: present, range: present.map((s) => STATE_COLORS[s]) };
}

/** Whole-number ticks from `first` to `last`, at most about 15 of them (trials and epochs have no halves). */
function integerTicks(first: number, last: number): number[] {
  const stride = Math.max(1, Math.ceil((last - first + 1) / 15));
  const ticks: number[] = [];
  for (let v = first; v <= last; v += stride) ticks.push(v);
  return ticks;
}

/** The trials that have a value to draw. */
const valued = (trials: readonly TrialRecord[]) => trials.filter((t) => t.value !== null && Number.isFinite(t.value));

/** The value of each trial by number, and the best value of the complete trials up to each. */
export function historySpec(
  trials: readonly TrialRecord[],
  direction: Direction,
  valueTitle = 'objective value',
): ChartSpec {
  const points = valued(trials).map((t) => ({ trial: t.number, value: t.value, state: t.state }));
  const best: { trial: number; best: number }[] = [];
  let bestSoFar: number | null = null;
  for (const t of [...trials].sort((a, b) => a.number - b.number)) {
    if (t.state === 'complete' && t.value !== null && (bestSoFar === null || isBetter(t.value, bestSoFar, direction)))
      bestSoFar = t.value;
    if (bestSoFar !== null) best.push({ trial: t.number, best: bestSoFar });
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${valueTitle} per trial (line: best complete trial so far)`,
    width: 460,
    height: 240,
    config: CHART_CONFIG,
    layer: [
      {
        data: { values: best },
        mark: { type: 'line', interpolate: 'step-after', color: '#444' },
        encoding: {
          x: {
            field: 'trial',
            type: 'quantitative',
            title: 'trial',
            axis: { values: integerTicks(0, Math.max(0, ...trials.map((t) => t.number))), format: 'd' },
          },
          y: { field: 'best', type: 'quantitative', title: valueTitle, scale: { zero: false } },
        },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 60, tooltip: true },
        encoding: {
          x: { field: 'trial', type: 'quantitative' },
          y: { field: 'value', type: 'quantitative' },
          color: { field: 'state', type: 'nominal', title: 'state', scale: stateScale(trials) },
        },
      },
    ],
  };
}

/** The value after each epoch of every trial, one line each; pruned trials end in a cross. */
export function intermediateSpec(trials: readonly TrialRecord[], valueTitle = 'objective value'): ChartSpec {
  const rows = trials.flatMap((t) =>
    [...t.intermediate]
      .filter(([, v]) => Number.isFinite(v))
      .map(([step, value]) => ({ trial: `#${t.number}`, step, value, state: t.state })),
  );
  const stops = trials
    .filter((t) => t.state === 'pruned' && t.intermediate.size > 0)
    .map((t) => ({ trial: `#${t.number}`, step: lastStep(t), value: t.intermediate.get(lastStep(t)), state: t.state }))
    .filter((r) => Number.isFinite(r.value));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${valueTitle} after each epoch (×: pruned there)`,
    width: 460,
    height: 240,
    config: CHART_CONFIG,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: true, tooltip: true, opacity: 0.8 },
        encoding: {
          x: {
            field: 'step',
            type: 'quantitative',
            title: 'epoch',
            axis: { values: integerTicks(1, Math.max(1, ...trials.map(lastStep))), format: 'd' },
          },
          y: { field: 'value', type: 'quantitative', title: valueTitle, scale: { zero: false } },
          detail: { field: 'trial', type: 'nominal' },
          color: { field: 'state', type: 'nominal', title: 'state', scale: stateScale(trials) },
        },
      },
      {
        data: { values: stops },
        mark: { type: 'point', shape: 'cross', size: 140, filled: true, color: '#d62728' },
        encoding: {
          x: { field: 'step', type: 'quantitative' },
          y: { field: 'value', type: 'quantitative' },
        },
      },
    ],
  };
}

/** One scatter panel per parameter: the trial's value against the parameter's value. */
export function paramsSpec(
  trials: readonly TrialRecord[],
  space: SearchSpace,
  valueTitle = 'objective value',
): ChartSpec {
  // Parameter names may hold dots, which Vega-Lite reads as nesting: the rows use p0, p1, ... instead.
  const rows = valued(trials).map((t) => ({
    trial: t.number,
    value: t.value,
    state: t.state,
    ...Object.fromEntries(
      space.map((p, i) => {
        const v = t.params[p.name];
        return [`p${i}`, p.type === 'categorical' ? JSON.stringify(v) : v];
      }),
    ),
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${valueTitle} against each parameter`,
    config: CHART_CONFIG,
    data: { values: rows },
    columns: Math.min(3, space.length),
    concat: space.map((p, i) => ({
      width: 200,
      height: 160,
      mark: { type: 'point', filled: true, size: 50, tooltip: true },
      encoding: {
        x:
          p.type === 'categorical'
            ? {
                field: `p${i}`,
                type: 'nominal',
                title: p.name,
                sort: p.choices.map((c) => JSON.stringify(c)),
                axis: { labelAngle: 0 },
              }
            : { field: `p${i}`, type: 'quantitative', title: p.name, scale: p.log ? { type: 'log' } : { zero: false } },
        y: { field: 'value', type: 'quantitative', title: valueTitle, scale: { zero: false } },
        color: { field: 'state', type: 'nominal', title: 'state', scale: stateScale(trials) },
      },
    })),
  };
}

export interface StudyPlots {
  history: string;
  intermediate: string;
  params: string;
}

/** The three charts of a study as SVG text. */
export async function renderStudyPlots(
  trials: readonly TrialRecord[],
  space: SearchSpace,
  direction: Direction,
  valueTitle?: string,
): Promise<StudyPlots> {
  return {
    history: await renderSvg(historySpec(trials, direction, valueTitle)),
    intermediate: await renderSvg(intermediateSpec(trials, valueTitle)),
    params: await renderSvg(paramsSpec(trials, space, valueTitle)),
  };
}
