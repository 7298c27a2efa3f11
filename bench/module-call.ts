// What calling modules through Module.call costs: SE-ResNet-20 steps (eval forward without grad, and a
// training forward + backward) timed the same way on any build of senet, so that two builds (before and
// after a change to how modules are called) can be compared in alternating runs on one machine.
// Usage: npx tsc -p . && node dist/bench/module-call.js [--batch 32] [--steps 20] [--threads 1]
// Prints one JSON line: median and best milliseconds per step for each workload.
import * as torch from '../src/torch/index.js';
import { createModel } from '../src/models/index.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const batch = flag('batch', 32);
const steps = flag('steps', 20);
torch.setNumThreads(flag('threads', 1));

/** Milliseconds of each of `steps` runs of `fn` after two warm-up runs. */
function time(fn: () => void): { medianMs: number; bestMs: number } {
  fn();
  fn();
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { medianMs: ms[Math.floor(ms.length / 2)], bestMs: ms[0] };
}

torch.manualSeed(0);
const model = createModel('se-resnet20');
const x = torch.keep(torch.randn(batch, 3, 32, 32));
const y = torch.keep(torch.randint(0, 10, [batch]));
model.eval();
const evalForward = time(() => torch.noGrad(() => torch.tidy(() => { model.forward(x); })));
model.train();
const trainStep = time(() => torch.tidy(() => {
  torch.F.crossEntropy(model.forward(x), y).backward();
  model.zeroGrad();
}));
// A batch of one: the per-module cost is largest relative to the arithmetic.
const one = torch.keep(x.narrow(0, 0, 1).contiguous());
model.eval();
const evalForwardBatch1 = time(() => torch.noGrad(() => torch.tidy(() => { model.forward(one); })));
console.log(JSON.stringify({ batch, steps, evalForward, trainStep, evalForwardBatch1 }));
