// What calling modules through Module.call costs: SE-ResNet-20 steps (eval forward without grad, and a
// training forward + backward) timed the same way on any build of senet, so that two builds (before and
// after a change to how modules are called) can be compared in alternating runs on one machine.
// On a busy machine whole steps vary more than the difference, so the per-call cost is also measured on
// its own (where the build has Module.call): a call of a ReLU on a one-element tensor through call and
// through forward, times the module calls one SE-ResNet-20 forward makes (counted with forward hooks).
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
const evalForward = time(() =>
  torch.noGrad(() =>
    torch.tidy(() => {
      model.forward(x);
    }),
  ),
);
model.train();
const trainStep = time(() =>
  torch.tidy(() => {
    torch.F.crossEntropy(model.forward(x), y).backward();
    model.zeroGrad();
  }),
);
// A batch of one: the per-module cost is largest relative to the arithmetic.
const one = torch.keep(x.narrow(0, 0, 1).contiguous());
model.eval();
const evalForwardBatch1 = time(() =>
  torch.noGrad(() =>
    torch.tidy(() => {
      model.forward(one);
    }),
  ),
);

/** Microseconds per run of `fn` over `n` runs. */
function microsPerRun(fn: () => void, n: number): number {
  const start = process.hrtime.bigint();
  torch.tidy(() => {
    for (let i = 0; i < n; i++) fn();
  });
  return Number(process.hrtime.bigint() - start) / 1e3 / n;
}

let perCall: Record<string, number> | null = null;
const relu = new torch.nn.ReLU() as torch.nn.ReLU & { call?: (x: torch.Tensor) => torch.Tensor };
if (typeof relu.call === 'function') {
  const tiny = torch.keep(torch.ones(1));
  // Alternating rounds, best of each: a busy machine slows some rounds, not the best ones.
  let viaForward = Infinity;
  let viaCall = Infinity;
  for (let round = 0; round < 40; round++) {
    viaForward = Math.min(
      viaForward,
      microsPerRun(() => {
        relu.forward(tiny);
      }, 5000),
    );
    viaCall = Math.min(
      viaCall,
      microsPerRun(() => {
        relu.call!(tiny);
      }, 5000),
    );
  }
  let calls = 0;
  const handles = model.modules().map((m) =>
    m.registerForwardHook(() => {
      calls++;
    }),
  );
  torch.noGrad(() =>
    torch.tidy(() => {
      model.forward(one);
    }),
  );
  for (const h of handles) h.remove();
  perCall = {
    forwardUs: viaForward,
    callUs: viaCall,
    moduleCallsPerForward: calls,
    overheadMsPerForward: ((viaCall - viaForward) * calls) / 1000,
  };
}
console.log(JSON.stringify({ batch, steps, evalForward, trainStep, evalForwardBatch1, perCall }));
