// The pipeline as a state diagram: [*] → data-preparation → … → evaluation → [*], each stage coloured by
// the state it ended in, the failed stage in bold red with its error beside it, so a glance says how far
// the run got and where it stopped. Two drawings of one diagram: Mermaid text for report.md (GitHub draws
// it) and plain SVG for report.html (drawn here, so the page needs no diagram runtime).
import type { Pipeline, PipelineStage, StageStatus } from './run-files.js';
import { formatDuration } from './format.js';
import { mermaidId, mermaidText } from './gantt.js';

/** Fill, border and text colour per status; failed is the only heavy, red one. The Gantt bars use `stroke`. */
export const STATUS_COLOURS: Record<StageStatus, { fill: string; stroke: string; text: string }> = {
  done: { fill: '#dcfce7', stroke: '#15803d', text: '#14532d' },
  running: { fill: '#dbeafe', stroke: '#1d4ed8', text: '#1e3a8a' },
  failed: { fill: '#fee2e2', stroke: '#b91c1c', text: '#7f1d1d' },
  skipped: { fill: '#f3f4f6', stroke: '#9ca3af', text: '#6b7280' },
  pending: { fill: '#ffffff', stroke: '#9ca3af', text: '#6b7280' },
};

/** Mermaid's classDef per status: the colours, plus a heavy border for failed and a dashed one for skipped. */
const CLASS_DEFS = Object.fromEntries(
  Object.entries(STATUS_COLOURS).map(([status, c]) => {
    const extra = status === 'failed' ? ',stroke-width:4px' : status === 'skipped' ? ',stroke-dasharray:5' : '';
    const bold = status === 'failed' ? ',font-weight:bold' : '';
    return [status, `fill:${c.fill},stroke:${c.stroke}${extra},color:${c.text}${bold}`];
  }),
) as Record<StageStatus, string>;

/** A symbol per status, so the state reads without colour too. */
const MARKS: Record<StageStatus, string> = {
  done: '✓',
  running: '▶',
  failed: '✗',
  skipped: '⤼',
  pending: '…',
};

function durationOf(stage: PipelineStage): string | null {
  if (stage.startedAt === null || stage.endedAt === null) return null;
  return formatDuration(Date.parse(stage.endedAt) - Date.parse(stage.startedAt));
}

/** How the stage ended, in a few words: '12.3 s', 'failed, 3 min 00 s', 'pending'. */
function outcome(stage: PipelineStage): string {
  const took = durationOf(stage);
  return stage.status === 'done' && took ? took : took ? `${stage.status}, ${took}` : stage.status;
}

function description(stage: PipelineStage): string {
  // Quotes end the description in Mermaid's syntax.
  return `${MARKS[stage.status]} ${mermaidText(stage.title).replace(/"/g, "'")} (${outcome(stage)})`;
}

/** The failure message a failed stage recorded (summary.error or summary.message), shortened for a note. */
export function failureMessage(stage: PipelineStage): string | null {
  const raw = stage.summary.error ?? stage.summary.message;
  if (typeof raw !== 'string' || raw.trim() === '') return null;
  const text = mermaidText(raw);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/** The state diagram's Mermaid text. */
export function stateDiagram(pipeline: Pipeline): string {
  const ids = pipeline.stages.map((s) => mermaidId(s.name));
  const lines = ['stateDiagram-v2', '  direction LR'];
  for (const [status, style] of Object.entries(CLASS_DEFS)) lines.push(`  classDef ${status} ${style}`);
  pipeline.stages.forEach((stage, i) => lines.push(`  state "${description(stage)}" as ${ids[i]}`));
  const path = ['[*]', ...ids, '[*]'];
  for (let i = 0; i + 1 < path.length; i++) lines.push(`  ${path[i]} --> ${path[i + 1]}`);
  pipeline.stages.forEach((stage, i) => lines.push(`  class ${ids[i]} ${stage.status}`));
  pipeline.stages.forEach((stage, i) => {
    const message = stage.status === 'failed' ? failureMessage(stage) : null;
    if (message) lines.push(`  note right of ${ids[i]}`, `    failed - ${message}`, '  end note');
  });
  return `${lines.join('\n')}\n`;
}

// The SVG drawing: one row of boxes joined by arrows, start and end dots, the failure note under its box.
const BOX_W = 132;
const BOX_H = 52;
const GAP = 26;
const DOT = 7;
const LINE_CHARS = 20; // characters of 11px text per line in a box

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Words into lines of at most `width` characters (a longer word gets a line of its own), at most `max` lines. */
function wrap(text: string, width: number, max: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  if (lines.length <= max) return lines;
  const kept = lines.slice(0, max);
  kept[max - 1] = `${kept[max - 1].slice(0, width - 3)}...`;
  return kept;
}

function textLines(lines: string[], x: number, top: number, attributes: string): string {
  return lines.map((line, i) => `<text x="${x}" y="${top + i * 14}" ${attributes}>${escapeXml(line)}</text>`).join('');
}

/** The state diagram as an SVG document: each stage a `<g class="stage STATUS" id="stage_NAME">`. */
export function stateDiagramSvg(pipeline: Pipeline): string {
  const n = pipeline.stages.length;
  const failedNotes = pipeline.stages.map((s) => (s.status === 'failed' ? failureMessage(s) : null));
  const boxLeft = (i: number) => 2 * DOT + GAP + i * (BOX_W + GAP);
  const width = boxLeft(n) + 2 * DOT;
  const top = 8;
  const middle = top + BOX_H / 2;
  const hasNote = failedNotes.some((m) => m !== null);
  const height = top + BOX_H + (hasNote ? 78 : 8);
  const parts: string[] = [
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">` +
      '<path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>',
    `<circle class="start" cx="${DOT}" cy="${middle}" r="${DOT}" fill="#1f2328"/>`,
  ];
  const arrow = (x1: number, x2: number) =>
    `<line x1="${x1}" y1="${middle}" x2="${x2}" y2="${middle}" stroke="#57606a" stroke-width="1.5" marker-end="url(#arrow)"/>`;
  pipeline.stages.forEach((stage, i) => {
    const x = boxLeft(i);
    const c = STATUS_COLOURS[stage.status];
    const border =
      stage.status === 'failed' ? ' stroke-width="4"' : stage.status === 'skipped' ? ' stroke-dasharray="5"' : '';
    const title = wrap(`${MARKS[stage.status]} ${stage.title}`, LINE_CHARS, 2);
    const lines = [...title, `(${outcome(stage)})`];
    const weight = stage.status === 'failed' ? ' font-weight="bold"' : '';
    parts.push(arrow(i === 0 ? 2 * DOT : x - GAP, x));
    parts.push(
      `<g class="stage ${stage.status}" id="${mermaidId(stage.name)}"><title>${escapeXml(description(stage))}</title>` +
        `<rect x="${x}" y="${top}" width="${BOX_W}" height="${BOX_H}" rx="8" fill="${c.fill}" stroke="${c.stroke}"${border}/>` +
        textLines(
          lines,
          x + BOX_W / 2,
          middle - ((lines.length - 1) * 14) / 2 + 4,
          `text-anchor="middle" font-size="11" fill="${c.text}"${weight}`,
        ) +
        '</g>',
    );
    const note = failedNotes[i];
    if (note) {
      const noteTop = top + BOX_H + 16;
      const noteLines = wrap(`failed - ${note}`, 34, 4);
      parts.push(
        `<g class="note"><line x1="${x + BOX_W / 2}" y1="${top + BOX_H}" x2="${x + BOX_W / 2}" y2="${noteTop}" stroke="#b91c1c" stroke-dasharray="3"/>` +
          `<rect x="${x - 30}" y="${noteTop}" width="${BOX_W + 60}" height="${noteLines.length * 14 + 10}" fill="#fff8c5" stroke="#d4a72c"/>` +
          textLines(noteLines, x - 24, noteTop + 15, 'font-size="11" fill="#1f2328"') +
          '</g>',
      );
    }
  });
  parts.push(arrow(n === 0 ? 2 * DOT : boxLeft(n) - GAP, boxLeft(n)));
  parts.push(
    `<circle class="end" cx="${boxLeft(n) + DOT}" cy="${middle}" r="${DOT}" fill="#fff" stroke="#1f2328" stroke-width="2"/>` +
      `<circle cx="${boxLeft(n) + DOT}" cy="${middle}" r="${DOT - 3}" fill="#1f2328"/>`,
  );
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="system-ui, sans-serif" role="img" aria-label="Pipeline states">${parts.join('')}</svg>`
  );
}
