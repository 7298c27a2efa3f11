// `senet report`: reads a run directory, computes what its files do not hold (the model summary, the SE
// analysis and the misclassified test images of the run's trained weights), renders the charts and
// pictures, and writes report.md (+ figures/*.svg), report.html (self-contained) and se-analysis.json,
// each file replaced atomically.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { summarizeModel, type Model, type ModelSummary } from '../models/index.js';
import type { ImageDataset } from '../data/index.js';
import { findCheckpoint } from '../train/checkpoint.js';
import { buildModel, loadTrainedModel, specFromConfig, type TrainedModel } from '../train/trained-model.js';
import * as torch from '../torch/index.js';
import { excitationUnits } from '../se/probe.js';
import { describeSession } from '../train/environment.js';
import { figuresOf, type Block, type Figure, type ReportDocument } from './document.js';
import { readRun, type RunFiles } from './run-files.js';
import {
  renderSvg,
  lossSpec,
  accuracySpec,
  learningRateSpec,
  confusionSpec,
  perClassSpec,
  excitationSpec,
  stepLossSpec,
  ganttSpec,
} from './charts.js';
import { findMisclassified } from './misclassified.js';
import { imageGridSvg, pictureSvg } from './image-figures.js';
import { analyseExcitation, type ExcitationAnalysis } from './se-analysis.js';
import { loadTestSplit, testTransform } from './test-split.js';
import {
  overviewBlocks,
  pipelineBlocks,
  trainingBlocks,
  evaluationBlocks,
  modelBlocks,
  seAnalysisBlocks,
  reproducibilityBlocks,
  type MisclassifiedFigure,
} from './sections.js';
import { renderMarkdown, FIGURES_DIR } from './markdown.js';
import { renderHtml } from './html.js';
import { writeTensorboard } from './tensorboard.js';

export interface ReportOptions {
  /** Where the report goes (default: the run directory). */
  out?: string;
  /** Run the SE analysis (default true). */
  seAnalysis?: boolean;
  /** At most this many test images for the SE analysis, balanced across classes (default: all). */
  seImages?: number;
  /** At most this many misclassified test images in the grid, balanced across true classes (default 32). */
  misclassified?: number;
  /** Where the test data is, if not where the run's config says (CIFAR: the folder with the extracted dataset). */
  dataRoot?: string;
  /** Also write a TensorBoard event file into this folder. */
  tensorboard?: string;
  /** The time the report is made (default: now); running stages are drawn up to it. */
  now?: Date;
  /** Progress messages for the command line. */
  onProgress?: (message: string) => void;
}

export interface ReportResult {
  markdown: string;
  html: string;
  figures: string[];
  /** se-analysis.json, or null when no analysis was made. */
  seAnalysis: string | null;
  /** Why the SE analysis was left out, when it was. */
  seAnalysisSkipped: string | null;
  /** The TensorBoard event file written, if asked for. */
  tensorboard: string | null;
}

function writeAtomic(path: string, content: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

async function figure(file: string, title: string, spec: Parameters<typeof renderSvg>[0]): Promise<Figure> {
  return { kind: 'figure', file, title, svg: await renderSvg(spec) };
}

/** The run's trained model (best checkpoint, else last), or null when it saved none yet. */
function trainedModel(dir: string): TrainedModel | null {
  const saved = (['best', 'last'] as const).some((name) => findCheckpoint(join(dir, 'checkpoints', name)) !== null);
  return saved ? loadTrainedModel({ run: dir }) : null;
}

/** Without weights, the model as the run built it: classes and image size from what the run recorded. */
function untrainedModel(run: RunFiles, test: ImageDataset | null): Model {
  const c = run.config;
  const cifar = c.data === 'cifar10' ? 10 : c.data === 'cifar100' ? 100 : null;
  const numClasses = test?.classes.length ?? run.evaluation?.classes.length ?? cifar;
  const side = cifar ? 32 : c.imageSize;
  const shape = test ? [test.channels, test.height, test.width] : side ? [c.mean.length, side, side] : null;
  if (!numClasses || !shape) {
    throw new Error(
      `cannot tell the input size and classes of the run's model: it saved no checkpoint and its data ${c.data} ` +
        'is a folder without imageSize; let the report read the test split (drop --no-se-analysis, or pass --data)',
    );
  }
  return buildModel(specFromConfig(c, shape, numClasses));
}

const NO_CHECKPOINT = 'the run saved no checkpoint (checkpoints/best or checkpoints/last) to analyse';

/** The test data must be the data the model was trained on: at least, as many classes. */
function checkTestClasses(test: ImageDataset, trained: TrainedModel): void {
  if (test.classes.length !== trained.spec.options.numClasses) {
    throw new Error(
      `the test data has ${test.classes.length} classes but the run's model has ${trained.spec.options.numClasses}; ` +
        'pass --data with the dataset the run was trained on',
    );
  }
}

/** The grid of misclassified test images of the trained weights, or why there is none. */
async function misclassifiedOf(
  run: RunFiles,
  trained: TrainedModel | null,
  test: ImageDataset | null,
  options: ReportOptions,
): Promise<MisclassifiedFigure> {
  if (!test) return { none: 'the test split was not read (--no-se-analysis)' };
  if (!trained) return { none: NO_CHECKPOINT };
  const weights = relative(run.dir, trained.weightsFile);
  options.onProgress?.(`misclassified test images: classifying with ${weights}`);
  const found = await findMisclassified(trained.model, test, {
    transform: testTransform(trained.context.mean, trained.context.std),
    max: options.misclassified ?? 32,
  });
  const title = 'Misclassified test images';
  const size = test.channels * test.height * test.width;
  const tiles = found.items.map((m) => ({
    pixels: test.images.subarray(m.index * size, (m.index + 1) * size),
    caption: [
      `true: ${test.classes[m.truth]}`,
      `pred: ${test.classes[m.predicted]} ${Math.round(m.probability * 100)}%`,
    ],
  }));
  const figure: Figure | null =
    tiles.length === 0
      ? null
      : {
          kind: 'figure',
          file: 'misclassified.svg',
          title,
          svg: await imageGridSvg(tiles, { title, channels: test.channels, height: test.height, width: test.width }),
        };
  return { figure, shown: found.items.length, examined: found.examined, weights };
}

/** The run's augmentation-samples.png as an SVG figure; a file that is not a PNG is named. */
async function samplesSvg(path: string): Promise<string> {
  try {
    return await pictureSvg(readFileSync(path), 'Training images before and after augmentation');
  } catch (error) {
    throw new Error(
      `cannot read the run's augmentation samples ${path}: ${(error as Error).message}; ` +
        'delete the file to make the report without them',
    );
  }
}

interface SeOutcome {
  analysis: ExcitationAnalysis;
  weights: string;
}

/** The SE analysis on the trained weights, or the reason it cannot be made. */
async function seAnalysisOf(
  run: RunFiles,
  trained: TrainedModel | null,
  test: ImageDataset,
  options: ReportOptions,
): Promise<SeOutcome | string> {
  if (!trained) return NO_CHECKPOINT;
  if (excitationUnits(trained.model).length === 0) return `the model ${run.config.model} has no SE unit`;
  const weights = relative(run.dir, trained.weightsFile);
  options.onProgress?.(
    `SE analysis: ${Math.min(options.seImages ?? test.length, test.length)} test images through ${weights}`,
  );
  const analysis = await analyseExcitation(trained.model, test, {
    transform: testTransform(trained.context.mean, trained.context.std),
    maxImages: options.seImages,
  });
  return { analysis, weights };
}

export async function writeReport(runDir: string, options: ReportOptions = {}): Promise<ReportResult> {
  const dir = resolve(runDir);
  const run = readRun(dir);
  const out = resolve(options.out ?? dir);
  const now = options.now ?? new Date();

  const test = (options.seAnalysis ?? true) ? await loadTestSplit(run.config, options.dataRoot) : null;
  const trained = trainedModel(dir);
  const model = trained?.model ?? untrainedModel(run, test);
  let summary: ModelSummary;
  let se: SeOutcome | string = 'disabled with --no-se-analysis';
  let misclassified: MisclassifiedFigure;
  const seUnitNames = excitationUnits(model).map(([name]) => name);
  try {
    summary = summarizeModel(model, model.inputShape);
    if (test && trained) checkTestClasses(test, trained);
    if (test) se = await seAnalysisOf(run, trained, test, options);
    misclassified = await misclassifiedOf(run, trained, test, options);
  } finally {
    model.dispose();
  }

  options.onProgress?.('rendering charts');
  const curves =
    run.metrics.length === 0
      ? []
      : await Promise.all([
          figure('loss.svg', 'Loss per epoch', lossSpec(run.metrics)),
          figure('accuracy.svg', 'Accuracy per epoch', accuracySpec(run.metrics)),
          figure('learning-rate.svg', 'Learning rate per epoch', learningRateSpec(run.metrics)),
        ]);
  const steps =
    run.steps.length === 0 ? null : await figure('loss-per-step.svg', 'Loss per step', stepLossSpec(run.steps));
  const samples: Figure | null = run.augmentationSamples
    ? {
        kind: 'figure',
        file: 'augmentation-samples.svg',
        title: 'Augmentation samples',
        svg: await samplesSvg(run.augmentationSamples),
      }
    : null;
  const gantt = run.pipeline ? ganttSpec(run.pipeline, now.getTime()) : null;
  const ganttSvg = gantt ? await renderSvg(gantt) : null;
  const evaluationFigures = run.evaluation
    ? await Promise.all([
        figure('confusion-matrix.svg', 'Confusion matrix', confusionSpec(run.evaluation)),
        figure('per-class-accuracy.svg', 'Accuracy per class', perClassSpec(run.evaluation)),
      ])
    : [];
  const analysed = typeof se === 'string' ? null : se;
  const seFigures = analysed
    ? await Promise.all(
        analysed.analysis.units.map((unit) =>
          figure(
            `excitation-${unit.name.replace(/\W+/g, '-')}.svg`,
            `Mean excitation per class of ${unit.name}`,
            excitationSpec(unit, analysed.analysis.classes),
          ),
        ),
      )
    : [];

  const blocks: Block[] = [
    ...overviewBlocks(run, now),
    ...evaluationBlocks(run.evaluation, evaluationFigures, misclassified),
    ...trainingBlocks(run.metrics, { epochs: curves, steps, samples }),
    ...(analysed
      ? seAnalysisBlocks(analysed.analysis, analysed.weights, seFigures)
      : [
          { kind: 'heading', level: 1, text: 'SE analysis' } as const,
          { kind: 'paragraph', text: `Not made: ${se}.` } as const,
        ]),
    ...modelBlocks(run.config.model, model.inputShape, summary, seUnitNames),
    ...pipelineBlocks(run.pipeline, now.getTime(), ganttSvg),
    ...reproducibilityBlocks(run, describeSession(torch.getNumThreads(), now)),
  ];
  const doc: ReportDocument = { title: `Run report: ${basename(dir)}`, blocks };

  mkdirSync(join(out, FIGURES_DIR), { recursive: true });
  const figures = figuresOf(blocks).map((f) => {
    const path = join(out, FIGURES_DIR, f.file);
    writeAtomic(path, f.svg);
    return path;
  });
  let seAnalysis: string | null = null;
  if (analysed) {
    seAnalysis = join(out, 'se-analysis.json');
    writeAtomic(seAnalysis, `${JSON.stringify({ weights: analysed.weights, ...analysed.analysis }, null, 1)}\n`);
  }
  const markdown = join(out, 'report.md');
  const html = join(out, 'report.html');
  writeAtomic(markdown, renderMarkdown(doc));
  writeAtomic(html, renderHtml(doc));
  const tensorboard = options.tensorboard
    ? writeTensorboard(resolve(options.tensorboard), run, analysed?.analysis ?? null, now)
    : null;
  return { markdown, html, figures, seAnalysis, seAnalysisSkipped: typeof se === 'string' ? se : null, tensorboard };
}
