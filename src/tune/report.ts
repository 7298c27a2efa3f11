// What a study found, for people and for `senet train`: the trials ranked in a table, the best trial's
// config as best-config.json, and the charts as SVG files.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from '../train/config.js';
import * as torch from '../torch/index.js';
import { writeJsonAtomic } from '../train/run-dir.js';
import { applyParams, type SearchSpace } from './space.js';
import { lastStep, rankTrials, type Direction, type ParamValue, type TrialRecord, type TrialState } from './trial.js';
import { renderStudyPlots } from './plots.js';
import { studyPaths } from './study-dir.js';

export interface TrialRow {
  /** 1 for the best; null for trials without a value (running, waiting, failed). */
  rank: number | null;
  number: number;
  state: TrialState;
  value: number | null;
  /** Epochs the trial reported. */
  epochs: number;
  /** Wall time from its first start to its end (null while unfinished). */
  seconds: number | null;
  params: Record<string, ParamValue>;
  note: string | null;
}

const UNRANKED_ORDER: readonly TrialState[] = ['running', 'waiting', 'failed'];

/** Every trial: the ranked ones best first (complete, then pruned), then running, waiting and failed. */
export function trialRows(trials: readonly TrialRecord[], direction: Direction): TrialRow[] {
  const row = (t: TrialRecord, rank: number | null): TrialRow => ({
    rank,
    number: t.number,
    state: t.state,
    value: t.value,
    epochs: lastStep(t),
    seconds: t.startedAt !== null && t.endedAt !== null ? (t.endedAt - t.startedAt) / 1000 : null,
    params: t.params,
    note: t.note,
  });
  const ranked = rankTrials(trials, direction);
  const rankedNumbers = new Set(ranked.map((t) => t.number));
  const rest = trials
    .filter((t) => !rankedNumbers.has(t.number))
    .sort((a, b) => UNRANKED_ORDER.indexOf(a.state) - UNRANKED_ORDER.indexOf(b.state) || a.number - b.number);
  return [...ranked.map((t, i) => row(t, i + 1)), ...rest.map((t) => row(t, null))];
}

/** The best complete trial, or null when none has completed. */
export function bestTrial(trials: readonly TrialRecord[], direction: Direction): TrialRecord | null {
  return rankTrials(trials, direction).find((t) => t.state === 'complete') ?? null;
}

/** The config `senet train --config` needs to train the trial again: the base with its parameters. */
export function bestTrainConfig(base: TrainConfig, trial: TrialRecord): TrainConfig {
  return { ...applyParams(base, trial.params), out: null };
}

function formatParam(value: ParamValue): string {
  if (typeof value === 'number' && !Number.isInteger(value)) return Number(value.toPrecision(4)).toString();
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function formatSeconds(s: number | null): string {
  if (s === null) return '';
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** The rows as a text table, one column per parameter; notes of pruned and failed trials below it. */
export function formatTrialTable(rows: readonly TrialRow[], space: SearchSpace, valueTitle = 'value'): string {
  const header = ['rank', 'trial', 'state', valueTitle, 'epochs', 'time', ...space.map((p) => p.name)];
  const cells = rows.map((r) => [
    r.rank === null ? '-' : String(r.rank),
    String(r.number),
    r.state,
    r.value === null ? '' : r.value.toFixed(4),
    String(r.epochs),
    formatSeconds(r.seconds),
    ...space.map((p) => (p.name in r.params ? formatParam(r.params[p.name]) : '')),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const numeric = new Set([0, 1, 3, 4, 5]);
  const line = (c: string[]) =>
    c
      .map((text, i) => (numeric.has(i) ? text.padStart(widths[i]) : text.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const notes = rows.filter((r) => r.note && r.state !== 'complete').map((r) => `  #${r.number}: ${r.note}`);
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    ...(notes.length ? ['', 'notes:', ...notes] : []),
  ].join('\n');
}

/** Counts of trials by state, as "8 trials: 5 complete, 3 pruned". */
export function formatCounts(trials: readonly TrialRecord[]): string {
  const counts = new Map<TrialState, number>();
  for (const t of trials) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const parts = (['complete', 'pruned', 'failed', 'running', 'waiting'] as const)
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s}`);
  return `${trials.length} trial${trials.length === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

export interface StudyOutputs {
  /** best-config.json, or null when no trial has completed. */
  bestConfig: string | null;
  plots: string[];
}

/** Writes best-config.json (when a trial has completed) and the charts into the study directory. */
export async function writeStudyOutputs(
  dir: string,
  input: {
    trials: readonly TrialRecord[];
    space: SearchSpace;
    direction: Direction;
    base: TrainConfig | null;
    valueTitle?: string;
  },
): Promise<StudyOutputs> {
  const paths = studyPaths(dir);
  const best = bestTrial(input.trials, input.direction);
  let bestConfig: string | null = null;
  if (best && input.base) {
    writeJsonAtomic(paths.bestConfig, bestTrainConfig(input.base, best));
    bestConfig = paths.bestConfig;
  }
  mkdirSync(paths.plots, { recursive: true });
  const svgs = await renderStudyPlots(input.trials, input.space, input.direction, input.valueTitle);
  const plots = Object.entries(svgs).map(([name, svg]) => {
    const path = join(paths.plots, `${name}.svg`);
    // Atomically: workers finishing together may write the same files.
    torch.io.writeFileAtomic(path, new TextEncoder().encode(svg));
    return path;
  });
  return { bestConfig, plots };
}
