// The run directory: everything one training run leaves behind, each file readable on its own.
//   config.json     the resolved config (what `--resume` and `senet eval --run` read back)
//   metrics.jsonl   one JSON line per epoch: epoch, train_loss, train_acc, test_loss, test_acc, lr,
//                   seconds, images_per_s (accuracies as fractions; test_* null when not evaluated)
//   pipeline.json   the stages of the workflow and their status (see pipeline.ts)
//   eval.json       the final evaluation: accuracy, perClass, confusion, classes, ...
//   checkpoints/    last/ (every epoch, and on Ctrl-C) and best/ (best test accuracy), see checkpoint.ts
//   augmentation-samples.png   training images before and after augmentation (augmentation-samples.ts)
//   steps.jsonl     one JSON line per optimizer step: epoch, batch, step (from 1 over the run), loss, lr
//   environment.json  each training session's command line, versions, CPU and threads (environment.ts)
// Whole files are replaced atomically; metrics lines are appended and flushed one by one, and a line cut
// short by a kill is dropped when the run is read back or resumed.
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import * as torch from '../torch/index.js';
import { checkCompleteConfig, type TrainConfig } from './config.js';
import { readJsonFile } from '../util/json-files.js';

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  pipeline: 'pipeline.json',
  eval: 'eval.json',
  checkpoints: 'checkpoints',
  samples: 'augmentation-samples.png',
  steps: 'steps.jsonl',
  environment: 'environment.json',
  int8: 'model-int8.safetensors',
} as const;

export type CheckpointName = 'last' | 'best';

/** One line of metrics.jsonl. */
export interface EpochMetrics {
  /** 1 for the first epoch. */
  epoch: number;
  /** The epoch's mean training loss (over its samples). */
  train_loss: number;
  /** The epoch's training accuracy (of the model as it was at each batch); null for models without accuracy. */
  train_acc: number | null;
  test_loss: number | null;
  test_acc: number | null;
  /** The learning rate of the epoch's last step. */
  lr: number;
  /** Wall time of the epoch: training and evaluation. */
  seconds: number;
  /** Training images per second. */
  images_per_s: number;
}

/** Writes JSON to a file atomically (never half-written), with a final newline. */
export function writeJsonAtomic(path: string, value: unknown): void {
  torch.io.writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`));
}

/** `runs/<model>-<YYYYMMDD-HHMMSS>` under the current folder. */
export function defaultRunPath(model: string, now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return join('runs', `${model}-${stamp}`);
}

export class RunDir {
  readonly path: string;

  private constructor(path: string) {
    this.path = resolve(path);
  }

  /**
   * A new run in `path`, which must not hold a run already; writes config.json. A run that stopped
   * before it trained (its data was missing, or it was interrupted while preparing) holds nothing worth
   * keeping, so the new run replaces it: a retry after fixing `--data` needs no other `--out`.
   */
  static create(
    path: string,
    config: TrainConfig | Record<string, unknown>,
    fix: { resume: string; out: string } = { resume: `--resume ${path}`, out: '--out' },
  ): RunDir {
    const dir = new RunDir(path);
    if (existsSync(dir.file('config'))) {
      if (dir.hasTrained()) {
        throw new Error(
          `${dir.path} already holds a run (it has a ${RUN_FILES.config}); continue it with ${fix.resume}, or choose another ${fix.out}`,
        );
      }
      dir.clearUntrained();
    }
    if (existsSync(dir.path) && readdirSync(dir.path).length > 0) {
      throw new Error(`${dir.path} exists and is not empty; choose another ${fix.out} for the new run`);
    }
    mkdirSync(join(dir.path, RUN_FILES.checkpoints), { recursive: true });
    writeJsonAtomic(dir.file('config'), config);
    return dir;
  }

  /** An existing run (a folder with a config.json). */
  static open(path: string): RunDir {
    const dir = new RunDir(path);
    if (!existsSync(dir.path)) throw new Error(`the run directory ${dir.path} does not exist`);
    if (!existsSync(dir.file('config'))) {
      throw new Error(
        `${dir.path} is not a senet run directory: it has no ${RUN_FILES.config} (expected the --out folder of \`senet train\`)`,
      );
    }
    return dir;
  }

  /** Whether the run got as far as training: a metrics line or a checkpoint. */
  private hasTrained(): boolean {
    const metrics = this.file('metrics');
    const checkpoints = this.file('checkpoints');
    return (
      (existsSync(metrics) && statSync(metrics).size > 0) ||
      (existsSync(checkpoints) && readdirSync(checkpoints).length > 0)
    );
  }

  /**
   * Removes what a run that never trained wrote before it stopped. Only the run's own files go; anything
   * else in the folder stays, and then `create` refuses the folder as not empty.
   */
  private clearUntrained(): void {
    for (const name of Object.values(RUN_FILES)) {
      rmSync(join(this.path, name), { recursive: true, force: true });
    }
  }

  file(name: keyof typeof RUN_FILES): string {
    return join(this.path, RUN_FILES[name]);
  }

  checkpoint(name: CheckpointName): string {
    return join(this.path, RUN_FILES.checkpoints, name);
  }

  readConfig(): TrainConfig {
    return checkCompleteConfig(readJsonFile(this.file('config'), 'the run config'), this.file('config'));
  }

  /** Appends one epoch's line and flushes it to disk. */
  appendMetrics(metrics: EpochMetrics): void {
    const path = this.file('metrics');
    appendFileSync(path, `${JSON.stringify(metrics)}\n`);
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Appends one step's loss to steps.jsonl, unflushed: losing the last lines to a crash costs nothing, and
   * a step redone after resuming is appended again (readers keep a step's last line).
   */
  appendStep(step: { epoch: number; batch: number; step: number; loss: number; lr: number }): void {
    appendFileSync(this.file('steps'), `${JSON.stringify(step)}\n`);
  }

  /** Every complete line of metrics.jsonl (a last line cut short by a kill is left out). */
  readMetrics(): EpochMetrics[] {
    const path = this.file('metrics');
    if (!existsSync(path)) return [];
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.pop(); // after the final newline: '' when the file is whole, the cut line otherwise
    return lines.map((line, i) => {
      try {
        return JSON.parse(line) as EpochMetrics;
      } catch {
        throw new Error(`${path}: line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
      }
    });
  }

  /**
   * Rewrites metrics.jsonl with the lines of epochs 1..epochs only (atomically): before resuming from a
   * checkpoint taken after `epochs` complete epochs, the lines of work being redone go.
   */
  keepMetricsOfEpochs(epochs: number): void {
    const kept = this.readMetrics().filter((m) => m.epoch <= epochs);
    torch.io.writeFileAtomic(
      this.file('metrics'),
      new TextEncoder().encode(kept.map((m) => `${JSON.stringify(m)}\n`).join('')),
    );
  }

  writeEval(evaluation: object): void {
    writeJsonAtomic(this.file('eval'), evaluation);
  }

  readEval(): unknown {
    return readJsonFile(this.file('eval'), 'the evaluation');
  }
}
