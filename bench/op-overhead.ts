// senet's cost of one small op call (a.add(b) on 1-element tensors, result disposed), in microseconds;
// the counterpart of pytorch_op_overhead.py. Measured inside a tidy scope (as a training step runs) and
// outside any scope (where each new tensor is also put under the GC safety net).
// Usage: node dist/bench/op-overhead.js [calls]
import * as torch from '../src/torch/index.js';

const calls = Number(process.argv[2] ?? 200000);
torch.setNumThreads(1);
const a = torch.ones(1);
const b = torch.ones(1);

function microseconds(loop: () => void): number {
  loop(); // warm-up: JIT and allocator
  const start = process.hrtime.bigint();
  loop();
  return Number(process.hrtime.bigint() - start) / 1e3 / calls;
}

const inScope = microseconds(() =>
  torch.tidy(() => {
    for (let i = 0; i < calls; i++) a.add(b).dispose();
  }),
);
const unscoped = microseconds(() => {
  for (let i = 0; i < calls; i++) a.add(b).dispose();
});
console.log(JSON.stringify({ engine: 'senet', op_us: inScope, op_us_unscoped: unscoped }));
