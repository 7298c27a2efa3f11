// `senet train --nproc-per-node 2`: a rank killed mid-run makes the launcher stop the other rank and exit
// non-zero naming the dead one (no orphans); with --max-restarts 1 the group restarts from the last checkpoint
// and finishes the run.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as torch from '../../src/torch/index.js';
import { loadSafetensors } from '../../src/torch/io/index.js';
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

/** `senet train`'s arguments for one epoch of simple-cnn on the folder, streamed, global batch 64. */
const STREAMED_RUN = (dir: string, out: string) => [
  ...['--data', join(dir, 'folder'), '--model', 'simple-cnn', '--epochs', '1', '--batch-size', '64'],
  ...['--data-mode', 'stream', '--image-size', '32', '--augment', 'none', '--threads', '1', '--out', out],
];

/** Runs `senet train` to the end (2 processes when `nproc` is 2); returns its stdout. */
function trainRun(dir: string, out: string, nproc: number): string {
  return execFileSync(
    process.execPath,
    [
      join(ROOT, 'bin', 'senet.js'),
      'train',
      ...STREAMED_RUN(dir, out),
      ...(nproc > 1 ? ['--nproc-per-node', String(nproc)] : []),
    ],
    { env: { ...process.env, SENET_DATA: join(dir, 'cache') }, encoding: 'utf8' },
  );
}

/** Whether this process may make network namespaces (root with iproute2): the two-node test needs them. */
const NETNS = (() => {
  const probe = `senet-probe${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0) return false;
  spawnSync('ip', ['netns', 'del', probe]);
  return true;
})();

describe('senet train --nproc-per-node', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'senet-launch-'));
    makeFolder(join(dir, 'folder'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a streamed folder: 2 processes × 32 end as 1 process × 64; evaluation and metrics cover the group', () => {
    const [one, two] = [join(dir, 'stream-1'), join(dir, 'stream-2')];
    trainRun(dir, one, 1);
    const stdout = trainRun(dir, two, 2);
    assert.equal((stdout.match(/Epoch \[1\/1\]/g) ?? []).length, 1, stdout);
    const weights = [one, two].map(
      (run) => loadSafetensors(join(run, 'checkpoints', 'last', 'model.safetensors')).tensors,
    );
    for (const [name, w] of Object.entries(weights[0])) {
      const d = torch.tidy(() => w.sub(weights[1][name]).abs().max().item());
      assert.ok(d < 1e-5, `${name}: 1 process vs 2 processes, max |Δw| = ${d}`);
    }
    const metrics = [one, two].map((run) => JSON.parse(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim()));
    // Each rank evaluated half of the 32 test images; the counts were summed over the ranks.
    const evals = [one, two].map((run) => JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')));
    assert.equal(evals[1].count, 32);
    assert.equal(metrics[1].test_acc, metrics[0].test_acc);
    assert.ok(
      Math.abs(metrics[1].test_loss - metrics[0].test_loss) < 1e-5,
      `${metrics[1].test_loss} vs ${metrics[0].test_loss}`,
    );
    // The training loss is the whole group's (both ranks' batches), not rank 0's half.
    assert.ok(
      Math.abs(metrics[1].train_loss - metrics[0].train_loss) < 1e-5,
      `${metrics[1].train_loss} vs ${metrics[0].train_loss}`,
    );
    assert.ok(Math.abs(metrics[1].train_acc - metrics[0].train_acc) < 1e-9);
    torch.dispose(weights.flatMap((w) => Object.values(w)));
  });

  it('two nodes (two network namespaces joined by a veth pair): the same command on each, --node-rank 0 and 1', {
    skip: !NETNS && 'needs root to make network namespaces (ip netns)',
  }, async () => {
    const [a, b] = [`senet-a${process.pid}`, `senet-b${process.pid}`];
    const sh = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    try {
      sh('netns', 'add', a);
      sh('netns', 'add', b);
      sh('link', 'add', 'sva', 'netns', a, 'type', 'veth', 'peer', 'name', 'svb', 'netns', b);
      for (const [ns, dev, ip] of [
        [a, 'sva', '10.77.0.1/24'],
        [b, 'svb', '10.77.0.2/24'],
      ]) {
        sh('-n', ns, 'addr', 'add', ip, 'dev', dev);
        sh('-n', ns, 'link', 'set', dev, 'up');
        sh('-n', ns, 'link', 'set', 'lo', 'up');
      }
      const out = join(dir, 'two-nodes');
      const node = (ns: string, dev: string, rank: number) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(
            'ip',
            ['netns', 'exec', ns, process.execPath, join(ROOT, 'bin', 'senet.js'), 'train', ...STREAMED_RUN(dir, out)]
              .concat(['--nnodes', '2', '--node-rank', String(rank), '--nproc-per-node', '1'])
              .concat(['--master-addr', '10.77.0.1', '--master-port', '29577', '--dist-timeout', '60']),
            {
              env: { ...process.env, SENET_DATA: join(dir, `cache-${rank}`), GLOO_SOCKET_IFNAME: dev },
              stdio: ['ignore', 'ignore', 'pipe'],
            },
          );
          let stderr = '';
          child.stderr.on('data', (d) => {
            stderr += d;
          });
          child.on('exit', (code) => resolve({ code, stderr }));
        });
      const results = await Promise.all([node(a, 'sva', 0), node(b, 'svb', 1)]);
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      // Node 0 wrote the run: the weights of one process with the global batch (the streamed test's run).
      const single = join(dir, 'stream-1');
      if (!existsSync(single)) trainRun(dir, single, 1);
      const [w1, w2] = [single, out].map(
        (run) => loadSafetensors(join(run, 'checkpoints', 'last', 'model.safetensors')).tensors,
      );
      for (const [name, w] of Object.entries(w1)) {
        const d = torch.tidy(() => w.sub(w2[name]).abs().max().item());
        assert.ok(d < 1e-5, `${name}: one process vs two nodes, max |Δw| = ${d}`);
      }
      torch.dispose([...Object.values(w1), ...Object.values(w2)]);
    } finally {
      for (const ns of [a, b]) spawnSync('ip', ['netns', 'del', ns]);
    }
  });

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
