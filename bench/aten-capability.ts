// Does ATen's AVX-512 kernel set make senet faster here? Debian's libtorch dispatches its own element-wise and
// reduction kernels at AVX2 ("CPU capability usage: AVX2") although this CPU has AVX-512; the environment
// variable ATEN_CPU_CAPABILITY=avx512 selects the AVX-512 builds. libtorch reads it once, at its first kernel
// dispatch, so each setting runs in a child process of its own (this script with --child), in alternating
// rounds; the table gives median milliseconds per call of each and the median of the per-round ratios
// default/avx512 (> 1: AVX-512 faster). Workloads: element-wise ops, reductions, BatchNorm + ReLU and the SE
// path (squeeze, two linear layers, excite) forward and backward, all channels-last, and a whole se-resnet20
// training step (`senet bench`).
// Usage: node dist/bench/aten-capability.js [--rounds 5] [--threads 2] [--no-train-step] [--out FILE.md]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../src/util/statistics.js';
import { arg } from './args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The child: times each workload under whatever capability libtorch picked, prints one JSON line of ms per call. */
async function child(threads: number): Promise<void> {
  const torch = await import('../src/torch/index.js');
  const { F } = torch;
  torch.setNumThreads(threads);
  torch.manualSeed(0);
  const cl = (t: import('../src/torch/index.js').Tensor) => torch.keep(t.contiguous('channelsLast'));
  // A layer's activation of se-resnet20's middle stage at batch 128: [128, 32, 16, 16], 1M floats.
  const x = cl(torch.randn([128, 32, 16, 16]));
  const y = cl(torch.randn([128, 32, 16, 16]));
  const w1 = torch.keep(torch.randn([2, 32]).mul(0.1));
  const w2 = torch.keep(torch.randn([32, 2]).mul(0.1));
  const bnWeight = torch.keep(torch.ones([32]));
  const bnBias = torch.keep(torch.zeros([32]));
  const workloads: Record<string, () => void> = {
    add: () => x.add(y),
    mul: () => x.mul(y),
    relu: () => x.relu(),
    gelu: () => F.gelu(x),
    sigmoid: () => x.sigmoid(),
    'sum (all)': () => x.sum(),
    'mean over H, W': () => x.mean([2, 3]),
    'amax over H, W': () => x.amax([2, 3]),
    'BN + ReLU fwd+bwd': () => {
      const input = x.detach().requiresGrad_(true);
      F.batchNorm(input, null, null, {
        weight: bnWeight.detach().requiresGrad_(true),
        bias: bnBias.detach().requiresGrad_(true),
        training: true,
      })
        .relu()
        .sum()
        .backward();
    },
    'SE fwd+bwd': () => {
      const input = x.detach().requiresGrad_(true);
      const s = input.mean([2, 3]);
      const e = F.linear(F.linear(s, w1).relu(), w2).sigmoid();
      input
        .mul(e.view(128, 32, 1, 1))
        .sum()
        .backward();
    },
  };
  const ms: Record<string, number> = {};
  for (const [name, fn] of Object.entries(workloads)) {
    for (let i = 0; i < 3; i++) torch.tidy(fn); // warm-up: allocator, kernels
    const calls = 20;
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) torch.tidy(fn);
    ms[name] = Number(process.hrtime.bigint() - start) / 1e6 / calls;
  }
  console.log(JSON.stringify(ms));
}

/** One round of one setting: avx512, or libtorch's own choice (the variable removed from the environment). */
function run(avx512: boolean, threads: number): Record<string, number> {
  const { ATEN_CPU_CAPABILITY: _, ...inherited } = process.env;
  const env = avx512 ? { ...inherited, ATEN_CPU_CAPABILITY: 'avx512' } : inherited;
  const common = { cwd: ROOT, encoding: 'utf8' as const, env };
  const text = execFileSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--child', '--threads', String(threads)],
    common,
  );
  const ms = JSON.parse(text.trim().split('\n').pop()!) as Record<string, number>;
  if (process.argv.includes('--no-train-step')) return ms;
  const step = execFileSync(
    process.execPath,
    [
      join(ROOT, 'bin', 'senet.js'),
      'bench',
      '--model',
      'se-resnet20',
      '--batch',
      '128',
      '--threads',
      String(threads),
      '--json',
    ],
    common,
  );
  const train = (JSON.parse(step.trim().split('\n').pop()!) as { train_img_s: number }).train_img_s;
  ms['se-resnet20 train step (batch 128)'] = (128 / train) * 1000;
  return ms;
}

const threads = Number(arg('threads', '2'));
if (process.argv.includes('--child')) {
  await child(threads);
} else {
  const rounds = Number(arg('rounds', '5'));
  const out = arg('out', join(ROOT, 'bench', 'results', 'aten-capability.md'));
  const base: Record<string, number>[] = [];
  const avx512: Record<string, number>[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which setting goes first, so neither always runs on a warmer (or busier) machine.
    if (r % 2 === 0) {
      base.push(run(false, threads));
      avx512.push(run(true, threads));
    } else {
      avx512.push(run(true, threads));
      base.push(run(false, threads));
    }
    console.error(`round ${r + 1}/${rounds} done`);
  }
  const lines = [
    `# ATEN_CPU_CAPABILITY=avx512 against libtorch's default (AVX2 here) (${new Date().toISOString()})`,
    '',
    `${rounds} alternating rounds, ${threads} threads, tensors [128, 32, 16, 16] channels-last; ms per call, medians; ` +
      'ratio: median of the per-round ratios default/avx512 (> 1: AVX-512 faster).',
    '',
    '| workload | default ms | avx512 ms | default/avx512 |',
    '|---|---:|---:|---:|',
    ...Object.keys(base[0]).map(
      (k) =>
        `| ${k} | ${median(base.map((b) => b[k])).toFixed(3)} | ${median(avx512.map((a) => a[k])).toFixed(3)} | ` +
        `${median(base.map((b, i) => b[k] / avx512[i][k])).toFixed(2)}× |`,
    ),
    '',
    `Command: \`node dist/bench/aten-capability.js ${process.argv.slice(2).join(' ')}\``,
  ];
  console.log(lines.join('\n'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${lines.join('\n')}\n`);
  console.error(`written to ${out}`);
}
