// Where inference time goes, operator by operator: senet's prepared inference model (InferenceModel, what
// `senet bench` times as infer_img_s) against PyTorch eager (bench/pytorch_inference_profile.py, the same
// reference models and workload as ../shared/reference/pytorch_bench.py), both under the same libtorch CPU
// profiler. Time is attributed to the operators the model code calls itself (the top level), so that
// aten::conv2d counts once with the convolution/_convolution/mkldnn_convolution calls it makes inside.
// The Amdahl bound PyTorch wall / senet convolution time is the best ratio senet could reach if every
// operator but the convolutions cost nothing. With --train the same is done for training steps as `senet bench`
// times them (zeroGrad, forward, cross-entropy, backward, SGD momentum step), against the same step in PyTorch;
// backward's calls are the autograd nodes (ConvolutionBackward0, ...), counted under their forward op's kind.
//
// PyTorch runs twice: as shipped, and with glibc's malloc told to keep freed memory. PyTorch eager gets
// every large tensor from malloc, which maps fresh pages from the kernel and unmaps them on free, so each
// op pays page faults on its output; senet's caching allocator (native/allocator.cc) reuses its blocks.
// The second run shows how much of the difference is that, rather than the operators themselves.
// Usage: npx tsc -p . && node dist/bench/inference-profile.js [--models se-resnet20,se-resnet56,seresnet50]
//        [--threads 1,2] [--steps 5] [--train] [--out bench/results/inference-profile.md]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/torch/index.js';
import { createModel, modelName } from '../src/models/index.js';
import { InferenceModel } from '../src/models/inference.js';
import { arg } from './args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = '/usr/bin/python3';
const PYTORCH_SCRIPT = join(ROOT, 'bench', 'pytorch_inference_profile.py');
/** glibc malloc settings under which freed memory stays in the process for reuse (no mmap/munmap per tensor). */
const MALLOC_KEEPS_MEMORY = {
  MALLOC_MMAP_THRESHOLD_: '4294967296',
  MALLOC_TRIM_THRESHOLD_: '68719476736',
  MALLOC_TOP_PAD_: '1073741824',
};

interface Workload {
  model: string;
  batch: number;
  size: number;
}
const WORKLOADS: Workload[] = [
  { model: 'se-resnet20', batch: 128, size: 32 },
  { model: 'se-resnet56', batch: 128, size: 32 },
  { model: 'seresnet50', batch: 16, size: 224 },
];

const models = arg('models', WORKLOADS.map((w) => w.model).join(',')).split(',');
const threadCounts = arg('threads', '1,2').split(',').map(Number);
const steps = Number(arg('steps', '5'));
const train = process.argv.includes('--train');
const out = arg('out', join(ROOT, 'bench', 'results', train ? 'training-profile.md' : 'inference-profile.md'));
for (const m of models) {
  if (!WORKLOADS.some((w) => w.model === m))
    throw new Error(`--models: unknown model '${m}', expected some of ${WORKLOADS.map((w) => w.model).join(', ')}`);
}
if (!threadCounts.every((t) => Number.isInteger(t) && t >= 1))
  throw new Error('--threads: expected positive integers such as 1,2');
if (!Number.isInteger(steps) || steps < 1)
  throw new Error(`--steps: expected a positive integer, got ${arg('steps', '')}`);

/** One engine's inference of one workload: wall ms per batch without and with the profiler, and the calls. */
interface EngineProfile {
  label: string;
  wallMs: number;
  profiledMs: number;
  events: torch.ProfilerEvent[];
  callerThread: number;
  note: string;
}

function timePerBatch(forward: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) forward();
  return Number(process.hrtime.bigint() - start) / 1e6 / steps;
}

function profileSenet(w: Workload, threads: number): EngineProfile {
  torch.setNumThreads(threads);
  torch.manualSeed(0);
  const model = createModel(modelName(w.model), { inputSize: w.size });
  const x = torch.keep(torch.randn(w.batch, 3, w.size, w.size));
  const y = torch.keep(torch.randint(0, 10, [w.batch]));
  try {
    const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const fast = train ? null : new InferenceModel(model, { sampleBatch: w.batch });
    const forward = fast
      ? () => fast.forward(x).dispose()
      : () =>
          torch.tidy(() => {
            optimizer.zeroGrad();
            torch.F.crossEntropy(model.call(x), y).backward();
            optimizer.step();
          });
    for (let i = 0; i < 2; i++) forward();
    const wallMs = timePerBatch(forward);
    const {
      events,
      callerThread,
      wallMs: profiledTotal,
    } = torch.profile(() => {
      for (let i = 0; i < steps; i++) forward();
    });
    return {
      label: 'senet',
      wallMs,
      profiledMs: profiledTotal / steps,
      events,
      callerThread,
      note: fast
        ? `InferenceModel, ${fast.foldedBatchNorms} BatchNorms folded into convolutions, ${fast.memoryFormat} memory format`
        : 'training step as senet bench times it (model in train mode, SGD momentum 0.9)',
    };
  } finally {
    model.dispose();
    torch.dispose([x, y]);
  }
}

function profilePytorch(w: Workload, threads: number, keepMemory: boolean): EngineProfile {
  const text = execFileSync(
    PYTHON,
    [
      PYTORCH_SCRIPT,
      w.model,
      '--batch',
      String(w.batch),
      '--size',
      String(w.size),
      '--threads',
      String(threads),
      '--steps',
      String(steps),
      ...(train ? ['--train'] : []),
    ],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: keepMemory ? { ...process.env, ...MALLOC_KEEPS_MEMORY } : process.env,
    },
  );
  const r = JSON.parse(text.trim().split('\n').pop()!) as {
    torch: string;
    wall_ms: number;
    profiled_ms: number;
    caller_thread: number;
    events: [string, number, number, number][];
  };
  const ranges = r.events.map(([name, startUs, endUs, thread]) => ({ name, startUs, endUs, thread }));
  return {
    label: keepMemory ? 'PyTorch†' : 'PyTorch',
    wallMs: r.wall_ms,
    profiledMs: r.profiled_ms,
    events: torch.nestRanges(ranges),
    callerThread: r.caller_thread,
    note: `torch ${r.torch}, ${train ? 'training step' : 'eager eval under no_grad'}${keepMemory ? ', glibc malloc keeping freed memory' : ''}`,
  };
}

// Kinds of top-level calls. In these models the views (flatten, unsqueeze, ...) and matmuls belong to the
// SE units and the classifier head; seresnet50's SE units are 1×1 convolutions and so count as convolution.
const CONVOLUTION = 'convolution (conv2d with its convolution/_convolution/mkldnn_convolution)';
const KINDS: { kind: string; ops: string[] }[] = [
  {
    kind: CONVOLUTION,
    ops: [
      'conv1d',
      'conv2d',
      'convolution',
      '_convolution',
      'mkldnn_convolution',
      'thnn_conv2d',
      '_slow_conv2d_forward',
    ],
  },
  { kind: 'batch_norm', ops: ['batch_norm', '_batch_norm_impl_index', 'native_batch_norm'] },
  { kind: 'relu / activations', ops: ['relu', 'clamp_min', 'hardtanh', 'silu', 'gelu', 'hardswish'] },
  {
    kind: 'SE path + head (mean, linear, sigmoid, mul, views)',
    ops: [
      'mean',
      'adaptive_avg_pool2d',
      'sum',
      'div',
      'linear',
      'addmm',
      'matmul',
      'mm',
      't',
      'sigmoid',
      'hardsigmoid',
      'tanh',
      'mul',
      'view',
      'flatten',
      'reshape',
      'unsqueeze',
      'squeeze',
      'slice',
      'expand',
      'select',
    ],
  },
  { kind: 'add (residual)', ops: ['add'] },
];
const OTHER = 'other';

/** Autograd nodes of backward (after 'autograd::engine::evaluate_function: '), by the forward op they differentiate. */
const BACKWARD_KINDS: [RegExp, string][] = [
  [/^(Convolution|MkldnnConvolution|ConvolutionBackward)/, CONVOLUTION],
  [/BatchNorm/, 'batch_norm'],
  [/^(Relu|Threshold|Gelu|Silu|Hardtanh)/, 'relu / activations'],
  [
    /^(Mean|Sum|Div|Addmm|Mm|T|Sigmoid|Mul|View|Reshape|Unsqueeze|Squeeze|Expand|Unsafe|Slice)/,
    'SE path + head (mean, linear, sigmoid, mul, views)',
  ],
  [/^Add/, 'add (residual)'],
  [/^(LogSoftmax|NllLoss|AccumulateGrad)/, 'loss and gradient accumulation'],
];
const OPTIMIZER = 'optimizer and zero_grad (add_, mul_, zero_, ...)';
const OPTIMIZER_OPS = ['add', 'mul', 'addcdiv', 'addcmul', 'zero', 'copy', 'lerp', 'fill', '_foreach_add', 'sqrt'];

/**
 * The kind of an operator, by its name without namespace and in-place underscore (aten::relu_ → relu); a
 * backward node by the op it differentiates. In training, in-place arithmetic at the top level is the optimizer's.
 */
function kindOf(name: string): string {
  const node = name.replace(/^autograd::engine::evaluate_function: /, '').replace(/^torch::autograd::/, '');
  if (node !== name) return BACKWARD_KINDS.find(([pattern]) => pattern.test(node))?.[1] ?? OTHER;
  if (name.startsWith('Optimizer.')) return OPTIMIZER; // PyTorch's record_function around step() and zero_grad()
  if (['aten::cross_entropy_loss', 'aten::ones_like'].includes(name)) return 'loss and gradient accumulation';
  if (train && name.endsWith('_') && OPTIMIZER_OPS.includes(name.replace(/^aten::/, '').replace(/_$/, '')))
    return OPTIMIZER;
  const op = name.replace(/^aten::/, '').replace(/_$/, '');
  return KINDS.find((k) => k.ops.includes(op))?.kind ?? OTHER;
}

interface KindTimes {
  ms: Map<string, number>;
  otherNames: Set<string>;
  betweenMs: number;
}

/** ms per batch of each kind of top-level call, the names that fell under "other", and the time between calls. */
function byKind(p: EngineProfile): KindTimes {
  const ms = new Map<string, number>();
  const otherNames = new Set<string>();
  let topMs = 0;
  for (const e of p.events) {
    if (e.depth !== 0 || e.thread !== p.callerThread) continue;
    const kind = kindOf(e.name);
    if (kind === OTHER) otherNames.add(e.name.replace(/^aten::/, ''));
    const perBatch = (e.endUs - e.startUs) / 1000 / steps;
    ms.set(kind, (ms.get(kind) ?? 0) + perBatch);
    topMs += perBatch;
  }
  return { ms, otherNames, betweenMs: Math.max(0, p.profiledMs - topMs) };
}

const lines: string[] = [];
const print = (line = '') => {
  console.log(line);
  lines.push(line);
};
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;

function report(w: Workload, threads: number, engines: EngineProfile[]): void {
  const kinds = engines.map(byKind);
  print(`## ${w.model}, batch ${w.batch}, ${w.size}×${w.size}, ${threads} thread${threads > 1 ? 's' : ''}`);
  print();
  for (const e of engines) print(`- ${e.label}: ${e.note}`);
  print();
  print(`| op kind (top-level calls) | ${engines.map((e) => `${e.label} ms/batch | ${e.label} share`).join(' | ')} |`);
  print(`|---|${engines.map(() => '---|---|').join('')}`);
  const row = (label: string, value: (k: KindTimes) => number) =>
    print(
      `| ${label} | ${kinds.map((k, i) => `${fmt(value(k))} | ${pct(value(k), engines[i].profiledMs)}`).join(' | ')} |`,
    );
  const kindNames = [...KINDS.map((k) => k.kind), ...(train ? ['loss and gradient accumulation', OPTIMIZER] : [])];
  for (const kind of kindNames) row(kind, (k) => k.ms.get(kind) ?? 0);
  const otherNames = [...new Set(kinds.flatMap((k) => [...k.otherNames]))].sort();
  row(`${OTHER}${otherNames.length ? ` (${otherNames.join(', ')})` : ''}`, (k) => k.ms.get(OTHER) ?? 0);
  row('between calls (JS / Python, binding, profiler)', (k) => k.betweenMs);
  print(`| **profiled total** | ${engines.map((e) => `${fmt(e.profiledMs)} | 100%`).join(' | ')} |`);
  print(`| **wall without profiler** | ${engines.map((e) => `${fmt(e.wallMs)} |`).join(' | ')} |`);
  print();
  const [senet, ...pytorch] = engines;
  const senetConv = kinds[0].ms.get(CONVOLUTION) ?? 0;
  for (const p of pytorch) {
    print(
      `- ${p.label} wall / senet wall (measured ratio): **${(p.wallMs / senet.wallMs).toFixed(2)}×**; ` +
        `${p.label} wall / senet convolution time (Amdahl bound): **${(p.wallMs / senetConv).toFixed(2)}×**`,
    );
  }
  print();

  // The leaves: where each engine's time is actually spent, by self time.
  const summaries = engines.map((e) => torch.summarizeProfile(e.events));
  const selfOf = (i: number, name: string) => summaries[i].find((r) => r.name === name);
  const names = [...new Set(summaries.flatMap((rows) => rows.slice(0, 8).map((r) => r.name)))];
  const weight = (name: string) => summaries.reduce((s, _, i) => s + (selfOf(i, name)?.selfMs ?? 0), 0);
  names.sort((a, b) => weight(b) - weight(a));
  print('<details><summary>largest self times (per batch)</summary>');
  print();
  print(`| op | ${engines.map((e) => `${e.label} calls | ${e.label} self ms`).join(' | ')} |`);
  print(`|---|${engines.map(() => '---|---|').join('')}`);
  for (const name of names) {
    print(
      `| ${name} | ${engines
        .map((_, i) => {
          const r = selfOf(i, name);
          return `${r ? r.calls / steps : 0} | ${fmt((r?.selfMs ?? 0) / steps)}`;
        })
        .join(' | ')} |`,
    );
  }
  print();
  print('</details>');
  print();
}

if (!existsSync(PYTHON)) {
  console.error(`needs Debian's python3-torch at ${PYTHON} (bash scripts/setup.sh --reference)`);
  process.exit(1);
}

print(`# ${train ? 'Training' : 'Inference'} profile: senet vs PyTorch eager (${new Date().toISOString()})`);
print();
print(
  `Command: \`npx tsc -p . && node dist/bench/inference-profile.js --models ${models.join(',')} --threads ${threadCounts.join(',')} --steps ${steps}${train ? ' --train' : ''}\``,
);
print();
print(
  `ms/batch: averages over ${steps} profiled ${train ? 'training steps' : 'forward passes'} after 2 warm-up ones, all engines under libtorch's CPU profiler ` +
    '(legacy, CPU times only). Kinds sum the durations of the calls the model code makes itself (top level), so nested calls count once; ' +
    '"between calls" is the profiled wall time spent in no call (interpreter, binding, profiler). Shares are of the profiled wall time. ' +
    `"Wall without profiler": the same ${steps} ${train ? 'steps' : 'forward passes'} timed without it. ` +
    `PyTorch† is PyTorch with glibc malloc keeping freed memory (${Object.entries(MALLOC_KEEPS_MEMORY)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}), ` +
    "i.e. reusing memory as senet's caching allocator does instead of faulting in fresh pages for every large tensor.",
);
print();
for (const w of WORKLOADS.filter((x) => models.includes(x.model))) {
  for (const threads of threadCounts) {
    report(w, threads, [profileSenet(w, threads), profilePytorch(w, threads, false), profilePytorch(w, threads, true)]);
  }
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`written to ${relative(process.cwd(), out) || out}`);
