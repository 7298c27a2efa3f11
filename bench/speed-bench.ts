// `npm run bench`: senet against PyTorch eager (../shared/reference/pytorch_bench.py, Debian's
// python3-torch) on the same machine, in the same go, rotating the order of the engine runs each round so
// drift hits all alike. PyTorch runs twice per round: as shipped, and at its best case here, the same
// script with glibc malloc told to keep and reuse large blocks (PYTORCH_BEST_ENV; a jemalloc preload made
// Debian's PyTorch 1.13 about ten times slower, so it is not the baseline). For each model and thread count
// it prints median images/s of each engine and the medians of the per-round ratios senet/PyTorch and
// senet/PyTorch-best, for training and inference, plus the cost of one small op call.
// Usage: npm run bench [-- --rounds 3 --models simple-cnn,se-resnet20 --threads 1,2 --out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTORCH_BEST_ENV } from './pytorch-best-env.js';
import { median } from '../src/util/statistics.js';
import { arg } from './args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// ../shared beside the checkout, as in time-to-accuracy.ts (a git worktree elsewhere finds it by SENET_SHARED_DIR or /work/shared).
const REFERENCE =
  [process.env.SENET_SHARED_DIR, resolve(ROOT, '..', 'shared'), '/work/shared']
    .filter((d): d is string => !!d)
    .map((d) => join(d, 'reference'))
    .find((d) => existsSync(join(d, 'pytorch_bench.py'))) ?? resolve(ROOT, '..', 'shared', 'reference');
const PYTHON = '/usr/bin/python3';

interface Workload {
  model: string;
  batch: number;
  size: number;
}
const WORKLOADS: Workload[] = [
  { model: 'simple-cnn', batch: 128, size: 32 },
  { model: 'se-resnet20', batch: 128, size: 32 },
  { model: 'se-resnet56', batch: 128, size: 32 },
  { model: 'seresnet50', batch: 16, size: 224 },
];

const rounds = Number(arg('rounds', '3'));
const models = arg('models', WORKLOADS.map((w) => w.model).join(',')).split(',');
const threadCounts = arg('threads', '1,2').split(',').map(Number);
const out = arg('out', join(ROOT, 'bench', 'results', 'speed.md'));

interface Speeds {
  train_img_s: number;
  infer_img_s: number;
  infer_bf16_img_s?: number;
}

function runJson(
  command: string,
  args: string[],
  cwd: string,
  env: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  const text = execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  return JSON.parse(text.trim().split('\n').pop()!) as Record<string, unknown>;
}

function senet(w: Workload, threads: number): Speeds {
  return runJson(
    process.execPath,
    [
      join(ROOT, 'bin', 'senet.js'),
      'bench',
      '--model',
      w.model,
      '--batch',
      String(w.batch),
      '--size',
      String(w.size),
      '--threads',
      String(threads),
      '--json',
    ],
    ROOT,
  ) as unknown as Speeds;
}

function pytorch(w: Workload, threads: number, env: Readonly<Record<string, string>> = {}): Speeds {
  return runJson(
    PYTHON,
    ['pytorch_bench.py', w.model, '--batch', String(w.batch), '--size', String(w.size), '--threads', String(threads)],
    REFERENCE,
    env,
  ) as unknown as Speeds;
}

if (!existsSync(join(REFERENCE, 'pytorch_bench.py')) || !existsSync(PYTHON)) {
  console.error(`needs ${REFERENCE}/pytorch_bench.py and Debian's python3-torch (bash scripts/setup.sh --reference)`);
  process.exit(1);
}

const lines: string[] = [];
const print = (line = '') => {
  console.log(line);
  lines.push(line);
};

// Per-call overhead: alternate the two engines, median of rounds.
const opSenet: number[] = [];
const opSenetUnscoped: number[] = [];
const opTorch: number[] = [];
const opTorchBest: number[] = [];
for (let r = 0; r < rounds; r++) {
  const s = runJson(process.execPath, [join(ROOT, 'dist', 'bench', 'op-overhead.js')], ROOT);
  opSenet.push(s.op_us as number);
  opSenetUnscoped.push(s.op_us_unscoped as number);
  opTorch.push(runJson(PYTHON, [join(ROOT, 'bench', 'pytorch_op_overhead.py')], ROOT).op_us as number);
  opTorchBest.push(
    runJson(PYTHON, [join(ROOT, 'bench', 'pytorch_op_overhead.py')], ROOT, PYTORCH_BEST_ENV).op_us as number,
  );
}

const bestEnv = Object.entries(PYTORCH_BEST_ENV)
  .map(([k, v]) => `${k}=${v}`)
  .join(' ');
print(`# senet vs PyTorch eager (${new Date().toISOString()}, ${rounds} rotating rounds, medians)`);
print();
print(
  `One small op call (a + b on 1-element tensors, result freed): senet ${median(opSenet).toFixed(2)} µs inside a tidy scope ` +
    `(${median(opSenetUnscoped).toFixed(2)} µs outside any scope, where the result also goes under the GC safety net), ` +
    `PyTorch eager ${median(opTorch).toFixed(2)} µs (best case ${median(opTorchBest).toFixed(2)} µs); ` +
    `senet/PyTorch cost ${(median(opSenet) / median(opTorch)).toFixed(2)}×.`,
);
print();
print(
  '| model | batch | input | threads | train senet | train PyTorch | train PyTorch best | train ratio | train ratio vs best | ' +
    'infer senet | infer PyTorch | infer PyTorch best | infer ratio | infer ratio vs best | infer senet bf16 | bf16 ratio vs best |',
);
print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
type Engine = 'senet' | 'pytorch' | 'best';
const ENGINES: Engine[] = ['senet', 'pytorch', 'best'];
for (const w of WORKLOADS.filter((x) => models.includes(x.model))) {
  for (const threads of threadCounts) {
    const runs: Record<Engine, Speeds[]> = { senet: [], pytorch: [], best: [] };
    for (let r = 0; r < rounds; r++) {
      // Rotate which engine goes first, so none always runs on a warmer (or busier) machine.
      for (let k = 0; k < ENGINES.length; k++) {
        const engine = ENGINES[(r + k) % ENGINES.length];
        if (engine === 'senet') runs.senet.push(senet(w, threads));
        else if (engine === 'pytorch') runs.pytorch.push(pytorch(w, threads));
        else runs.best.push(pytorch(w, threads, PYTORCH_BEST_ENV));
      }
    }
    const s = runs.senet;
    const med = (xs: Speeds[], key: keyof Speeds) => median(xs.map((x) => x[key] ?? NaN)).toFixed(1);
    const ratio = (key: keyof Speeds, against: Speeds[], own: keyof Speeds = key) =>
      `${median(s.map((x, i) => (x[own] ?? NaN) / (against[i][key] ?? NaN))).toFixed(2)}×`;
    print(
      `| ${w.model} | ${w.batch} | ${w.size}×${w.size} | ${threads} | ${med(s, 'train_img_s')} | ` +
        `${med(runs.pytorch, 'train_img_s')} | ${med(runs.best, 'train_img_s')} | ${ratio('train_img_s', runs.pytorch)} | ` +
        `${ratio('train_img_s', runs.best)} | ${med(s, 'infer_img_s')} | ${med(runs.pytorch, 'infer_img_s')} | ` +
        `${med(runs.best, 'infer_img_s')} | ${ratio('infer_img_s', runs.pytorch)} | ${ratio('infer_img_s', runs.best)} | ` +
        `${med(s, 'infer_bf16_img_s')} | ${ratio('infer_img_s', runs.best, 'infer_bf16_img_s')} |`,
    );
  }
}
print();
print(
  'images/s: medians over rounds; ratio: median of the per-round ratios senet/PyTorch (> 1 means senet is faster). ' +
    `"PyTorch": Debian's python3-torch as shipped; "PyTorch best": the same script with ${bestEnv}, ` +
    "glibc malloc keeping and reusing large blocks, PyTorch's best case on this machine.",
);
print(
  'senet inference: eval mode with BatchNorm folded into the convolutions, no autograd, the faster memory format; ' +
    'bf16: the same under CPU bfloat16 autocast (numerics differ slightly; an option, not the default), against float32 PyTorch best. ' +
    'PyTorch: eager eval under no_grad.',
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`\nwritten to ${out}`);
