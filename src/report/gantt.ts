// The run's stage timeline as a Mermaid Gantt chart, from pipeline.json. Each stage is one task placed at
// its real start time and as long as it really took, both to the millisecond (UTC; the axis reads in
// seconds), so that stages follow each other on the chart as they did in the run. Stages with no time of their own — skipped, or never reached after a
// failure — are drawn as milestones where the pipeline stood when they were passed over, so every stage
// appears exactly once and in pipeline order.
import type { Pipeline, PipelineStage, StageStatus } from './run-files.js';
import { formatDuration } from './format.js';

/** Sections of the chart: the user's workflow in four phases. Unknown stages fall under 'Other'. */
const SECTIONS: readonly [string, readonly string[]][] = [
  ['Data', ['data-preparation', 'data-augmentation']],
  ['Model design', ['se-module-design', 'cnn-model-design']],
  ['Training', ['hyperparameter-tuning', 'model-training']],
  ['Evaluation', ['evaluation']],
];

function sectionOf(stage: string): string {
  return SECTIONS.find(([, stages]) => stages.includes(stage))?.[0] ?? 'Other';
}

/** Mermaid's task tag for each status (done: grey, active: blue, crit: red, milestone: a diamond). */
const TAGS: Record<StageStatus, string> = {
  done: 'done',
  running: 'active',
  failed: 'crit',
  skipped: 'milestone',
  pending: 'milestone',
};

/** A Mermaid id from a stage name: letters, digits and underscores only. */
export function mermaidId(name: string): string {
  return `stage_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** Text Mermaid will not parse as syntax: no colons, semicolons, hashes or line breaks. */
export function mermaidText(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[:;#]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** 'YYYY-MM-DD HH:mm:ss.SSS' in UTC: the chart's dateFormat (read by Mermaid as local time, shown as written). */
function timeText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
}

/** Axis ticks about 5 to 20 per chart, and labels as precise as the ticks. */
function axis(spanMs: number): { tickInterval: string; axisFormat: string } {
  const steps: [number, string][] = [
    [20e3, '1second'],
    [120e3, '10second'],
    [1200e3, '1minute'],
    [7200e3, '10minute'],
  ];
  const tickInterval = steps.find(([span]) => spanMs <= span)?.[1] ?? '1hour';
  return { tickInterval, axisFormat: spanMs > 7200e3 ? '%H:%M' : '%H:%M:%S' };
}

/** A stage placed on the time axis: where it starts (ms since the epoch) and how long its bar lasts. */
export interface PlacedStage {
  stage: PipelineStage;
  start: number;
  /** Milliseconds the bar lasts; 0 for milestones. */
  duration: number;
}

type Placed = Omit<PlacedStage, 'start'> & { start: number | null };

const timeOf = (iso: string | null) => (iso === null ? null : Date.parse(iso));

function place(stage: PipelineStage, now: number): Placed {
  const start = timeOf(stage.startedAt);
  const end = timeOf(stage.endedAt) ?? (stage.status === 'running' ? now : start);
  if (start === null || stage.status === 'skipped' || stage.status === 'pending') return { stage, start, duration: 0 };
  return { stage, start, duration: Math.max(0, (end ?? start) - start) };
}

/**
 * Every stage on the time axis, in pipeline order, or null when no stage has started (there is no axis
 * yet). A stage without a time of its own is drawn where the pipeline stood: after the last timed stage
 * before it, or (nothing ran before it) at the first time known. The Mermaid chart here and the SVG
 * chart of report.html (charts.ts) both draw these placements.
 */
export function placeStages(pipeline: Pipeline, now: number): PlacedStage[] | null {
  const placed = pipeline.stages.map((s) => place(s, now));
  const first = placed.find((p) => p.start !== null)?.start;
  if (first === undefined || first === null) return null;
  let cursor = first;
  for (const p of placed) {
    if (p.start === null) p.start = cursor;
    else cursor = Math.max(cursor, p.start + p.duration);
  }
  return placed as PlacedStage[];
}

/** The task's label: the stage's title and how it went ('Model training · 4.37 s'). */
export function stageLabel(p: PlacedStage): string {
  const title = mermaidText(p.stage.title);
  switch (p.stage.status) {
    case 'done':
      return `${title} · ${formatDuration(p.duration)}`;
    case 'running':
      return `${title} · running for ${formatDuration(p.duration)}`;
    case 'failed':
      return `${title} · FAILED after ${formatDuration(p.duration)}`;
    case 'skipped':
      return `${title} · skipped`;
    case 'pending':
      return `${title} · not run`;
  }
}

export interface GanttOptions {
  /** Where running stages end for now (default: the current time). */
  now?: number;
  title?: string;
}

/** The Gantt chart's Mermaid text, or null when no stage has started (there is no time axis yet). */
export function ganttChart(pipeline: Pipeline, options: GanttOptions = {}): string | null {
  const placed = placeStages(pipeline, options.now ?? Date.now());
  if (!placed) return null;
  const first = placed[0].start;
  const cursor = Math.max(...placed.map((p) => p.start + p.duration));
  const { tickInterval, axisFormat } = axis(cursor - first);
  const lines = [
    'gantt',
    `  title ${mermaidText(options.title ?? 'Pipeline stages (UTC)')}`,
    '  dateFormat YYYY-MM-DD HH:mm:ss.SSS',
    `  axisFormat ${axisFormat}`,
    `  tickInterval ${tickInterval}`,
    '  todayMarker off',
  ];
  let section = '';
  for (const p of placed) {
    const next = sectionOf(p.stage.name);
    if (next !== section) {
      section = next;
      lines.push(`  section ${section}`);
    }
    lines.push(
      `    ${stageLabel(p)} :${TAGS[p.stage.status]}, ${mermaidId(p.stage.name)}, ${timeText(p.start)}, ${Math.round(p.duration)}ms`,
    );
  }
  return `${lines.join('\n')}\n`;
}
