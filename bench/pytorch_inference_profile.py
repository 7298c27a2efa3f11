"""PyTorch eager inference (or with --train, training steps) of a reference model under PyTorch's CPU profiler,
for bench/inference-profile.ts. The workload is pytorch_bench.py's: the model from
../shared/reference/pytorch_models.py in eval mode under no_grad on one random batch, or in train mode, each
step zero_grad + forward + cross-entropy + backward + SGD momentum step. The profiler is torch.autograd.profiler.profile without
Kineto, the same libtorch profiler senet's torch.profile() switches on.
Usage: python3 pytorch_inference_profile.py MODEL [--batch N] [--size S] [--threads T] [--steps K] [--train]
Prints one JSON line: the wall time per batch without the profiler, the profiled wall time, and every
recorded operator call as [name, start µs, end µs, thread]."""
import argparse, json, os, sys, time
import torch
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'reference'))
from pytorch_models import create

p = argparse.ArgumentParser()
p.add_argument('model'); p.add_argument('--batch', type=int, default=128); p.add_argument('--size', type=int, default=32)
p.add_argument('--threads', type=int, default=2); p.add_argument('--steps', type=int, default=5)
p.add_argument('--train', action='store_true')
a = p.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(0)
m = create(a.model)
x = torch.randn(a.batch, 3, a.size, a.size)
if a.train:
    m.train()
    y = torch.randint(0, 10, (a.batch,))
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
else:
    m.eval()
    def step():
        with torch.no_grad():
            m(x)
for _ in range(2): step()
t = time.perf_counter()
for _ in range(a.steps): step()
wall_ms = (time.perf_counter() - t) * 1000 / a.steps
with torch.autograd.profiler.profile(use_kineto=False) as prof:
    t = time.perf_counter()
    for _ in range(a.steps): step()
    profiled_ms = (time.perf_counter() - t) * 1000 / a.steps
# The first operator the forward pass calls runs on this (the calling) thread.
events = sorted(prof.function_events, key=lambda e: e.time_range.start)
print(json.dumps({
    'engine': 'pytorch-eager', 'torch': torch.__version__, 'model': a.model, 'train': a.train, 'batch': a.batch, 'size': a.size,
    'threads': a.threads, 'steps': a.steps, 'wall_ms': wall_ms, 'profiled_ms': profiled_ms,
    'caller_thread': events[0].thread if events else 0,
    'events': [[e.name, e.time_range.start, e.time_range.end, e.thread] for e in events],
}))
