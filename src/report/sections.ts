// The report's sections as document blocks, from what the run recorded and what the report computed.
// Pure functions: every number shown comes from the run's files, the model summary, the SE analysis or
// the images the report classified. Results come first (overview, evaluation, training curves), then the
// SE analysis and the model, then how the run went (pipeline) and how to make it again (reproducibility).
import type { Block, Figure, Table } from './document.js';
import type { EpochMetrics, Pipeline, PipelineStage, RunEvaluation, RunFiles, TrainingSession } from './run-files.js';
import type { ModelSummary } from '../models/index.js';
import type { ExcitationAnalysis } from './se-analysis.js';
import { ganttChart } from './gantt.js';
import { stateDiagram, stateDiagramSvg, failureMessage } from './state-diagram.js';
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
    `Training: ${run.metrics.length} of ${c.epochs} epochs, batch ${c.batchSize}, ${c.optimizer} lr ${formatNumber(c.lr)}, schedule ${c.schedule}` +
      `${c.weightDecay ? `, weight decay ${formatNumber(c.weightDecay)}` : ''}${c.labelSmoothing ? `, label smoothing ${formatNumber(c.labelSmoothing)}` : ''}, seed ${c.seed}`,
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

const isScalar = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);
const scalarText = (v: string | number | boolean) =>
  typeof v !== 'number' ? String(v) : Number.isInteger(v) ? formatCount(v) : formatNumber(v);

/**
 * The scalar entries of a stage's summary, as one short line, numbers rounded; a small object of scalars
 * (the tuned overrides) in parentheses: 'bestValue 0.8235, overrides (lr 0.01235, weightDecay 1.235e-4)'.
 */
export function summaryLine(stage: PipelineStage): string {
  const failure = stage.status === 'failed' ? failureMessage(stage) : null;
  if (failure) return `error: ${failure}`;
  const parts = Object.entries(stage.summary).flatMap(([k, v]) => {
    if (isScalar(v)) return [`${k} ${scalarText(v)}`];
    const inner = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : [];
    if (inner.length === 0 || inner.length > 4 || !inner.every(([, x]) => isScalar(x))) return [];
    return [`${k} (${inner.map(([ik, x]) => `${ik} ${scalarText(x as string | number | boolean)}`).join(', ')})`];
  });
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

/** `ganttSvg`: the timeline drawn by charts.ts's ganttSpec (null when no stage has started). */
export function pipelineBlocks(pipeline: Pipeline | null, now: number, ganttSvg: string | null): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 1, text: 'Pipeline' }];
  if (!pipeline) return [...blocks, { kind: 'paragraph', text: 'The run has no pipeline.json.' }];
  blocks.push({
    kind: 'diagram',
    mermaid: stateDiagram(pipeline),
    svg: stateDiagramSvg(pipeline),
    caption: 'Pipeline states: green done, blue running, red failed, dashed grey skipped, white not run.',
  });
  const gantt = ganttChart(pipeline, { now });
  blocks.push(
    gantt && ganttSvg
      ? {
          kind: 'diagram',
          mermaid: gantt,
          svg: ganttSvg,
          caption: 'Stage timeline (real start times and durations, UTC); skipped and unreached stages are milestones.',
        }
      : { kind: 'paragraph', text: 'No stage has started yet, so there is no timeline.' },
  );
  blocks.push(stageTable(pipeline));
  return blocks;
}

export interface TrainingFigures {
  /** Loss, accuracy and learning rate per epoch. */
  epochs: Figure[];
  /** The loss of every step, or null when the run has no steps.jsonl. */
  steps: Figure | null;
  /** The run's augmentation-samples.png, or null when it has none. */
  samples: Figure | null;
}

export function trainingBlocks(metrics: readonly EpochMetrics[], figures: TrainingFigures): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 1, text: 'Training' }];
  blocks.push(
    figures.steps ?? {
      kind: 'paragraph',
      text: 'No per-step losses: the run has no steps.jsonl (runs made before senet recorded it have none).',
    },
  );
  if (figures.samples) {
    blocks.push(
      {
        kind: 'paragraph',
        text: 'Training images as stored (top row) and as the training augmentation makes them (bottom row):',
      },
      figures.samples,
    );
  }
  if (metrics.length === 0)
    return [...blocks, { kind: 'paragraph', text: 'No epoch has finished: metrics.jsonl is empty or missing.' }];
  blocks.splice(1, 0, ...figures.epochs);
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

/** The misclassified-images grid, or why there is none. */
export type MisclassifiedFigure =
  | { figure: Figure | null; shown: number; examined: number; weights: string }
  | { none: string };

export function evaluationBlocks(
  evaluation: RunEvaluation | null,
  figures: Figure[],
  misclassified: MisclassifiedFigure,
): Block[] {
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
  blocks.push(...misclassifiedBlocks(misclassified));
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

function misclassifiedBlocks(m: MisclassifiedFigure): Block[] {
  if ('none' in m) return [{ kind: 'paragraph', text: `No grid of misclassified test images: ${m.none}.` }];
  if (m.figure === null)
    return [
      { kind: 'paragraph', text: `The model classified all ${formatCount(m.examined)} test images it saw correctly.` },
    ];
  return [
    {
      kind: 'paragraph',
      text:
        `${m.shown} misclassified test images, balanced across true classes (found among the first ${formatCount(m.examined)} ` +
        `images, class by class; weights \`${m.weights}\`), with the true class and the prediction (and its probability) under each:`,
    },
    m.figure,
  ];
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

/** A command line as a shell would take it back: arguments with spaces or quotes in single quotes. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** `senet train ...` when the command ran senet's own bin; the node executable and script otherwise. */
function commandOf(session: TrainingSession): string {
  const [, script, ...rest] = session.argv;
  return script && /(^|\/)senet(\.js)?$/.test(script) ? shellCommand(['senet', ...rest]) : shellCommand(session.argv);
}

function machineLine(e: Pick<TrainingSession, 'senet' | 'libtorch' | 'node' | 'platform' | 'cpu' | 'cores'>) {
  return `senet ${e.senet}, libtorch ${e.libtorch}, Node ${e.node} on ${e.platform}; CPU ${e.cpu}, ${e.cores} cores`;
}

/**
 * How to make the run again: the command that started it and what it ran on (environment.json, one entry
 * per session), and the full resolved config. `here` is the machine making the report, shown when the
 * run recorded nothing.
 */
export function reproducibilityBlocks(run: RunFiles, here: TrainingSession): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 1, text: 'Reproducibility' }];
  const sessions = run.environment?.sessions ?? [];
  if (sessions.length === 0) {
    blocks.push({
      kind: 'paragraph',
      text:
        'The run did not record its command line or machine (it has no environment.json: it was trained before ' +
        `senet recorded them). This report was made with ${machineLine(here)}; the run's config asks for ` +
        `${run.config.threads === null ? 'every core' : `${run.config.threads} libtorch threads`}.`,
    });
  } else {
    const first = sessions[0];
    const items = [
      `Command: \`${commandOf(first)}\` in \`${first.cwd}\` (${first.startedAt})`,
      `Machine: ${machineLine(first)}, ${first.threads} libtorch threads`,
      ...sessions
        .slice(1)
        .map(
          (s, i) =>
            `Resumed (${i + 1}) ${s.startedAt}: \`${commandOf(s)}\`, ${machineLine(s)}, ${s.threads} libtorch threads`,
        ),
    ];
    blocks.push({ kind: 'list', items });
  }
  blocks.push({
    kind: 'details',
    summary: 'The full resolved config (config.json)',
    blocks: [{ kind: 'code', language: 'json', text: JSON.stringify(run.config, null, 2) }],
  });
  return blocks;
}
