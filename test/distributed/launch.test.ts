// `senet train --nproc-per-node 2`: a rank killed mid-run makes the launcher stop the other rank and exit
// non-zero naming the dead one (no orphans); with --max-restarts 1 the group restarts from the last checkpoint
// and finishes the run.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, SHARED } from '../helpers.js';

const SOURCE = join(SHARED, 'datasets', 'cifar10-jpeg');

function makeFolder(root: string): void {
  for (const [split, n] of [
    ['train', 64],
    ['test', 16],
  ] as const) {
    for (const cls of ['cat', 'ship']) {
      const dir = join(root, split, cls);
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(join(SOURCE, split, cls))
        .sort()
        .slice(0, n)) {
        copyFileSync(join(SOURCE, split, cls, f), join(dir, f));
      }
    }
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Runs the launcher; once the run has written its first epoch, SIGKILLs rank 1's process (its second child). */
async function launchAndKill(dir: string, out: string, extra: string[]) {
  const launcher = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'senet.js'),
      'train',
      ...['--data', join(dir, 'folder'), '--model', 'simple-cnn', '--epochs', '3', '--batch-size', '64'],
      ...['--threads', '1', '--nproc-per-node', '2', '--dist-timeout', '120', '--out', out, ...extra],
    ],
    { env: { ...process.env, SENET_DATA: join(dir, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let stdout = '';
  launcher.stderr.on('data', (d) => {
    stderr += d;
  });
  launcher.stdout.on('data', (d) => {
    stdout += d;
  });
  const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
  let workers: number[] = [];
  for (
    let i = 0;
    i < 600 && !(existsSync(join(out, 'metrics.jsonl')) && readFileSync(join(out, 'metrics.jsonl'), 'utf8'));
    ++i
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  workers = execFileSync('ps', ['-o', 'pid=', '--ppid', String(launcher.pid)], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .map(Number)
    .sort((a, b) => a - b);
  assert.equal(workers.length, 2, 'two workers run');
  const killedAt = Date.now();
  process.kill(workers[1], 'SIGKILL');
  const code = await exited;
  return { code, stderr, stdout, workers, seconds: (Date.now() - killedAt) / 1000 };
}

describe('senet train --nproc-per-node', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'senet-launch-'));
    makeFolder(join(dir, 'folder'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a killed rank: the launcher stops the others and exits non-zero naming it', async () => {
    const r = await launchAndKill(dir, join(dir, 'run-a'), []);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`training failed: rank 1 \\(pid ${r.workers[1]}\\) was killed by SIGKILL`));
    assert.ok(r.seconds < 60, `stopped ${r.seconds} s after the kill`);
    assert.ok(!alive(r.workers[0]), 'rank 0 is not left behind');
    // Rank 0 alone wrote the run and printed the epoch line.
    assert.match(r.stdout, /Epoch \[1\/3\]/);
    assert.equal((r.stdout.match(/Epoch \[1\/3\]/g) ?? []).length, 1);
  });

  it('--max-restarts 1: the group restarts from the last checkpoint and finishes the run', async () => {
    const out = join(dir, 'run-b');
    const r = await launchAndKill(dir, out, ['--max-restarts', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /rank 1 \(pid \d+\) was killed by SIGKILL/);
    assert.match(r.stderr, /restarting the group \(restart 1 of 1\) from the last checkpoint/);
    const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).epoch);
    assert.deepEqual(epochs, [1, 2, 3]);
  });
});
