// One optimizer step over a whole model's parameters (gradients already there), senet against PyTorch eager
// (bench/pytorch_optimizer_step.py, at its best case: PYTORCH_BEST_ENV), each per-parameter (PyTorch 1.13's CPU
// default) and multi-tensor (`foreach: true`). Rounds alternate which engine runs first; the table gives median
// milliseconds per step and the median of the per-round ratios senet/PyTorch on the same path.
// Usage: node dist/bench/optimizer-step.js [--rounds 3] [--models se-resnet56,seresnet50] [--steps 20] [--threads 2]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/torch/index.js';
import { createModel, modelName } from '../src/models/index.js';
import { PYTORCH_BEST_ENV } from './pytorch-best-env.js';
import { median } from '../src/util/statistics.js';
import { arg } from './args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const rounds = Number(arg('rounds', '3'));
const models = arg('models', 'se-resnet56,seresnet50').split(',');
const steps = Number(arg('steps', '20'));
const threads = Number(arg('threads', '2'));

const MAKERS = {
  sgd: (p: torch.Tensor[], foreach: boolean) =>
    new torch.optim.SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4, foreach }),
  adamw: (p: torch.Tensor[], foreach: boolean) => new torch.optim.AdamW(p, { lr: 1e-3, weightDecay: 0.01, foreach }),
};
const KEYS = Object.keys(MAKERS).flatMap((name) => [`${name}_single_ms`, `${name}_foreach_ms`]);

function senetTimes(shapes: number[][]): Record<string, number> {
  torch.setNumThreads(threads);
  torch.manualSeed(0);
  const params = shapes.map((s) => torch.keep(torch.randn(s).requiresGrad_()));
  const grads = shapes.map((s) => torch.keep(torch.randn(s)));
  const out: Record<string, number> = {};
  for (const [name, make] of Object.entries(MAKERS)) {
    for (const foreach of [false, true]) {
      const opt = make(params, foreach);
      params.forEach((p, i) => {
        p.grad = grads[i];
      });
      for (let i = 0; i < 2; i++) opt.step();
      const start = process.hrtime.bigint();
      for (let i = 0; i < steps; i++) opt.step();
      out[`${name}_${foreach ? 'foreach' : 'single'}_ms`] = Number(process.hrtime.bigint() - start) / 1e6 / steps;
      opt.dispose();
    }
  }
  for (const p of params) p.grad = null;
  torch.dispose([params, grads]);
  return out;
}

function pytorchTimes(shapesFile: string): Record<string, number> {
  const stdout = execFileSync(
    '/usr/bin/python3',
    [join(ROOT, 'bench', 'pytorch_optimizer_step.py'), shapesFile, String(steps), String(threads)],
    { env: { ...process.env, ...PYTORCH_BEST_ENV }, encoding: 'utf8' },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
}

const dir = mkdtempSync(join(tmpdir(), 'senet-optimizer-step-'));
const lines = [
  `Optimizer step alone (gradients set), ${threads} threads, ${steps} timed steps after 2 warm-up, ${rounds} rounds, medians; PyTorch at its best case (glibc malloc keeping freed memory).`,
  '',
  '| model (parameters) | optimizer, path | senet ms | PyTorch ms | senet/PyTorch |',
  '|---|---|---:|---:|---:|',
];
try {
  for (const name of models) {
    const model = createModel(modelName(name));
    const shapes = model.parameters().map((p) => p.shape);
    model.dispose();
    const shapesFile = join(dir, `${name}.json`);
    writeFileSync(shapesFile, JSON.stringify(shapes));
    const senet: Record<string, number>[] = [];
    const pytorch: Record<string, number>[] = [];
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        senet.push(senetTimes(shapes));
        pytorch.push(pytorchTimes(shapesFile));
      } else {
        pytorch.push(pytorchTimes(shapesFile));
        senet.push(senetTimes(shapes));
      }
    }
    for (const key of KEYS) {
      const ratio = median(senet.map((s, i) => s[key] / pytorch[i][key]));
      const label = key.replace('_ms', '').replace('_', ', ').replace('single', 'per parameter');
      lines.push(
        `| ${name} (${shapes.length}) | ${label} | ${median(senet.map((s) => s[key])).toFixed(2)} | ${median(pytorch.map((p) => p[key])).toFixed(2)} | ${ratio.toFixed(2)} |`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(lines.join('\n'));
