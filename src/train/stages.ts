// The user's workflow as named stages whose progress is recorded in the run's pipeline.json, rewritten
// atomically whenever a stage starts or ends. `senet train` runs them all except hyper-parameter tuning;
// `senet run` and `senet report` build on the same file, so its format is fixed:
//
//   {
//     "stages": [
//       {
//         "name": "data-preparation",          // one of STAGES, always all seven, in this order
//         "title": "Data preparation",
//         "status": "done",                    // "pending" | "running" | "done" | "failed" | "skipped"
//         "startedAt": "2025-01-01T12:00:00.000Z",   // ISO 8601, null until the stage starts
//         "endedAt": "2025-01-01T12:00:03.100Z",     // null until it ends
//         "summary": { "train": 50000, ... }   // an object once the stage ends, null before:
//       },                                     //   done: what it produced; failed: { "error": message };
//       ...                                    //   skipped: { "reason": why }
//     ]
//   }
//
// `senet run` adds "fingerprint" (a digest of the stage's inputs) to every summary, and to a stage it
// skips as unchanged "since" and "previous" (the summary of the run that did the work); see run-pipeline.ts.
//
// A failed stage keeps what earlier stages wrote; the stages after it stay as they were.
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from './run-dir.js';

export const STAGES = [
  { name: 'data-preparation', title: 'Data preparation' },
  { name: 'data-augmentation', title: 'Data augmentation' },
  { name: 'se-module-design', title: 'SE module design' },
  { name: 'cnn-model-design', title: 'CNN model design' },
  { name: 'hyperparameter-tuning', title: 'Hyper-parameter tuning' },
  { name: 'model-training', title: 'Model training' },
  { name: 'evaluation', title: 'Evaluation' },
] as const;

export type StageName = (typeof STAGES)[number]['name'];
export type StageStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';
export type StageSummary = Record<string, unknown>;

export interface StageRecord {
  name: StageName;
  title: string;
  status: StageStatus;
  startedAt: string | null;
  endedAt: string | null;
  summary: StageSummary | null;
}

export interface PipelineFile {
  stages: StageRecord[];
}

const STATUSES: readonly StageStatus[] = ['pending', 'running', 'done', 'failed', 'skipped'];

function pendingStages(): StageRecord[] {
  return STAGES.map(({ name, title }) => ({
    name,
    title,
    status: 'pending',
    startedAt: null,
    endedAt: null,
    summary: null,
  }));
}

/** Reads a pipeline.json, checking its shape; throws naming what is wrong. */
export function readPipeline(path: string): PipelineFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the pipeline record ${path}: ${(error as Error).message}`);
  }
  const stages = (raw as PipelineFile | null)?.stages;
  const names = STAGES.map((s) => s.name);
  if (
    !Array.isArray(stages) ||
    stages.length !== STAGES.length ||
    stages.some((s, i) => s?.name !== names[i] || !STATUSES.includes(s.status))
  ) {
    throw new Error(
      `${path} is not a senet pipeline record: expected { "stages": [...] } with the stages ${names.join(', ')} in order`,
    );
  }
  return { stages };
}

export class Pipeline {
  readonly path: string;
  private readonly stages: StageRecord[];

  /**
   * The pipeline recorded at `path`: its stages as recorded there when the file exists (a resumed run
   * keeps the records of stages it does not run again), else all pending. Writes the file.
   */
  constructor(path: string, { fresh = false }: { fresh?: boolean } = {}) {
    this.path = path;
    this.stages = !fresh && existsSync(path) ? readPipeline(path).stages : pendingStages();
    this.write();
  }

  /** A copy of the current records. */
  get records(): StageRecord[] {
    return structuredClone(this.stages);
  }

  start(name: StageName): void {
    Object.assign(this.stage(name), {
      status: 'running',
      startedAt: new Date().toISOString(),
      endedAt: null,
      summary: null,
    });
    this.write();
  }

  done(name: StageName, summary: StageSummary): void {
    this.end(name, 'done', summary);
  }

  fail(name: StageName, error: unknown): void {
    this.end(name, 'failed', { error: error instanceof Error ? error.message : String(error) });
  }

  /** Marks the stage skipped, with `summary.reason` and any `details` (what was reused, from when). */
  skip(name: StageName, reason: string, details: StageSummary = {}): void {
    const stage = this.stage(name);
    const now = new Date().toISOString();
    Object.assign(stage, { status: 'skipped', startedAt: now, endedAt: now, summary: { ...details, reason } });
    this.write();
  }

  /** Runs one stage: running while `fn` runs, then done with `summarize(result)`, or failed with its error. */
  async run<T>(name: StageName, fn: () => Promise<T> | T, summarize: (result: T) => StageSummary): Promise<T> {
    this.start(name);
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      this.fail(name, error);
      throw error;
    }
    this.done(name, summarize(result));
    return result;
  }

  private end(name: StageName, status: StageStatus, summary: StageSummary): void {
    const stage = this.stage(name);
    const now = new Date().toISOString();
    Object.assign(stage, { status, startedAt: stage.startedAt ?? now, endedAt: now, summary });
    this.write();
  }

  private stage(name: StageName): StageRecord {
    const stage = this.stages.find((s) => s.name === name);
    if (!stage)
      throw new Error(`unknown pipeline stage '${name}': expected one of ${STAGES.map((s) => s.name).join(', ')}`);
    return stage;
  }

  private write(): void {
    writeJsonAtomic(this.path, { stages: this.stages } satisfies PipelineFile);
  }
}
