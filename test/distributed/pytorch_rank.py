# A PyTorch process as one rank of a group with senet processes (interop.test.ts): joins through env:// with
# torch.distributed's gloo backend, runs the same collectives as interop-worker.ts, prints one JSON line.
import json

import torch
import torch.distributed as dist

dist.init_process_group("gloo", init_method="env://", timeout=__import__("datetime").timedelta(seconds=120))
rank = dist.get_rank()
t = torch.tensor([rank + 1.0, -2.0 * rank, 0.25], dtype=torch.float32)
dist.all_reduce(t)
m = torch.tensor([rank + 1.0, 5.0 - rank], dtype=torch.float32)
dist.all_reduce(m, op=dist.ReduceOp.MAX)
b = torch.arange(3, dtype=torch.float64) * (rank + 1)
dist.broadcast(b, src=0)
dist.barrier()
dist.destroy_process_group()
print(json.dumps({"rank": rank, "sum": t.tolist(), "max": m.tolist(), "broadcast": b.tolist()}))
