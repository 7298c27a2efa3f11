// Running the real `senet` command in a child process, and a tiny CIFAR-10 made from the 1,000-image
// binary sample: 800 training images (data_batch_1..5, 160 each) and 200 test images.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { execute } from '../../src/cli/main.js';
import { BIN_SAMPLE } from '../data/support.js';

export const SENET = join(ROOT, 'bin', 'senet.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Called with the stderr seen so far whenever more arrives (to signal the child mid-run). */
  onStderr?: (stderr: string, child: ChildProcess) => void;
}

/** Runs `node bin/senet.js ...args` to completion. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SENET, ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: '1', SENET_DEBUG: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const RECORD = 1 + 3 * 32 * 32;
export const SAMPLE_TRAIN = 800;
export const SAMPLE_TEST = 200;

/**
 * A data cache folder (for SENET_DATA) holding cifar-10-batches-bin/ made from the official-format
 * sample: the first 800 records as five training batches, the last 200 as the test batch.
 */
export function makeTinyCifar(cacheDir: string): string {
  const source = join(BIN_SAMPLE, 'cifar-10-batches-bin');
  const bytes = readFileSync(join(source, 'test_batch.bin'));
  const folder = join(cacheDir, 'cifar-10-batches-bin');
  mkdirSync(folder, { recursive: true });
  const perBatch = SAMPLE_TRAIN / 5;
  for (let i = 0; i < 5; i++) {
    writeFileSync(
      join(folder, `data_batch_${i + 1}.bin`),
      bytes.subarray(i * perBatch * RECORD, (i + 1) * perBatch * RECORD),
    );
  }
  writeFileSync(
    join(folder, 'test_batch.bin'),
    bytes.subarray(SAMPLE_TRAIN * RECORD, (SAMPLE_TRAIN + SAMPLE_TEST) * RECORD),
  );
  copyFileSync(join(source, 'batches.meta.txt'), join(folder, 'batches.meta.txt'));
  return cacheDir;
}

/** The lines of metrics.jsonl without their timings (seconds, images_per_s). */
export function metricsWithoutTimings(runDir: string): Record<string, unknown>[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const { seconds: _s, images_per_s: _r, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return rest;
    });
}

/** Asserts that `stderr` ends in exactly one error line "senet: ..." and holds no stack trace; returns that line. */
export function errorLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  const last = lines.at(-1) ?? '';
  if (!last.startsWith('senet: ')) throw new Error(`expected a final line "senet: ...", got stderr:\n${stderr}`);
  if (/^\s+at /m.test(stderr)) throw new Error(`expected no stack trace, got stderr:\n${stderr}`);
  return last;
}

/**
 * Runs `senet ...args` inside this process (no start-up cost): returns the exit code, what the command
 * printed (its console.log lines, captured while it runs) and what went to stderr.
 */
export async function senetInProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const log = console.log;
  console.log = (...items: unknown[]) => {
    stdout += `${items.map(String).join(' ')}\n`;
  };
  try {
    const code = await execute(['node', 'senet', ...args], {
      writeErr: (text) => {
        stderr += text;
      },
    });
    return { code, stdout, stderr };
  } finally {
    console.log = log;
  }
}
