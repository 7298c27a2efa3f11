// Reading a run directory as `senet train` leaves it (src/train/run-dir.ts writes it):
//   config.json     the resolved TrainConfig
//   pipeline.json   { stages: [{ name, title, status, startedAt, endedAt, summary }] }
//   metrics.jsonl   one JSON object per epoch
//   steps.jsonl     one JSON object per training step (epoch, batch, step, loss, lr), when recorded
//   eval.json       the final evaluation
//   environment.json  what each training session ran on and the command that started it, when recorded
//   augmentation-samples.png  training images before and after augmentation
//   checkpoints/{best,last}/       (read through src/train/trained-model.ts)
// Only config.json is required: a run that failed or is still going has the files it got to, and the
// report shows what there is. Anything present but malformed is an error naming the file and the field.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkCompleteConfig, type TrainConfig } from '../train/config.js';
import type { TrainingSession } from '../train/environment.js';

export type StageStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';
export const STAGE_STATUSES: readonly StageStatus[] = ['pending', 'running', 'done', 'failed', 'skipped'];

export interface PipelineStage {
  name: string;
  title: string;
  status: StageStatus;
  /** ISO 8601 times, null until the stage starts / ends. */
  startedAt: string | null;
  endedAt: string | null;
  summary: Record<string, unknown>;
}

export interface Pipeline {
  stages: PipelineStage[];
}

/** One line of metrics.jsonl; accuracies are fractions, test metrics are absent on epochs not evaluated. */
export interface EpochMetrics {
  epoch: number;
  train_loss: number;
  train_acc: number;
  test_loss?: number | null;
  test_acc?: number | null;
  lr: number;
  seconds: number;
  images_per_s: number;
}

/** eval.json: the final test evaluation (fractions; confusion[true][predicted] counts). */
export interface RunEvaluation {
  loss: number;
  accuracy: number;
  perClass: (number | null)[];
  confusion: number[][];
  classes: string[];
  count?: number;
}

/** One line of steps.jsonl: the loss of one optimizer step (`step` counts from 1 over the whole run). */
export interface StepLoss {
  epoch: number;
  batch: number;
  step: number;
  loss: number;
  lr?: number;
}

/** environment.json: one entry per training session (the first started the run, later ones resumed it). */
export interface RunEnvironment {
  sessions: TrainingSession[];
}

export type { TrainingSession };

export interface RunFiles {
  dir: string;
  config: TrainConfig;
  pipeline: Pipeline | null;
  metrics: EpochMetrics[];
  /** Per-step losses, in step order (empty when the run did not record them). */
  steps: StepLoss[];
  evaluation: RunEvaluation | null;
  environment: RunEnvironment | null;
  /** augmentation-samples.png, when the run wrote one. */
  augmentationSamples: string | null;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTime = (v: unknown): v is string | null =>
  v === null || (typeof v === 'string' && !Number.isNaN(Date.parse(v)));

export function checkPipeline(raw: unknown, path: string): Pipeline {
  if (!isObject(raw) || !Array.isArray(raw.stages)) throw new Error(`${path}: expected { "stages": [...] }`);
  const stages = raw.stages.map((s: unknown, i: number): PipelineStage => {
    const where = `${path}: stages[${i}]`;
    if (!isObject(s)) throw new Error(`${where} must be an object`);
    if (typeof s.name !== 'string' || s.name === '') throw new Error(`${where}.name must be a non-empty string`);
    if (!STAGE_STATUSES.includes(s.status as StageStatus)) {
      throw new Error(`${where}.status is ${JSON.stringify(s.status)}; expected one of ${STAGE_STATUSES.join(', ')}`);
    }
    for (const key of ['startedAt', 'endedAt'] as const) {
      if (!isTime(s[key] ?? null))
        throw new Error(`${where}.${key} is ${JSON.stringify(s[key])}; expected an ISO time or null`);
    }
    return {
      name: s.name,
      title: typeof s.title === 'string' && s.title !== '' ? s.title : s.name,
      status: s.status as StageStatus,
      startedAt: (s.startedAt as string | null | undefined) ?? null,
      endedAt: (s.endedAt as string | null | undefined) ?? null,
      summary: isObject(s.summary) ? s.summary : {},
    };
  });
  return { stages };
}

/**
 * The records of a JSON-lines file with where each stands (`path:line`): blank lines are skipped, and a
 * last line that is not JSON (no newline after it: the process was killed mid-append) is left out.
 */
function jsonLines(text: string, path: string): { row: unknown; where: string }[] {
  const lines = text.split('\n');
  const out: { row: unknown; where: string }[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push({ row: JSON.parse(line), where: `${path}:${i + 1}` });
    } catch (error) {
      if (i === lines.length - 1) return; // an append cut short
      throw new Error(`${path}:${i + 1} is not valid JSON: ${(error as Error).message}`);
    }
  });
  return out;
}

/** The epochs of metrics.jsonl; a torn last line (the process was killed mid-append) is left out. */
export function parseMetrics(text: string, path: string): EpochMetrics[] {
  return jsonLines(text, path).map(({ row, where }) => {
    if (!isObject(row) || typeof row.epoch !== 'number' || typeof row.train_loss !== 'number') {
      throw new Error(`${where}: expected an object with numeric epoch and train_loss`);
    }
    return row as unknown as EpochMetrics;
  });
}

/**
 * The steps of steps.jsonl in step order. A torn last line is left out; a step recorded twice (a resumed
 * run redid the steps after its checkpoint) counts as its last record, the one the weights went on from.
 */
export function parseSteps(text: string, path: string): StepLoss[] {
  const byStep = new Map<number, StepLoss>();
  for (const { row, where } of jsonLines(text, path)) {
    const fields = isObject(row) ? row : {};
    const ok =
      isObject(row) &&
      ['epoch', 'batch', 'step'].every((k) => Number.isInteger(fields[k])) &&
      typeof fields.loss === 'number' &&
      (fields.lr === undefined || typeof fields.lr === 'number');
    if (!ok) throw new Error(`${where}: expected an object with integer epoch, batch, step and a numeric loss`);
    byStep.set(fields.step as number, fields as unknown as StepLoss);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export function checkEnvironment(raw: unknown, path: string): RunEnvironment {
  if (!isObject(raw) || !Array.isArray(raw.sessions) || raw.sessions.length === 0)
    throw new Error(`${path}: expected { "sessions": [...] } with at least one session`);
  raw.sessions.forEach((s: unknown, i: number) => {
    const where = `${path}: sessions[${i}]`;
    if (!isObject(s)) throw new Error(`${where} must be an object`);
    if (!Array.isArray(s.argv) || !s.argv.every((a) => typeof a === 'string'))
      throw new Error(`${where}.argv must be a list of strings (the command line)`);
    for (const key of ['startedAt', 'cwd', 'senet', 'libtorch', 'node', 'platform', 'cpu'])
      if (typeof s[key] !== 'string') throw new Error(`${where}.${key} must be a string`);
    for (const key of ['cores', 'threads'])
      if (!Number.isInteger(s[key])) throw new Error(`${where}.${key} must be an integer`);
  });
  return raw as unknown as RunEnvironment;
}

export function checkEvaluation(raw: unknown, path: string): RunEvaluation {
  if (!isObject(raw)) throw new Error(`${path}: expected an object`);
  const { classes, confusion, perClass, accuracy } = raw;
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string'))
    throw new Error(`${path}: classes must be a list of names`);
  const k = classes.length;
  if (
    !Array.isArray(confusion) ||
    confusion.length !== k ||
    !confusion.every((row) => Array.isArray(row) && row.length === k && row.every((v) => typeof v === 'number'))
  ) {
    throw new Error(`${path}: confusion must be a ${k}×${k} matrix of counts (one row and column per class)`);
  }
  if (
    !Array.isArray(perClass) ||
    perClass.length !== k ||
    !perClass.every((v) => v === null || typeof v === 'number')
  ) {
    throw new Error(`${path}: perClass must hold ${k} accuracies (or null for a class without images)`);
  }
  if (typeof accuracy !== 'number') throw new Error(`${path}: accuracy must be a number`);
  return raw as unknown as RunEvaluation;
}

export function readRun(dir: string): RunFiles {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) {
    throw new Error(
      `${dir} is not a run directory: it has no config.json (expected the output folder of \`senet train\`)`,
    );
  }
  const config = checkCompleteConfig(readJson(configPath), configPath);
  const at = (name: string) => join(dir, name);
  const pipeline = existsSync(at('pipeline.json'))
    ? checkPipeline(readJson(at('pipeline.json')), at('pipeline.json'))
    : null;
  const metrics = existsSync(at('metrics.jsonl'))
    ? parseMetrics(readFileSync(at('metrics.jsonl'), 'utf8'), at('metrics.jsonl'))
    : [];
  const steps = existsSync(at('steps.jsonl'))
    ? parseSteps(readFileSync(at('steps.jsonl'), 'utf8'), at('steps.jsonl'))
    : [];
  const evaluation = existsSync(at('eval.json')) ? checkEvaluation(readJson(at('eval.json')), at('eval.json')) : null;
  const environment = existsSync(at('environment.json'))
    ? checkEnvironment(readJson(at('environment.json')), at('environment.json'))
    : null;
  const augmentationSamples = existsSync(at('augmentation-samples.png')) ? at('augmentation-samples.png') : null;
  return { dir, config, pipeline, metrics, steps, evaluation, environment, augmentationSamples };
}
