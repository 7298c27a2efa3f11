import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/torch/index.js';
import {
  findCheckpoint,
  loadTrainerState,
  readCheckpoint,
  recoverCheckpoint,
  saveCheckpoint,
  MANIFEST_FILE,
  TRAINER_FILE,
  WEIGHTS_FILE,
  type CheckpointStep,
} from '../../src/train/checkpoint.js';
import { tempDir } from '../data/support.js';
import { versionContents } from './support/crash-while-saving.js';

const STEPS: CheckpointStep[] = ['weights', 'trainer', 'manifest', 'retire', 'install', 'cleanup'];
const CRASH_CHILD = fileURLToPath(new URL('./support/crash-while-saving.js', import.meta.url));

/** The version a complete checkpoint holds, checking that its weights and trainer state agree (never a mix). */
function versionOf(folder: string): number {
  const manifest = readCheckpoint(folder);
  const state = loadTrainerState(folder);
  const weights = torch.io.loadSafetensors(join(folder, WEIGHTS_FILE));
  try {
    const version = state.epoch;
    assert.equal(manifest.epoch, version);
    assert.equal(weights.metadata.version, String(version));
    assert.deepEqual(
      weights.tensors.weight.toArray(),
      Array.from({ length: 4 }, () => Array(4).fill(version)),
    );
    assert.equal(state.batch, 10 * version);
    assert.equal(state.configHash, `hash-${version}`);
    return version;
  } finally {
    torch.dispose([state.rngState, state.optimizer, weights.tensors]);
  }
}

const debris = (parent: string) => readdirSync(parent).filter((n) => n.startsWith('.'));

test('a checkpoint round-trips the trainer state exactly, in files PyTorch and safetensors readers understand', (t) => {
  const dir = tempDir(t, 'senet-ckpt-');
  const path = join(dir, 'last');
  const contents = versionContents(3);
  const rng = contents.trainer.rngState.toArray();
  saveCheckpoint(path, contents);
  assert.deepEqual(readdirSync(path).sort(), [MANIFEST_FILE, WEIGHTS_FILE, TRAINER_FILE].sort());
  assert.deepEqual(debris(dir), []);
  const state = loadTrainerState(path);
  try {
    assert.equal(state.epoch, 3);
    assert.equal(state.batch, 30);
    assert.equal(state.bestAccuracy, 0.3);
    assert.deepEqual(state.epochTotals, { lossSum: 4.5, correct: 3, seen: 6 });
    assert.deepEqual(state.scheduler, { last_epoch: 3 });
    assert.deepEqual(state.rngState.toArray(), rng);
    assert.deepEqual(state.optimizer.param_groups, [{ lr: 3, params: [0, 1] }]);
    const paramState = state.optimizer.state['0'] as Record<string, torch.Tensor>;
    assert.equal(paramState.step.item(), 3);
    assert.deepEqual(paramState.momentum_buffer.shape, [4, 4]);
  } finally {
    torch.dispose([state.rngState, state.optimizer, contents.weights, contents.trainer]);
  }
  const manifest = JSON.parse(readFileSync(join(path, MANIFEST_FILE), 'utf8'));
  assert.equal(manifest.files[WEIGHTS_FILE].bytes, readFileSync(join(path, WEIGHTS_FILE)).length);
});

test('a corrupt or incomplete checkpoint is refused with one clear error', (t) => {
  const dir = tempDir(t, 'senet-ckpt-');
  const path = join(dir, 'last');
  const contents = versionContents(1);
  saveCheckpoint(path, contents);
  torch.dispose([contents.weights, contents.trainer]);
  const weights = join(path, WEIGHTS_FILE);
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(weights, bytes);
  assert.throws(
    () => readCheckpoint(path),
    /checkpoint .*last is corrupt: model\.safetensors is \d+ bytes with SHA-256 .*, expected \d+ bytes/,
  );
  writeFileSync(join(path, MANIFEST_FILE), '{"format": "senet-checkpoint/1", "fil');
  assert.throws(() => readCheckpoint(path), /is incomplete or corrupt: its checkpoint\.json cannot be read/);
  assert.throws(() => readCheckpoint(join(dir, 'best')), /checkpoint .*best does not exist/);
});

test('a write that fails at any step leaves the previous checkpoint whole and no debris', (t) => {
  for (const failAt of STEPS) {
    const dir = tempDir(t, 'senet-ckpt-');
    const path = join(dir, 'last');
    const v1 = versionContents(1);
    const v2 = versionContents(2);
    saveCheckpoint(path, v1);
    assert.throws(
      () =>
        saveCheckpoint(path, v2, {
          onStep: (s) => {
            if (s === failAt) throw new Error(`disk full at ${s}`);
          },
        }),
      new RegExp(`disk full at ${failAt}`),
    );
    torch.dispose([v1.weights, v1.trainer, v2.weights, v2.trainer]);
    // Up to the swap the old checkpoint stays; a failure after the swap (removing the old one) keeps the new.
    assert.equal(versionOf(findCheckpoint(path)!), failAt === 'cleanup' ? 2 : 1, `failure at ${failAt}`);
    recoverCheckpoint(path);
    assert.deepEqual(debris(dir), [], `debris after a failure at ${failAt}`);
    assert.equal(versionOf(path), failAt === 'cleanup' ? 2 : 1);
  }
});

/** Runs the crash child to its death; resolves with the signal that ended it and its stderr. */
function crashWhileSaving(
  path: string,
  step: CheckpointStep,
): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CRASH_CHILD, path, step], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, stderr }));
  });
}

test('a process killed at any step of a write leaves a complete checkpoint, old or new, never a mix', async (t) => {
  // One crash inside the file writes, one with the new folder complete but not swapped in, one between
  // the two renames of the swap, one after it (the in-process failure test above covers every step).
  // The children load libtorch, which takes a moment: they run side by side.
  const crashPoints: CheckpointStep[] = ['trainer', 'retire', 'install', 'cleanup'];
  const cases = crashPoints.map((crashAt) => ({ crashAt, dir: tempDir(t, 'senet-ckpt-') }));
  const children = await Promise.all(cases.map(({ crashAt, dir }) => crashWhileSaving(join(dir, 'last'), crashAt)));
  cases.forEach(({ crashAt, dir }, i) => {
    const path = join(dir, 'last');
    assert.equal(children[i].signal, 'SIGKILL', `the child should die by SIGKILL at ${crashAt}: ${children[i].stderr}`);
    const found = findCheckpoint(path);
    assert.ok(found, `a checkpoint must be found after a crash at ${crashAt}`);
    const version = versionOf(found);
    // Before the old folder is renamed aside, the old checkpoint is the one in place; from then on the
    // new one is complete (its manifest is written before the swap) and, being newer, preferred.
    assert.equal(version, ['install', 'cleanup'].includes(crashAt) ? 2 : 1, `crash at ${crashAt}`);
    recoverCheckpoint(path);
    assert.deepEqual(debris(dir), [], `debris after recovering from a crash at ${crashAt}`);
    assert.equal(versionOf(path), version);
    assert.ok(existsSync(join(path, MANIFEST_FILE)));
  });
});

test('findCheckpoint: nothing saved yet', (t) => {
  const dir = tempDir(t, 'senet-ckpt-');
  assert.equal(findCheckpoint(join(dir, 'last')), null);
  assert.equal(findCheckpoint(join(dir, 'missing-parent', 'last')), null);
  recoverCheckpoint(join(dir, 'last')); // nothing to do, no error
});
