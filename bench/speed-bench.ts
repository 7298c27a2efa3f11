// `npm run bench`: senet against PyTorch eager (../shared/reference/pytorch_bench.py, Debian's
// python3-torch) on the same machine, in the same go, alternating engine runs so drift hits both alike.
// For each model and thread count it prints median images/s of each engine and the median of the
// per-round ratios senet/PyTorch, for training and inference, plus the cost of one small op call.
// Usage: npm run bench [-- --rounds 3 --models simple-cnn,se-resnet20 --threads 1,2 --out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REFERENCE = resolve(ROOT, '..', 'shared', 'reference');
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

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const rounds = Number(arg('rounds', '3'));
const models = arg('models', WORKLOADS.map((w) => w.model).join(',')).split(',');
const threadCounts = arg('threads', '1,2').split(',').map(Number);
const out = arg('out', join(ROOT, 'bench', 'results', 'speed.md'));

interface Speeds {
  train_img_s: number;
  infer_img_s: number;
  infer_bf16_img_s?: number;
}

function runJson(command: string, args: string[], cwd: string): Record<string, unknown> {
  const text = execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
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

function pytorch(w: Workload, threads: number): Speeds {
  return runJson(
    PYTHON,
    ['pytorch_bench.py', w.model, '--batch', String(w.batch), '--size', String(w.size), '--threads', String(threads)],
    REFERENCE,
  ) as unknown as Speeds;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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
for (let r = 0; r < rounds; r++) {
  const s = runJson(process.execPath, [join(ROOT, 'dist', 'bench', 'op-overhead.js')], ROOT);
  opSenet.push(s.op_us as number);
  opSenetUnscoped.push(s.op_us_unscoped as number);
  opTorch.push(runJson(PYTHON, [join(ROOT, 'bench', 'pytorch_op_overhead.py')], ROOT).op_us as number);
}

print(`# senet vs PyTorch eager (${new Date().toISOString()}, ${rounds} alternating rounds, medians)`);
print();
print(
  `One small op call (a + b on 1-element tensors, result freed): senet ${median(opSenet).toFixed(2)} µs inside a tidy scope ` +
    `(${median(opSenetUnscoped).toFixed(2)} µs outside any scope, where the result also goes under the GC safety net), ` +
    `PyTorch eager ${median(opTorch).toFixed(2)} µs; senet/PyTorch cost ${(median(opSenet) / median(opTorch)).toFixed(2)}×.`,
);
print();
print(
  '| model | batch | input | threads | train senet | train PyTorch | train ratio | infer senet | infer PyTorch | infer ratio | infer senet bf16 | bf16 ratio |',
);
print('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const w of WORKLOADS.filter((x) => models.includes(x.model))) {
  for (const threads of threadCounts) {
    const s: Speeds[] = [];
    const p: Speeds[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which engine goes first, so neither always runs on a warmer (or busier) machine.
      if (r % 2 === 0) {
        s.push(senet(w, threads));
        p.push(pytorch(w, threads));
      } else {
        p.push(pytorch(w, threads));
        s.push(senet(w, threads));
      }
    }
    const trainRatio = median(s.map((x, i) => x.train_img_s / p[i].train_img_s));
    const inferRatio = median(s.map((x, i) => x.infer_img_s / p[i].infer_img_s));
    const bf16Ratio = median(s.map((x, i) => (x.infer_bf16_img_s ?? NaN) / p[i].infer_img_s));
    print(
      `| ${w.model} | ${w.batch} | ${w.size}×${w.size} | ${threads} | ${median(s.map((x) => x.train_img_s)).toFixed(1)} | ` +
        `${median(p.map((x) => x.train_img_s)).toFixed(1)} | ${trainRatio.toFixed(2)}× | ${median(s.map((x) => x.infer_img_s)).toFixed(1)} | ` +
        `${median(p.map((x) => x.infer_img_s)).toFixed(1)} | ${inferRatio.toFixed(2)}× | ` +
        `${median(s.map((x) => x.infer_bf16_img_s ?? NaN)).toFixed(1)} | ${bf16Ratio.toFixed(2)}× |`,
    );
  }
}
print();
print(
  'images/s: medians over rounds; ratio: median of the per-round ratios senet/PyTorch (> 1 means senet is faster).',
);
print(
  'senet inference: eval mode with BatchNorm folded into the convolutions, no autograd, the faster memory format; ' +
    'bf16: the same under CPU bfloat16 autocast (numerics differ slightly; an option, not the default). PyTorch: eager eval under no_grad.',
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`\nwritten to ${out}`);
