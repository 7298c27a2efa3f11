// Checkpoints: a folder (checkpoints/last, checkpoints/best) holding
//   model.safetensors  the model's state dict, loadable by any safetensors reader (metadata: the model);
//   trainer.pt         the trainer's state in torch.save's format (torch.load reads it): the optimizer's
//                      state dict, the scheduler's, the epoch and batch to continue from, the running
//                      totals of the unfinished epoch, the default generator's RNG state, the best test
//                      accuracy (or, for models without accuracy, loss) so far and the hash of the config
//                      that made it; with weight averaging
//                      (ema.ts) also the raw training weights and the update count, model.safetensors
//                      then holding the averaged weights (the ones evaluated);
//   checkpoint.json    the manifest, written last: format, epoch, batch, and each file's size and SHA-256.
//
// A checkpoint is written as a unit: into a hidden sibling folder (".last.tmp-<pid>-<random>"), files
// flushed, manifest last; then the current folder is renamed aside (".last.old-..."), the new one renamed
// into place, and the old one removed. A crash at any point leaves either the complete old checkpoint or
// the complete new one: before the swap the real folder is untouched; between the two renames the real
// folder is missing and findCheckpoint/recoverCheckpoint take the newest complete leftover (a folder is
// complete when its manifest exists, since the manifest is written after the files it describes).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as torch from '../torch/index.js';
import type { optim } from '../torch/index.js';
import { syncDirectory, writeFileDurably } from '../util/files.js';

export const CHECKPOINT_FORMAT = 'senet-checkpoint/1';
export const WEIGHTS_FILE = 'model.safetensors';
export const TRAINER_FILE = 'trainer.pt';
export const MANIFEST_FILE = 'checkpoint.json';

/** Running totals of the epoch in progress, so that a resumed epoch reports the same mean loss. */
export interface EpochTotals {
  /** Sum over the batches so far of (mean batch loss × batch size). */
  lossSum: number;
  /** Training samples classified correctly so far. */
  correct: number;
  /** Training samples seen so far. */
  seen: number;
}

export interface TrainerState {
  /** The epoch to continue with, from 0: every epoch before it is complete (and evaluated). */
  epoch: number;
  /** The first batch of `epoch` not trained yet (0 at an epoch boundary). */
  batch: number;
  /** The best test accuracy so far (null before the first evaluation). */
  bestAccuracy: number | null;
  /** The best test loss so far, for runs whose model is not scored by accuracy (absent or null otherwise). */
  bestLoss?: number | null;
  /** configHash() of the run's config. */
  configHash: string;
  epochTotals: EpochTotals;
  optimizer: optim.OptimizerStateDict;
  scheduler: optim.SchedulerStateDict | null;
  /** The default CPU generator's state (uint8). */
  rngState: torch.Tensor;
  /**
   * With weight averaging: the updates made and the weights being trained (model.safetensors holds the
   * average); null or absent without.
   */
  ema?: { updates: number; trainingWeights: Record<string, torch.Tensor> } | null;
}

export interface CheckpointManifest {
  format: string;
  epoch: number;
  batch: number;
  /** The test accuracy of these weights, when they were evaluated (end-of-epoch checkpoints). */
  testAccuracy: number | null;
  savedAt: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

export interface CheckpointContents {
  weights: Record<string, torch.Tensor>;
  /** Strings stored in model.safetensors' metadata (what model the weights are for). */
  weightsMetadata?: Record<string, string>;
  trainer: TrainerState;
  testAccuracy?: number | null;
}

/** The steps of a write, in order; `onStep` is called before each (progress, fault-injection tests). */
export type CheckpointStep = 'weights' | 'trainer' | 'manifest' | 'retire' | 'install' | 'cleanup';

export interface SaveCheckpointOptions {
  onStep?: (step: CheckpointStep) => void;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const leftoverName = (name: string, kind: 'tmp' | 'old') =>
  `.${name}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Writes a checkpoint to the folder `path` (e.g. run/checkpoints/last), replacing the one there as a
 * unit. On an error nothing changes: the previous checkpoint stays in place and no debris is left.
 */
export function saveCheckpoint(
  path: string,
  contents: CheckpointContents,
  options: SaveCheckpointOptions = {},
): CheckpointManifest {
  const parent = dirname(path);
  const name = basename(path);
  mkdirSync(parent, { recursive: true });
  const work = join(parent, leftoverName(name, 'tmp'));
  let retired: string | null = null;
  let installed = false;
  const step = (s: CheckpointStep) => options.onStep?.(s);
  mkdirSync(work);
  try {
    const files: CheckpointManifest['files'] = {};
    const write = (file: string, bytes: Uint8Array) => {
      writeFileDurably(join(work, file), bytes);
      files[file] = { bytes: bytes.length, sha256: sha256(bytes) };
    };
    step('weights');
    write(WEIGHTS_FILE, torch.io.serializeSafetensors(Object.entries(contents.weights), contents.weightsMetadata));
    step('trainer');
    write(TRAINER_FILE, torch.io.serializePt(trainerStateToPickle(contents.trainer), { archiveName: 'trainer' }));
    step('manifest');
    const manifest: CheckpointManifest = {
      format: CHECKPOINT_FORMAT,
      epoch: contents.trainer.epoch,
      batch: contents.trainer.batch,
      testAccuracy: contents.testAccuracy ?? null,
      savedAt: new Date().toISOString(),
      files,
    };
    writeFileDurably(join(work, MANIFEST_FILE), new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
    syncDirectory(work);
    step('retire');
    if (existsSync(path)) {
      retired = join(parent, leftoverName(name, 'old'));
      renameSync(path, retired);
    }
    step('install');
    renameSync(work, path);
    installed = true;
    syncDirectory(parent);
    step('cleanup');
    if (retired) rmSync(retired, { recursive: true, force: true });
    return manifest;
  } catch (error) {
    if (!installed) {
      if (retired && !existsSync(path)) renameSync(retired, path);
      rmSync(work, { recursive: true, force: true });
    }
    throw error;
  }
}

/** A folder's manifest if it has a readable one, else null. */
function tryManifest(folder: string): CheckpointManifest | null {
  try {
    const manifest = JSON.parse(readFileSync(join(folder, MANIFEST_FILE), 'utf8')) as CheckpointManifest;
    return manifest?.format === CHECKPOINT_FORMAT ? manifest : null;
  } catch {
    return null;
  }
}

/** The hidden folders a write of `path` may have left behind (in progress, or renamed aside). */
function leftovers(path: string): string[] {
  const parent = dirname(path);
  const prefix = `.${basename(path)}.`;
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((n) => n.startsWith(prefix) && /^(tmp|old)-/.test(n.slice(prefix.length)))
    .map((n) => join(parent, n));
}

/**
 * The folder holding the checkpoint `path` names: `path` itself, or, when a write was interrupted
 * between its two renames, the newest complete leftover; null when there is no checkpoint.
 */
export function findCheckpoint(path: string): string | null {
  if (existsSync(path)) return path;
  const complete = leftovers(path)
    .map((folder) => ({ folder, manifest: tryManifest(folder) }))
    .filter((c): c is { folder: string; manifest: CheckpointManifest } => c.manifest !== null)
    .sort(
      (a, b) =>
        b.manifest.epoch - a.manifest.epoch ||
        b.manifest.batch - a.manifest.batch ||
        statSync(b.folder).mtimeMs - statSync(a.folder).mtimeMs,
    );
  return complete[0]?.folder ?? null;
}

/** Puts the checkpoint back in place after an interrupted write (see findCheckpoint) and removes the debris. */
export function recoverCheckpoint(path: string): void {
  const found = findCheckpoint(path);
  if (found && found !== path) renameSync(found, path);
  for (const folder of leftovers(path)) rmSync(folder, { recursive: true, force: true });
}

/** Reads and checks a checkpoint's manifest and files: throws one error naming what is wrong. */
export function readCheckpoint(folder: string): CheckpointManifest {
  const what = `checkpoint ${folder}`;
  if (!existsSync(folder)) throw new Error(`${what} does not exist`);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(join(folder, MANIFEST_FILE), 'utf8')) as CheckpointManifest;
  } catch (error) {
    throw new Error(
      `${what} is incomplete or corrupt: its ${MANIFEST_FILE} cannot be read (${(error as Error).message})`,
    );
  }
  if (manifest?.format !== CHECKPOINT_FORMAT || typeof manifest.files !== 'object' || manifest.files === null) {
    throw new Error(`${what}: ${MANIFEST_FILE} is not a ${CHECKPOINT_FORMAT} manifest`);
  }
  for (const file of [WEIGHTS_FILE, TRAINER_FILE]) {
    const expected = manifest.files[file];
    if (!expected) throw new Error(`${what}: the manifest does not list ${file}`);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(folder, file));
    } catch {
      throw new Error(`${what} is corrupt: ${file} is missing`);
    }
    if (bytes.length !== expected.bytes || sha256(bytes) !== expected.sha256) {
      throw new Error(
        `${what} is corrupt: ${file} is ${bytes.length} bytes with SHA-256 ${sha256(bytes).slice(0, 12)}…, ` +
          `expected ${expected.bytes} bytes with SHA-256 ${expected.sha256.slice(0, 12)}…`,
      );
    }
  }
  return manifest;
}

/** The trainer state of a checkpoint (call readCheckpoint first to verify it); the caller disposes rngState and optimizer tensors. */
export function loadTrainerState(folder: string): TrainerState {
  const path = join(folder, TRAINER_FILE);
  const raw = toPlain(torch.io.loadPt(path));
  try {
    return trainerStateFromPickle(raw, path);
  } catch (error) {
    torch.dispose(raw);
    throw error;
  }
}

// ---- trainer.pt layout: snake_case keys and int parameter ids, as a PyTorch checkpoint would have ----

function trainerStateToPickle(s: TrainerState): unknown {
  return {
    format: CHECKPOINT_FORMAT,
    epoch: s.epoch,
    batch: s.batch,
    best_accuracy: s.bestAccuracy,
    ...(s.bestLoss == null ? {} : { best_loss: s.bestLoss }),
    config_hash: s.configHash,
    epoch_totals: { loss_sum: s.epochTotals.lossSum, correct: s.epochTotals.correct, seen: s.epochTotals.seen },
    // Parameter ids as int keys, as in optimizer.state_dict().
    optimizer: {
      state: new Map(Object.entries(s.optimizer.state).map(([k, v]) => [Number(k), v])),
      param_groups: s.optimizer.param_groups,
    },
    scheduler: s.scheduler,
    rng_state: s.rngState,
    ema: s.ema ? { updates: s.ema.updates, training_weights: new Map(Object.entries(s.ema.trainingWeights)) } : null,
  };
}

function trainerStateFromPickle(raw: unknown, path: string): TrainerState {
  const bad = (what: string): never => {
    throw new Error(`${path} is not a senet trainer state: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null) bad('not a dict');
  const r = raw as Record<string, unknown>;
  if (r.format !== CHECKPOINT_FORMAT) bad(`format is ${JSON.stringify(r.format)}, expected '${CHECKPOINT_FORMAT}'`);
  const int = (key: string, value: unknown) =>
    Number.isInteger(value) && (value as number) >= 0 ? (value as number) : bad(`'${key}' is ${JSON.stringify(value)}`);
  const totals = r.epoch_totals as Record<string, unknown> | undefined;
  if (!totals || typeof totals.loss_sum !== 'number') bad("'epoch_totals' is missing");
  const optimizer = r.optimizer as optim.OptimizerStateDict | undefined;
  if (!optimizer || typeof optimizer.state !== 'object' || !Array.isArray(optimizer.param_groups))
    bad("'optimizer' is not an optimizer state dict");
  if (!(r.rng_state instanceof torch.Tensor)) bad("'rng_state' is not a tensor");
  if (typeof r.config_hash !== 'string') bad("'config_hash' is missing");
  const ema = (r.ema ?? null) as { updates?: unknown; training_weights?: Record<string, unknown> } | null;
  if (
    ema !== null &&
    (typeof ema.training_weights !== 'object' ||
      ema.training_weights === null ||
      !Object.values(ema.training_weights).every((v) => v instanceof torch.Tensor))
  ) {
    bad("'ema' has no 'training_weights' dict of tensors");
  }
  return {
    epoch: int('epoch', r.epoch),
    batch: int('batch', r.batch),
    bestAccuracy: typeof r.best_accuracy === 'number' ? r.best_accuracy : null,
    bestLoss: typeof r.best_loss === 'number' ? r.best_loss : null,
    configHash: r.config_hash as string,
    epochTotals: {
      lossSum: totals!.loss_sum as number,
      correct: int('correct', totals!.correct),
      seen: int('seen', totals!.seen),
    },
    optimizer: optimizer!,
    scheduler: (r.scheduler ?? null) as optim.SchedulerStateDict | null,
    rngState: r.rng_state as torch.Tensor,
    ema: ema && {
      updates: int('ema.updates', ema.updates),
      trainingWeights: ema.training_weights as Record<string, torch.Tensor>,
    },
  };
}

/** Python dicts (PyDict maps) as plain objects, recursively; tensors and scalars as they are. */
function toPlain(value: unknown): unknown {
  if (value instanceof torch.Tensor) return value;
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = toPlain(v);
    return out;
  }
  if (Array.isArray(value)) return value.map(toPlain);
  return value;
}
