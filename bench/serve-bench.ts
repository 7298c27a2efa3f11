// Load test of `senet serve`'s HTTP service on loopback: requests/s and p50/p99 latency at several
// concurrencies, for the same Fastify service with two predictors side by side: libtorch (senet's
// own, BatchNorm folded) and onnxruntime-node running the model as `senet export` writes it. Each
// service runs in its own child process (this script with --child), the load comes from autocannon in
// this one; the engines take turns at each step, round after round, so that drift in the machine's load
// hits both alike, and the table gives medians over rounds and the median of the per-round ratios.
// Each run is bounded by a request count and a time limit. The weights are freshly initialised (speed
// does not depend on their values); each model gets a real photo of its input size range to decode.
// Usage: tsc -p . && node dist/bench/serve-bench.js [--rounds 3] [--models se-resnet20,seresnet50]
//        [--concurrency 1,8,32] [--threads 1] [--engines libtorch,onnxruntime-node] [--out FILE]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/torch/index.js';
import { createModel, modelName } from '../src/models/index.js';
import { NORMALIZATIONS } from '../src/data/index.js';
import { loadTrainedModel, weightsMetadata, type ModelSpec } from '../src/train/trained-model.js';
import { exportOnnx } from '../src/export/onnx/index.js';
import {
  createService,
  DEFAULT_LIMITS,
  libtorchPredictor,
  servedModelOf,
  type Predictor,
} from '../src/export/serve/index.js';
import { onnxPredictor } from './onnx-predictor.js';
import { median } from '../src/util/statistics.js';
import { arg } from './args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The shared data folder as the tests find it: $SENET_SHARED_DIR, else ../shared beside the checkout, else /work/shared.
const DATASETS = join(
  [process.env.SENET_SHARED_DIR, join(ROOT, '..', 'shared'), '/work/shared'].find(
    (d): d is string => !!d && existsSync(join(d, 'datasets')),
  ) ?? join(ROOT, '..', 'shared'),
  'datasets',
);

interface Workload {
  model: string;
  size: number;
  classes: number;
  normalize: keyof typeof NORMALIZATIONS;
  /** The image sent with every request. */
  image: string;
  /** Requests per run at each concurrency (at least the concurrency), and the time limit of a run. */
  requests: (concurrency: number) => number;
  seconds: number;
}

const WORKLOADS: Workload[] = [
  {
    model: 'se-resnet20',
    size: 32,
    classes: 10,
    normalize: 'cifar10',
    image: join(DATASETS, 'cifar10-jpeg', 'test', 'cat', '0000.jpg'),
    requests: (c) => Math.max(300, 25 * c),
    seconds: 20,
  },
  {
    model: 'seresnet50',
    size: 224,
    classes: 1000,
    normalize: 'imagenet',
    image: join(DATASETS, 'clothing-small', 'test', 'dress', '06a00c0f-5f9a-410d-a7da-3881a9df3a71.jpg'),
    requests: (c) => Math.max(12, 2 * c),
    seconds: 40,
  },
];

const ENGINES = ['libtorch', 'onnxruntime-node'] as const;
type Engine = (typeof ENGINES)[number];

// ---- the child: one service, one engine --------------------------------------------------------------

async function child(): Promise<void> {
  const engine = arg('engine', 'libtorch') as Engine;
  const threads = Number(arg('threads', '2'));
  torch.setNumThreads(threads);
  const trained = loadTrainedModel({ weights: arg('weights', '') });
  const model = servedModelOf(trained);
  let predictor: Predictor;
  if (engine === 'libtorch') {
    predictor = libtorchPredictor(trained, { sampleBatch: 8 });
  } else {
    trained.model.dispose();
    predictor = await onnxPredictor(arg('onnx', ''), model.inputShape, threads);
  }
  const service = await createService({ model, predictor });
  const url = await service.listen(0, '127.0.0.1');
  process.stdout.write(`listening on ${url}\n`);
  process.once('SIGTERM', () => void service.close().then(() => process.exit(0)));
}

// ---- the parent: models, services, load -------------------------------------------------------------

interface Service {
  engine: Engine;
  url: string;
  process: ChildProcess;
}

function startChild(engine: Engine, weights: string, onnx: string, threads: number): Promise<Service> {
  const proc = spawn(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      '--child',
      '--engine',
      engine,
      '--weights',
      weights,
      '--onnx',
      onnx,
      '--threads',
      String(threads),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (chunk) => {
      out += chunk;
      const found = /listening on (\S+)/.exec(out);
      if (found) resolve({ engine, url: found[1], process: proc });
    });
    proc.on('close', (code) => reject(new Error(`the ${engine} service exited (${code}) before listening`)));
  });
}

function stopChild(service: Service): Promise<void> {
  return new Promise((resolve) => {
    service.process.once('close', () => resolve());
    service.process.kill('SIGTERM');
  });
}

/** Weights with senet's metadata and the same model exported by `senet export`, in `dir`. */
function prepareModel(w: Workload, dir: string): { weights: string; onnx: string } {
  const spec: ModelSpec = {
    name: w.model,
    options: { numClasses: w.classes, inChannels: 3, inputSize: [w.size, w.size] },
  };
  const model = createModel(modelName(w.model), spec.options);
  const weights = join(dir, `${w.model}.safetensors`);
  const { mean, std } = NORMALIZATIONS[w.normalize];
  const classes = Array.from({ length: w.classes }, (_, i) => `class ${i}`);
  torch.io.saveSafetensors(
    model.stateDict(),
    weights,
    weightsMetadata(spec, { classes, mean: [...mean], std: [...std] }),
  );
  model.dispose();
  const onnx = join(dir, `${w.model}.onnx`);
  exportOnnx({ weights, output: onnx });
  return { weights, onnx };
}

interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  completed: number;
  failed: number;
}

/** One autocannon run: `amount` POSTs of the image with `connections` at once, stopped after `seconds`. */
async function load(url: string, image: Buffer, connections: number, amount: number, seconds: number): Promise<Load> {
  const { default: autocannon } = await import('autocannon');
  let last = 0;
  const start = performance.now();
  const instance = autocannon({
    url: `${url}/predict`,
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: image,
    connections,
    amount,
    timeout: seconds,
    sampleInt: 100,
  });
  instance.on('response', () => {
    last = performance.now();
  });
  const limit = setTimeout(() => instance.stop(), seconds * 1000);
  const result = await instance;
  clearTimeout(limit);
  const completed = result['2xx'];
  return {
    requestsPerSecond: completed / ((last - start) / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

async function post(url: string, image: Buffer): Promise<{ top: { index: number; probability: number }[] }> {
  const response = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: image,
  });
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { top: { index: number; probability: number }[] };
}

/** Resolves once the service has no image waiting and no batch running. */
async function idle(url: string): Promise<void> {
  for (;;) {
    const health = (await (await fetch(`${url}/health`)).json()) as { batching: { waiting: number; running: boolean } };
    if (health.batching.waiting === 0 && !health.batching.running) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function parent(): Promise<void> {
  const rounds = Number(arg('rounds', '3'));
  const models = arg('models', WORKLOADS.map((w) => w.model).join(',')).split(',');
  const concurrencies = arg('concurrency', '1,8,32').split(',').map(Number);
  // One thread per engine by default: on a machine shared with other work, libtorch's OpenMP threads wait
  // at every barrier for a sibling the scheduler has parked (2 threads ran se-resnet20 15x slower than 1 here).
  const threads = Number(arg('threads', '1'));
  const engines = arg('engines', ENGINES.join(',')).split(',') as Engine[];
  const out = arg('out', join(ROOT, 'bench', 'results', 'serve.md'));
  const dir = mkdtempSync(join(tmpdir(), 'senet-serve-bench-'));
  const loadBefore = os.loadavg()[0];
  const rows: string[] = [];
  const notes: string[] = [];
  try {
    for (const w of WORKLOADS.filter((x) => models.includes(x.model))) {
      console.log(`${w.model} (${w.size} px): writing weights and exporting ONNX...`);
      const files = prepareModel(w, dir);
      const image = readFileSync(w.image);
      const services = await Promise.all(engines.map((e) => startChild(e, files.weights, files.onnx, threads)));
      try {
        // The engines agree on the answer, and each is warm before timing.
        const answers = await Promise.all(services.map((s) => post(s.url, image)));
        for (const s of services) for (let i = 0; i < 3; i++) await post(s.url, image);
        const topOnes = answers.map((a) => a.top[0].index);
        const gap = Math.max(...answers.map((a) => Math.abs(a.top[0].probability - answers[0].top[0].probability)));
        notes.push(
          `${w.model}: top-1 class ${topOnes.join(' / ')} (${engines.join(' / ')}), top-1 probabilities differ by ${gap.toExponential(1)}`,
        );
        const results = new Map<string, Load[]>();
        for (let round = 0; round < rounds; round++) {
          for (const c of concurrencies) {
            const order = round % 2 === 0 ? services : [...services].reverse();
            for (const s of order) {
              const r = await load(s.url, image, c, w.requests(c), w.seconds);
              await idle(s.url); // a run stopped by its time limit leaves images queued: not the next run's work
              const key = `${s.engine}/${c}`;
              results.set(key, [...(results.get(key) ?? []), r]);
              console.log(
                `  round ${round + 1} ${s.engine.padEnd(16)} c=${String(c).padStart(2)}: ` +
                  `${r.requestsPerSecond.toFixed(1)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms ` +
                  `(${r.completed} answered, ${r.failed} failed)`,
              );
            }
          }
        }
        for (const s of services) {
          const health = (await (await fetch(`${s.url}/health`)).json()) as {
            batching: { items: number; batches: number };
          };
          notes.push(
            `${w.model} ${s.engine}: ${health.batching.items} images in ${health.batching.batches} batches ` +
              `(mean batch ${(health.batching.items / health.batching.batches).toFixed(1)})`,
          );
        }
        for (const c of concurrencies) {
          const cells: string[] = [];
          for (const e of engines) {
            const runs = results.get(`${e}/${c}`)!;
            const failed = runs.reduce((n, r) => n + r.failed, 0);
            cells.push(
              `${median(runs.map((r) => r.requestsPerSecond)).toFixed(1)}`,
              `${median(runs.map((r) => r.p50))}`,
              `${median(runs.map((r) => r.p99))}${failed ? ` (${failed} failed)` : ''}`,
            );
          }
          let ratio = '';
          if (engines.length === 2) {
            const [a, b] = engines.map((e) => results.get(`${e}/${c}`)!);
            ratio = ` ${median(a.map((r, i) => b[i].requestsPerSecond / r.requestsPerSecond)).toFixed(2)} |`;
          }
          rows.push(`| ${w.model} (${w.size} px) | ${c} | ${cells.join(' | ')} |${ratio}`);
        }
      } finally {
        await Promise.all(services.map(stopChild));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const header =
    `| model | concurrency | ${engines.map((e) => `${e} req/s | p50 ms | p99 ms`).join(' | ')} |` +
    (engines.length === 2 ? ` ${engines[1]} / ${engines[0]} req/s |` : '');
  const rule = `|${'---|'.repeat(2 + 3 * engines.length + (engines.length === 2 ? 1 : 0))}`;
  const limits = DEFAULT_LIMITS;
  const text = [
    '# `senet serve` under load: libtorch and onnxruntime-node behind the same service',
    '',
    `Command: \`node dist/bench/serve-bench.js${process.argv
      .slice(2)
      .map((a) => ` ${a}`)
      .join('')}\`` +
      `${process.argv.length > 2 ? '' : ' (the defaults)'}. Load average (1 min) at the start and end: ` +
      `${loadBefore.toFixed(1)} and ${os.loadavg()[0].toFixed(1)}.`,
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, shared with other agents' work during the ` +
      'run (so absolute numbers are noisy; the engines alternate runs and the ratio is the median of per-round ratios).',
    `Each engine: ${threads} intra-op threads; service defaults (max batch ${limits.maxBatch}, max wait ${limits.maxWaitMs} ms). ` +
      `Load: autocannon on loopback, POST /predict with one JPEG body, ${rounds} rounds; each run bounded by a request ` +
      'count and a time limit (a request unanswered after it counts as failed). Medians over rounds.',
    '',
    header,
    rule,
    ...rows,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  writeFileSync(out, text);
  console.log(`\n${text}\nwrote ${out}`);
}

if (process.argv.includes('--child')) {
  await child();
} else {
  await parent();
}
