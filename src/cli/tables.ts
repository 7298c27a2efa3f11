// Plain-text tables for the terminal: aligned columns, and the evaluation report (accuracy, per-class
// accuracy, confusion matrix) built from them.
import type { Evaluation } from '../train/evaluate.js';
import { formatPercent } from '../train/progress.js';

/** Columns padded to their widest cell; columns listed in `right` are right-aligned (numbers). */
export function renderTable(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A count with thousands grouped and, past a million, in M / G units: 11.69M, 1.81G. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  return n.toLocaleString('en-US');
}

/** The confusion matrix is shown as a table up to this many classes (wider ones only in --json). */
const MAX_CONFUSION_CLASSES = 20;

export function renderEvaluation(e: Evaluation): string {
  const parts = [
    `Accuracy: ${formatPercent(e.accuracy)} (${Math.round(e.accuracy * e.count)} of ${e.count} images), mean loss ${e.loss.toFixed(4)}`,
    ...(e.top5 === null ? [] : [`Top-5 accuracy: ${formatPercent(e.top5)}`]),
    '',
    renderTable(
      ['class', 'accuracy', 'images'],
      e.classes.map((c, i) => [c, formatPercent(e.perClass[i]), String(e.confusion[i].reduce((a, b) => a + b, 0))]),
      new Set([1, 2]),
    ),
  ];
  if (e.classes.length <= MAX_CONFUSION_CLASSES) {
    // Column headers are class indices (names would make the table too wide); rows name the class.
    const header = ['true \\ predicted', ...e.classes.map((_, i) => String(i))];
    const rows = e.confusion.map((row, t) => [`${t} ${e.classes[t]}`, ...row.map(String)]);
    parts.push(
      '',
      'Confusion matrix (rows: true class, columns: predicted class):',
      renderTable(header, rows, new Set(header.map((_, i) => i).slice(1))),
    );
  } else {
    parts.push('', `(the ${e.classes.length}×${e.classes.length} confusion matrix is in the --json output)`);
  }
  return parts.join('\n');
}
