// Does memory stay bounded when a PyTorch-style loop never calls tidy or dispose? Runs steps of a Linear
// (x = randn([batch, width]); loss = linear(x).pow(2).mean(); backward; step; zeroGrad) with and without a
// tidy scope per step, each case in a fresh child process, and prints live tensors, RSS and step time
// (wall and CPU, the best of `reps` runs: this machine is shared). The first pair is the loop of issue 13
// (2,000 steps of 512x512, batch 64); the second leaks 6 MiB a step, which V8's own collections miss.
// Last, the CPU cost of one small op (a.add(b) on 1-element tensors) in a scope, outside any scope and
// disposed, and outside any scope and dropped (left to the GC safety net).
// Usage: node dist/bench/memory-no-tidy.js [reps]
//   (children run: ... --child <mode> <width> <batch> <steps>, and ... --op-cost)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/torch/index.js';

type Mode = 'tidy' | 'no-tidy';

interface Case {
  mode: Mode;
  width: number;
  batch: number;
  steps: number;
}

const CASES: Case[] = [
  { mode: 'tidy', width: 512, batch: 64, steps: 2000 },
  { mode: 'no-tidy', width: 512, batch: 64, steps: 2000 },
  { mode: 'tidy', width: 2048, batch: 256, steps: 200 },
  { mode: 'no-tidy', width: 2048, batch: 256, steps: 200 },
];

interface Result extends Case {
  msPerStep: number;
  cpuMsPerStep: number;
  tensors: number;
  maxTensors: number;
  rssMb: number;
  maxRssMb: number;
}

function runChild(c: Case): Result {
  torch.setNumThreads(1);
  torch.manualSeed(0);
  const linear = new torch.nn.Linear(c.width, c.width);
  const optimizer = new torch.optim.SGD(linear.parameters(), { lr: 1e-3 });
  const step = (): void => {
    const x = torch.randn([c.batch, c.width]);
    const loss = linear.forward(x).pow(2).mean();
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
  };
  let maxTensors = 0;
  let maxRss = 0;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let i = 1; i <= c.steps; i++) {
    if (c.mode === 'tidy') torch.tidy(step);
    else step();
    if (i % 10 === 0) {
      maxTensors = Math.max(maxTensors, torch.memory().tensors);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuStart);
  const rss = process.memoryUsage().rss;
  return {
    ...c,
    msPerStep: ms / c.steps,
    cpuMsPerStep: (cpu.user + cpu.system) / 1e3 / c.steps,
    tensors: torch.memory().tensors,
    maxTensors,
    rssMb: rss / 2 ** 20,
    maxRssMb: Math.max(maxRss, rss) / 2 ** 20,
  };
}

function runCase(c: Case): Result {
  const args = [fileURLToPath(import.meta.url), '--child', c.mode, String(c.width), String(c.batch), String(c.steps)];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`the ${c.mode} ${c.width} child failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as Result;
}

function main(): void {
  const reps = Number(process.argv[2] ?? 1);
  console.log('| loop | steps | ms/step (wall / CPU) | live tensors (end / max) | RSS MB (end / max) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const c of CASES) {
    const runs = Array.from({ length: reps }, () => runCase(c));
    const best = runs.reduce((a, b) => (b.msPerStep < a.msPerStep ? b : a));
    const cpu = Math.min(...runs.map((r) => r.cpuMsPerStep));
    const tensors = `${best.tensors} / ${Math.max(...runs.map((r) => r.maxTensors))}`;
    const rss = `${best.rssMb.toFixed(0)} / ${Math.max(...runs.map((r) => r.maxRssMb)).toFixed(0)}`;
    const name = `${c.mode}, ${c.width}x${c.width} batch ${c.batch}`;
    console.log(`| ${name} | ${c.steps} | ${best.msPerStep.toFixed(2)} / ${cpu.toFixed(2)} | ${tensors} | ${rss} |`);
  }
  printOpCost(Math.max(reps, 3));
}

/** CPU microseconds per a.add(b) of 1-element tensors, three ways (the second of two runs of each). */
function opCost(): Record<string, number> {
  torch.setNumThreads(1);
  const a = torch.ones(1);
  const b = torch.ones(1);
  const calls = 100_000;
  const cpuUs = (loop: () => void): number => {
    loop();
    const start = process.cpuUsage();
    loop();
    const cpu = process.cpuUsage(start);
    return (cpu.user + cpu.system) / calls;
  };
  return {
    scoped: cpuUs(() =>
      torch.tidy(() => {
        for (let i = 0; i < calls; i++) a.add(b).dispose();
      }),
    ),
    disposed: cpuUs(() => {
      for (let i = 0; i < calls; i++) a.add(b).dispose();
    }),
    dropped: cpuUs(() => {
      for (let i = 0; i < calls; i++) a.add(b);
    }),
  };
}

function printOpCost(reps: number): void {
  const runs = Array.from({ length: reps }, () => {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--op-cost'], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`the op-cost child failed (exit ${child.status})`);
    return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as Record<string, number>;
  });
  const best = (key: string) => Math.min(...runs.map((r) => r[key])).toFixed(2);
  console.log('\n| one a.add(b), CPU µs | in tidy | no scope, disposed | no scope, dropped |');
  console.log('|---|---:|---:|---:|');
  console.log(`| best of ${reps} | ${best('scoped')} | ${best('disposed')} | ${best('dropped')} |`);
}

if (process.argv[2] === '--op-cost') {
  console.log(JSON.stringify(opCost()));
} else if (process.argv[2] === '--child') {
  const [mode, width, batch, steps] = process.argv.slice(3);
  console.log(JSON.stringify(runChild({ mode: mode as Mode, width: +width, batch: +batch, steps: +steps })));
} else {
  main();
}
