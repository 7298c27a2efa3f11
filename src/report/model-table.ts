// The model summary as report tables: totals per top-level module (stem, stages, classifier), the share
// the SE units take, and every layer (from summarizeModel: parameters and multiply-accumulates counted
// on the real graph, for one image).
import type { ModelSummary } from '../models/index.js';
import type { Table } from './document.js';
import { formatCompact, formatCount } from './format.js';

export interface ModelTotals {
  /** Per top-level module, in the order they ran. */
  groups: { name: string; params: number; macs: number }[];
  params: number;
  macs: number;
  /** What the layers under the given SE unit names add up to. */
  se: { params: number; macs: number };
}

/** Sums the summary's layers by top-level module, and those inside SE units (by their dotted names). */
export function modelTotals(summary: ModelSummary, seUnitNames: readonly string[]): ModelTotals {
  const groups = new Map<string, { name: string; params: number; macs: number }>();
  const se = { params: 0, macs: 0 };
  for (const layer of summary.layers) {
    const top = layer.name.split('.')[0];
    const group = groups.get(top) ?? { name: top, params: 0, macs: 0 };
    group.params += layer.params;
    group.macs += layer.macs;
    groups.set(top, group);
    if (seUnitNames.some((unit) => layer.name === unit || layer.name.startsWith(`${unit}.`))) {
      se.params += layer.params;
      se.macs += layer.macs;
    }
  }
  return { groups: [...groups.values()], params: summary.params, macs: summary.macs, se };
}

const share = (part: number, whole: number) => (whole === 0 ? '–' : `${((part / whole) * 100).toFixed(1)}%`);

export function totalsTable(totals: ModelTotals): Table {
  const rows = totals.groups.map((g) => [
    `\`${g.name}\``,
    formatCount(g.params),
    share(g.params, totals.params),
    formatCompact(g.macs),
    share(g.macs, totals.macs),
  ]);
  rows.push(['total', formatCount(totals.params), '100%', formatCompact(totals.macs), '100%']);
  if (totals.se.params > 0) {
    rows.push([
      'of which SE units',
      formatCount(totals.se.params),
      share(totals.se.params, totals.params),
      formatCompact(totals.se.macs),
      share(totals.se.macs, totals.macs),
    ]);
  }
  return {
    kind: 'table',
    header: ['module', 'parameters', 'share', 'MACs', 'share'],
    rows,
    numeric: [false, true, true, true, true],
  };
}

export function layersTable(summary: ModelSummary): Table {
  return {
    kind: 'table',
    header: ['layer', 'type', 'output', 'parameters', 'MACs'],
    rows: summary.layers.map((l) => [
      `\`${l.name}\``,
      l.type,
      l.outputShape.join('×'),
      formatCount(l.params),
      formatCount(l.macs),
    ]),
    numeric: [false, false, false, true, true],
  };
}
