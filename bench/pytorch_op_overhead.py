"""PyTorch eager's cost of one small op call (a + b on 1-element tensors), in microseconds: the
side-by-side reference for senet's per-call overhead. Usage: python3 pytorch_op_overhead.py [calls]"""
import json, sys, time, torch
torch.set_num_threads(1)
calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
a, b = torch.ones(1), torch.ones(1)
for _ in range(1000): a + b
t = time.perf_counter()
for _ in range(calls): a + b
print(json.dumps({'engine': 'pytorch-eager', 'op_us': (time.perf_counter() - t) / calls * 1e6}))
