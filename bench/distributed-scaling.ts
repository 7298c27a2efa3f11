// Data-parallel scaling on one machine: SE-ResNet-20 training images/s for 1 process × 2 threads against
// 2 processes × 1 thread (DistributedDataParallel over Gloo on loopback, global batch 128 either way), and the
// time one all-reduce of the model's gradients takes against the ring all-reduce lower bound
// 2(N−1)/N × bytes / bandwidth, with the loopback bandwidth measured two ways: Gloo's own (a 64 MiB broadcast
// between the 2 ranks, which is one send) and one TCP stream through Node sockets.
// A third configuration answers which gradient averaging is faster: 2 processes × 1 thread with c10d's Reducer
// (DistributedDataParallel's default) against the same buckets all-reduced from senet's own autograd hooks
// (gradientReduction 'hooks').
// Rounds alternate the configurations; medians of the per-round ratios are reported (the machine is shared).
// Usage: npx tsc -p . && node dist/bench/distributed-scaling.js [--rounds 3] [--steps 8] [--model se-resnet20]
// Prints a JSON line per measurement and a summary line.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import * as torch from '../src/torch/index.js';
import { createModel, type ModelName } from '../src/models/index.js';

const GLOBAL_BATCH = 128;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** One rank: warm-up steps, then timed steps; then timed all-reduces of a gradient-sized tensor. */
async function worker(steps: number): Promise<void> {
  const dist = torch.distributed;
  const world = Number(process.env.WORLD_SIZE);
  torch.setNumThreads(Number(process.env.BENCH_THREADS));
  await dist.initProcessGroup({ timeoutMs: 120_000 });
  torch.manualSeed(0);
  const model = createModel(process.env.BENCH_MODEL as ModelName, { numClasses: 10 });
  const ddp = await torch.nn.parallel.DistributedDataParallel.create(model, {
    gradientReduction: process.env.BENCH_REDUCTION as torch.nn.parallel.GradientReduction,
  });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const per = GLOBAL_BATCH / world;
  const x = torch.randn([per, 3, 32, 32]);
  const y = torch.randint(0, 10, [per]);
  const step = () =>
    torch.tidy(() => {
      optimizer.zeroGrad();
      torch.F.crossEntropy(ddp.call(x) as torch.Tensor, y).backward();
      optimizer.step();
    });
  for (let i = 0; i < 2; ++i) step();
  await dist.barrier();
  const t0 = performance.now();
  for (let i = 0; i < steps; ++i) step();
  await dist.barrier();
  const seconds = (performance.now() - t0) / 1000;
  const numel = model.parameters().reduce((n, p) => n + p.numel(), 0);
  const grads = torch.zeros([numel]);
  const times: number[] = [];
  for (let i = 0; i < 10; ++i) {
    const s = performance.now();
    await dist.allReduce(grads);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  // Gloo's own point-to-point bandwidth: with 2 ranks a broadcast is one send of the whole tensor.
  const big = torch.zeros([16 * 1024 * 1024]);
  const sends: number[] = [];
  for (let i = 0; i < 3 && world === 2; ++i) {
    await dist.barrier();
    const s = performance.now();
    await dist.broadcast(big, 0);
    await dist.barrier();
    sends.push(performance.now() - s);
  }
  sends.sort((a, b) => a - b);
  if (dist.getRank() === 0) {
    const out = { world, imagesPerSecond: (steps * GLOBAL_BATCH) / seconds, gradientBytes: numel * 4 };
    const glooBytesPerSecond = sends.length ? (big.numel() * 4) / (sends[1] / 1000) : 0;
    process.stdout.write(`${JSON.stringify({ ...out, allReduceMs: times[5], glooBytesPerSecond })}\n`);
  }
  await dist.destroyProcessGroup();
}

async function run(
  world: number,
  steps: number,
  model: string,
  reduction: torch.nn.parallel.GradientReduction = 'reducer',
): Promise<Record<string, number>> {
  const port = await torch.distributed.freePort();
  const outs = await Promise.all(
    Array.from({ length: world }, (_, rank) => {
      const child = spawn(process.execPath, [process.argv[1], '--worker', '--steps', String(steps)], {
        env: {
          ...process.env,
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(port),
          RANK: String(rank),
          WORLD_SIZE: String(world),
          BENCH_THREADS: String(2 / world),
          BENCH_MODEL: model,
          BENCH_REDUCTION: reduction,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.on('data', (d) => {
        text += d;
      });
      return new Promise<string>((resolve) => child.on('close', () => resolve(text)));
    }),
  );
  return JSON.parse(outs[0].trim());
}

/** Loopback TCP bandwidth (bytes/s): 256 MiB through one Node socket. */
async function loopbackBandwidth(): Promise<number> {
  const total = 256 * 1024 * 1024;
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      let got = 0;
      const t0 = performance.now();
      socket.on('data', (d) => {
        got += d.length;
        if (got >= total) {
          resolve(total / ((performance.now() - t0) / 1000));
          socket.destroy();
          server.close();
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const client = connect(port, '127.0.0.1', () => {
        let sent = 0;
        const write = () => {
          while (sent < total) {
            sent += chunk.length;
            if (!client.write(chunk)) return void client.once('drain', write);
          }
          client.end();
        };
        write();
      });
      client.on('error', () => undefined);
    });
  });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main(): Promise<void> {
  const steps = flag('steps', 8);
  if (process.argv.includes('--worker')) return worker(steps);
  const rounds = flag('rounds', 3);
  const modelIndex = process.argv.indexOf('--model');
  const model = modelIndex >= 0 ? process.argv[modelIndex + 1] : 'se-resnet20';
  const ratios: number[] = [];
  const hooks: number[] = [];
  const hookRatios: number[] = [];
  const one: number[] = [];
  const two: number[] = [];
  const reduceMs: number[] = [];
  const glooBandwidths: number[] = [];
  let bytes = 0;
  for (let r = 0; r < rounds; ++r) {
    const a = await run(1, steps, model);
    const b = await run(2, steps, model);
    const c = await run(2, steps, model, 'hooks');
    console.log(
      JSON.stringify({ round: r, model, oneProcessTwoThreads: a, twoProcessesOneThread: b, twoProcessesHooks: c }),
    );
    hooks.push(c.imagesPerSecond);
    hookRatios.push(c.imagesPerSecond / b.imagesPerSecond);
    one.push(a.imagesPerSecond);
    two.push(b.imagesPerSecond);
    ratios.push(b.imagesPerSecond / a.imagesPerSecond);
    reduceMs.push(b.allReduceMs);
    glooBandwidths.push(b.glooBytesPerSecond);
    bytes = b.gradientBytes;
  }
  const bandwidth = await loopbackBandwidth();
  const boundMs = ((2 * (2 - 1)) / 2) * (bytes / bandwidth) * 1000;
  const gloo = median(glooBandwidths);
  const glooBoundMs = ((2 * (2 - 1)) / 2) * (bytes / gloo) * 1000;
  console.log(
    JSON.stringify({
      summary: true,
      model,
      imagesPerSecond1x2: median(one),
      imagesPerSecond2x1: median(two),
      medianRatio2x1over1x2: median(ratios),
      imagesPerSecond2x1Hooks: median(hooks),
      medianRatioHooksOverReducer: median(hookRatios),
      gradientBytes: bytes,
      allReduceMsMedian: median(reduceMs),
      loopbackBytesPerSecond: bandwidth,
      ringLowerBoundMs: boundMs,
      glooBytesPerSecond: gloo,
      ringLowerBoundMsGloo: glooBoundMs,
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
