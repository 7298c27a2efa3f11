// An ablation: the same recipe, epochs and seed for several networks — a plain net and its SE twin, and
// SE variants (placement in the block, reduction ratio, ECA, scSE) — one run each, then a table of what
// each bought: test accuracy, parameters, multiply-accumulates and training speed.
//
// A variant is written `model[:modifier]...`:
//   pre | post | identity | standard   where the SE unit sits in each block (CIFAR ResNets)
//   se | eca | sse | scse              the attention unit's type
//   r<N>                               the SE reduction ratio, e.g. r4
// e.g. `resnet20`, `se-resnet20`, `se-resnet20:pre`, `se-resnet20:r4`, `resnet20:eca`, `se-resnet20:scse`.
// Each run goes to <out>/<variant>; running the same ablation again skips the finished runs and resumes
// an interrupted one, so a long ablation can be stopped and continued.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as torch from '../torch/index.js';
import { cpus } from 'node:os';
import {
  createModel,
  modelName,
  listModels,
  SE_PLACEMENTS,
  summarizeModel,
  type SEPlacement,
} from '../models/index.js';
import { ATTENTION_TYPES, type AttentionConfig, type AttentionType } from '../se/index.js';
import { resolveConfig, type ConfigLayer, type TrainConfig } from '../train/config.js';
import { RunDir, writeJsonAtomic } from '../train/run-dir.js';
import { trainRun, type TrainEvent } from '../train/trainer.js';

export interface AblationVariant {
  /** As written: `se-resnet20:pre`. */
  label: string;
  /** The config fields it sets. */
  values: Pick<TrainConfig, 'model'> & Partial<Pick<TrainConfig, 'attention' | 'sePlacement'>>;
}

/** Reads one variant; throws an error naming the bad modifier and the ones understood. */
export function parseVariant(spec: string): AblationVariant {
  const [model, ...modifiers] = spec.trim().split(':');
  if (!model) throw new Error(`ablation variant '${spec}': expected model[:modifier]..., e.g. se-resnet20:pre`);
  const values: AblationVariant['values'] = { model };
  const attention: AttentionConfig = {};
  for (const modifier of modifiers) {
    if ((SE_PLACEMENTS as readonly string[]).includes(modifier)) {
      values.sePlacement = modifier as SEPlacement;
    } else if ((ATTENTION_TYPES as readonly string[]).includes(modifier) && modifier !== 'none') {
      attention.type = modifier as AttentionType;
    } else if (/^r[1-9]\d*$/.test(modifier)) {
      attention.reduction = Number(modifier.slice(1));
    } else {
      throw new Error(
        `ablation variant '${spec}': unknown modifier '${modifier}'; expected a placement (${SE_PLACEMENTS.join(', ')}), ` +
          `an attention type (${ATTENTION_TYPES.filter((t) => t !== 'none').join(', ')}) or a reduction ratio such as r8`,
      );
    }
  }
  if (Object.keys(attention).length > 0) values.attention = attention;
  return { label: spec.trim(), values };
}

export interface AblationRow {
  variant: string;
  model: string;
  attention: AttentionConfig | null;
  sePlacement: SEPlacement | null;
  params: number;
  /** Multiply-accumulates of one forward pass of one image. */
  macs: number;
  epochs: number;
  /** After the last epoch, as the recipe evaluates it (its TTA and weight averaging included). */
  testAccuracy: number;
  bestAccuracy: number;
  /** Training images per second, over all epochs. */
  trainImagesPerSecond: number;
  /** Wall time of all epochs, training and evaluation. */
  minutes: number;
  runDir: string;
}

export interface AblationOptions {
  variants: AblationVariant[];
  /** The layers every run shares (recipe, epochs, seed, data, threads ...); each variant's fields go on top. */
  layers: ConfigLayer[];
  /** The folder of the runs. */
  out: string;
  cacheDir?: string;
  onEvent?: (variant: AblationVariant, event: TrainEvent) => void;
  /** Called after each variant, with its row. */
  onRow?: (row: AblationRow) => void;
  signal?: AbortSignal;
}

/** The folder name of a variant's run. */
export const variantFolder = (label: string) => label.replace(/[^A-Za-z0-9._-]+/g, '-');

/** Trains (or resumes, or reuses) every variant's run in turn; returns their rows. */
export async function runAblation(options: AblationOptions): Promise<{ rows: AblationRow[]; interrupted: boolean }> {
  const rows: AblationRow[] = [];
  const configs = options.variants.map((v) =>
    resolveConfig(...options.layers, { values: v.values, source: { describe: (k) => `variant '${v.label}' (${k})` } }),
  );
  for (const [i, variant] of options.variants.entries()) {
    const runDir = join(options.out, variantFolder(variant.label));
    const config = { ...configs[i], out: runDir };
    const finished = existsSync(join(runDir, 'eval.json'));
    if (!finished) {
      const resume = existsSync(join(runDir, 'config.json'));
      const result = await trainRun({
        ...(resume ? { resume: runDir } : { config, runDir }),
        cacheDir: options.cacheDir,
        signal: options.signal,
        onEvent: (event) => options.onEvent?.(variant, event),
      });
      if (result.status === 'interrupted') return { rows, interrupted: true };
    }
    const row = readRow(variant, runDir);
    rows.push(row);
    options.onRow?.(row);
  }
  return { rows, interrupted: false };
}

/** A finished run's row: its config, metrics and evaluation, and the model's size and cost. */
function readRow(variant: AblationVariant, runDir: string): AblationRow {
  const run = RunDir.open(runDir);
  const config = run.readConfig();
  const metrics = run.readMetrics();
  const evaluation = run.readEval() as { accuracy: number; bestAccuracy: number | null };
  // MACs from a real forward pass of one image (meta tensors cannot run every convolution).
  const model = createModel(modelName(config.model), {
    ...(config.attention ? { attention: config.attention } : {}),
    ...(config.sePlacement ? { sePlacement: config.sePlacement } : {}),
  });
  const { params, macs } = summarizeModel(model, model.inputShape);
  model.dispose();
  // Every epoch trains on the same number of images, so the run's rate (all images over all training
  // time) is the harmonic mean of the epochs' rates.
  const rate = metrics.length === 0 ? 0 : metrics.length / metrics.reduce((s, m) => s + 1 / m.images_per_s, 0);
  return {
    variant: variant.label,
    model: config.model,
    attention: config.attention,
    sePlacement: config.sePlacement,
    params,
    macs,
    epochs: metrics.length,
    testAccuracy: evaluation.accuracy,
    bestAccuracy: evaluation.bestAccuracy ?? evaluation.accuracy,
    trainImagesPerSecond: rate,
    minutes: metrics.reduce((s, m) => s + m.seconds, 0) / 60,
    runDir,
  };
}

export interface AblationReportInfo {
  /** The command that made it, as typed. */
  command: string;
  recipe: string;
  epochs: number;
  seed: number;
  data: string;
  threads: number | null;
  /** 'bf16' when every run trained under bfloat16 autocast. */
  precision?: 'float32' | 'bf16';
}

/** The table as Markdown, with how it was made and what it does not say. */
export function ablationMarkdown(rows: AblationRow[], info: AblationReportInfo): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const plain = rows.find(
    (r) => !r.attention && !r.sePlacement && !listModels().find((m) => m.name === r.model)?.hasSE,
  );
  const lines = [
    '# SE ablation',
    '',
    `Every network trained with the **${info.recipe}** recipe for **${info.epochs} epoch${info.epochs === 1 ? '' : 's'}**, seed ${info.seed}, on ${info.data}` +
      `${info.precision === 'bf16' ? ', in bfloat16 mixed precision' : ''} ` +
      `(one run each, same data order and augmentation draws). Test accuracy after the last epoch as the recipe evaluates it ` +
      '(its test-time augmentation and weight averaging included); best = the best epoch. These are short runs: longer training ' +
      'raises every absolute number, and one seed cannot resolve differences of a few tenths of a percent.',
    '',
    '```',
    info.command,
    '```',
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${info.threads ?? cpus().length} libtorch thread(s), Node ${process.version}.`,
    '',
    '| variant | test accuracy | best | Δ vs plain | parameters | MACs | train images/s | minutes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.variant} | ${pct(r.testAccuracy)} | ${pct(r.bestAccuracy)} | ` +
        `${plain && r !== plain ? `${r.testAccuracy >= plain.testAccuracy ? '+' : ''}${(100 * (r.testAccuracy - plain.testAccuracy)).toFixed(2)}` : ''} | ` +
        `${r.params.toLocaleString('en-US')} | ${(r.macs / 1e6).toFixed(2)}M | ${r.trainImagesPerSecond.toFixed(0)} | ${r.minutes.toFixed(1)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** Writes the table (Markdown, at `path`) and the rows (JSON, beside it); returns the JSON's path. */
export function writeAblation(path: string, rows: AblationRow[], info: AblationReportInfo): string {
  const json = `${path.replace(/\.md$/i, '')}.json`;
  mkdirSync(dirname(path), { recursive: true });
  writeJsonAtomic(json, { ...info, rows });
  torch.io.writeFileAtomic(path, new TextEncoder().encode(ablationMarkdown(rows, info)));
  return json;
}
