// The pipeline as a Mermaid state diagram: [*] → data-preparation → … → evaluation → [*], each stage
// coloured by the state it ended in (one classDef per status), the failed stage in bold red with its
// error beside it, so a glance says how far the run got and where it stopped.
import type { Pipeline, PipelineStage, StageStatus } from './run-files.js';
import { formatDuration } from './format.js';
import { mermaidId, mermaidText } from './gantt.js';

/** Fill, border and text colour per status; failed is the only heavy, red one. */
const CLASS_DEFS: Record<StageStatus, string> = {
  done: 'fill:#dcfce7,stroke:#15803d,color:#14532d',
  running: 'fill:#dbeafe,stroke:#1d4ed8,color:#1e3a8a',
  failed: 'fill:#fee2e2,stroke:#b91c1c,stroke-width:4px,color:#7f1d1d,font-weight:bold',
  skipped: 'fill:#f3f4f6,stroke:#9ca3af,stroke-dasharray:5,color:#6b7280',
  pending: 'fill:#ffffff,stroke:#9ca3af,color:#6b7280',
};

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

function description(stage: PipelineStage): string {
  const took = durationOf(stage);
  const status = stage.status === 'done' && took ? took : took ? `${stage.status}, ${took}` : stage.status;
  // Quotes end the description in Mermaid's syntax.
  return `${MARKS[stage.status]} ${mermaidText(stage.title).replace(/"/g, "'")} (${status})`;
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
