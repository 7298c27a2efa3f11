// The report's sections as document blocks, from what the run recorded and what the report computed.
// Pure functions: every number shown comes from the run's files, the model summary or the SE analysis.
import type { Block, Figure, Table } from './document.js';
import type { EpochMetrics, Pipeline, PipelineStage, RunEvaluation, RunFiles } from './run-files.js';
import type { ModelSummary } from '../models/index.js';
import type { ExcitationAnalysis } from './se-analysis.js';
import { ganttChart } from './gantt.js';
import { stateDiagram, failureMessage } from './state-diagram.js';
import { modelTotals, totalsTable, layersTable } from './model-table.js';
import { formatCount, formatDuration, formatNumber, formatPercent } from './format.js';

/** Where the pipeline got to, in a few words. */
export function pipelineOutcome(pipeline: Pipeline | null): string {
  if (!pipeline || pipeline.stages.length === 0) return 'no pipeline.json: stage states unknown';
  const failed = pipeline.stages.find((s) => s.status === 'failed');
  if (failed) return `failed in ${failed.title}`;
  const running = pipeline.stages.find((s) => s.status === 'running');
  if (running) return `running (${running.title})`;
  if (pipeline.stages.some((s) => s.status === 'pending')) return 'not finished';
  return 'complete';
}

function bestEpoch(metrics: readonly EpochMetrics[]): EpochMetrics | null {
  return metrics.reduce<EpochMetrics | null>(
    (best, m) => (typeof m.test_acc === 'number' && (!best || m.test_acc > (best.test_acc ?? -1)) ? m : best),
    null,
  );
}

export function overviewBlocks(run: RunFiles, generatedAt: Date): Block[] {
  const c = run.config;
  const items = [
    `Status: ${pipelineOutcome(run.pipeline)}`,
    `Model: \`${c.model}\`${c.attention ? `, attention \`${JSON.stringify(c.attention)}\`` : ''}${c.sePlacement ? `, SE placement ${c.sePlacement}` : ''}`,
    `Data: \`${c.data}\`${c.imageSize ? ` at ${c.imageSize}×${c.imageSize}` : ''}, augmentation ${c.augment}, normalisation mean \`${JSON.stringify(c.mean)}\` std \`${JSON.stringify(c.std)}\``,
    `Training: ${run.metrics.length} of ${c.epochs} epochs, batch ${c.batchSize}, ${c.optimizer} lr ${c.lr}, schedule ${c.schedule}` +
      `${c.weightDecay ? `, weight decay ${c.weightDecay}` : ''}${c.labelSmoothing ? `, label smoothing ${c.labelSmoothing}` : ''}, seed ${c.seed}`,
  ];
  const best = bestEpoch(run.metrics);
  if (run.evaluation)
    items.push(
      `Final test accuracy: ${formatPercent(run.evaluation.accuracy)} (loss ${formatNumber(run.evaluation.loss)})`,
    );
  if (best) items.push(`Best test accuracy during training: ${formatPercent(best.test_acc)} at epoch ${best.epoch}`);
  const seconds = run.metrics.reduce((s, m) => s + (m.seconds ?? 0), 0);
  if (seconds > 0) items.push(`Training time: ${formatDuration(seconds * 1000)} over ${run.metrics.length} epochs`);
  return [
    { kind: 'list', items },
    { kind: 'paragraph', text: `Generated ${generatedAt.toISOString()} from \`${run.dir}\`.` },
  ];
}

/** The scalar entries of a stage's summary, as one short line. */
function summaryLine(stage: PipelineStage): string {
  const failure = stage.status === 'failed' ? failureMessage(stage) : null;
  if (failure) return `error: ${failure}`;
  const parts = Object.entries(stage.summary)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
    .map(
      ([k, v]) => `${k} ${typeof v !== 'number' ? String(v) : Number.isInteger(v) ? formatCount(v) : formatNumber(v)}`,
    );
  const line = parts.join(', ');
  return line.length > 140 ? `${line.slice(0, 137)}...` : line;
}

function stageTable(pipeline: Pipeline): Table {
  return {
    kind: 'table',
    header: ['stage', 'status', 'started (UTC)', 'duration', 'summary'],
    rows: pipeline.stages.map((s) => [
      s.title,
      s.status,
      s.startedAt ? new Date(s.startedAt).toISOString().slice(0, 19).replace('T', ' ') : '–',
      s.startedAt && s.endedAt ? formatDuration(Date.parse(s.endedAt) - Date.parse(s.startedAt)) : '–',
      summaryLine(s),
    ]),
  };
}

export function pipelineBlocks(pipeline: Pipeline | null, now: number): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 1, text: 'Pipeline' }];
  if (!pipeline) return [...blocks, { kind: 'paragraph', text: 'The run has no pipeline.json.' }];
  blocks.push({
    kind: 'mermaid',
    code: stateDiagram(pipeline),
    caption: 'Pipeline states: green done, blue running, red failed, dashed grey skipped, white not run.',
  });
  const gantt = ganttChart(pipeline, { now });
  blocks.push(
    gantt
      ? {
          kind: 'mermaid',
          code: gantt,
          caption: 'Stage timeline (real start times and durations, UTC); skipped and unreached stages are milestones.',
        }
      : { kind: 'paragraph', text: 'No stage has started yet, so there is no timeline.' },
  );
  blocks.push(stageTable(pipeline));
  return blocks;
}

export function trainingBlocks(metrics: readonly EpochMetrics[], figures: Figure[]): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 1, text: 'Training' }];
  if (metrics.length === 0)
    return [...blocks, { kind: 'paragraph', text: 'No epoch has finished: metrics.jsonl is empty or missing.' }];
  blocks.push(...figures);
  blocks.push({
    kind: 'details',
    summary: `Metrics of all ${metrics.length} epochs`,
    blocks: [
      {
        kind: 'table',
        header: ['epoch', 'train loss', 'train acc', 'test loss', 'test acc', 'lr', 'seconds', 'images/s'],
        rows: metrics.map((m) => [
          String(m.epoch),
          formatNumber(m.train_loss),
          formatPercent(m.train_acc),
          formatNumber(m.test_loss),
          formatPercent(m.test_acc),
          formatNumber(m.lr),
          formatNumber(m.seconds),
          formatNumber(m.images_per_s),
        ]),
        numeric: [true, true, true, true, true, true, true, true],
      },
    ],
  });
  return blocks;
}

export function evaluationBlocks(evaluation: RunEvaluation | null, figures: Figure[]): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 1, text: 'Evaluation' }];
  if (!evaluation)
    return [
      ...blocks,
      { kind: 'paragraph', text: 'The run has no eval.json (it did not reach the evaluation stage).' },
    ];
  const images = evaluation.count ?? evaluation.confusion.flat().reduce((a, b) => a + b, 0);
  blocks.push({
    kind: 'paragraph',
    text: `Test accuracy ${formatPercent(evaluation.accuracy)} on ${formatCount(images)} images, mean cross-entropy ${formatNumber(evaluation.loss)}.`,
  });
  blocks.push(...figures);
  blocks.push({
    kind: 'details',
    summary: 'Accuracy per class',
    blocks: [
      {
        kind: 'table',
        header: ['class', 'images', 'accuracy'],
        rows: evaluation.classes.map((name, i) => [
          name,
          formatCount(evaluation.confusion[i].reduce((a, b) => a + b, 0)),
          formatPercent(evaluation.perClass[i]),
        ]),
        numeric: [false, true, true],
      },
    ],
  });
  return blocks;
}

export function modelBlocks(
  modelName: string,
  inputShape: readonly number[],
  summary: ModelSummary,
  seUnitNames: readonly string[],
): Block[] {
  const totals = modelTotals(summary, seUnitNames);
  return [
    { kind: 'heading', level: 1, text: 'Model' },
    {
      kind: 'paragraph',
      text:
        `\`${modelName}\` on ${inputShape.join('×')} inputs: ${formatCount(summary.params)} parameters, ${formatCount(summary.macs)} multiply-accumulates per image ` +
        '(convolutions and linear layers, counted on the real graph).',
    },
    totalsTable(totals),
    { kind: 'details', summary: `All ${summary.layers.length} layers`, blocks: [layersTable(summary)] },
  ];
}

export function seAnalysisBlocks(analysis: ExcitationAnalysis, weights: string, figures: Figure[]): Block[] {
  return [
    { kind: 'heading', level: 1, text: 'SE analysis: the role of excitation' },
    {
      kind: 'paragraph',
      text:
        `Mean gate value of every channel per class, for the last SE unit of each stage, over ${formatCount(analysis.images)} test images ` +
        `(weights: \`${weights}\`), as in Fig. 6 of Hu et al. Class-specificity is the mean over channels of the standard deviation ` +
        'of the per-class means: near 0 the unit treats every class alike; larger values mean class-specific gates.',
    },
    {
      kind: 'table',
      header: ['SE unit', 'channels', 'class-specificity', 'mean gate'],
      rows: analysis.units.map((u) => [
        `\`${u.name}\``,
        String(u.channels),
        u.classSpecificity.toFixed(4),
        (u.overall.reduce((a, b) => a + b, 0) / u.channels).toFixed(4),
      ]),
      numeric: [false, true, true, true],
    },
    ...figures,
    { kind: 'paragraph', text: 'The numbers behind these charts are in `se-analysis.json`.' },
  ];
}
