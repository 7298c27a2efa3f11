// senet's cost of one small op call (a.add(b) on 1-element tensors, result freed), in microseconds; the
// counterpart of pytorch_op_overhead.py. Usage: node dist/bench/op-overhead.js [calls]
import * as torch from '../src/torch/index.js';

const calls = Number(process.argv[2] ?? 200000);
torch.setNumThreads(1);
const a = torch.ones(1);
const b = torch.ones(1);
for (let i = 0; i < 1000; i++) a.add(b).dispose();
const start = process.hrtime.bigint();
for (let i = 0; i < calls; i++) a.add(b).dispose();
const us = Number(process.hrtime.bigint() - start) / 1e3 / calls;
console.log(JSON.stringify({ engine: 'senet', op_us: us }));
