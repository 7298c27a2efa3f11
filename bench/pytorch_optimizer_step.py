"""One optimizer step over a model's parameters in PyTorch eager, per-parameter (foreach=False, 1.13's CPU
default) and multi-tensor (foreach=True): the counterpart of bench/optimizer-step.ts, which passes the
parameter shapes. Prints one JSON line: milliseconds per step for each optimizer and path.

Usage: /usr/bin/python3 bench/pytorch_optimizer_step.py SHAPES.json [steps] [threads]"""
import json, sys, time
import torch

shapes = json.load(open(sys.argv[1]))
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
torch.manual_seed(0)
params = [torch.randn(s, requires_grad=True) for s in shapes]
grads = [torch.randn(s) for s in shapes]

OPTIMIZERS = {
    'sgd': lambda p, foreach: torch.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4,
                                              foreach=foreach),
    'adamw': lambda p, foreach: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.01, foreach=foreach),
}

out = {'engine': 'pytorch', 'torch': torch.__version__}
for name, make in OPTIMIZERS.items():
    for foreach in (False, True):
        opt = make(params, foreach)
        for p, g in zip(params, grads):
            p.grad = g
        for _ in range(2):
            opt.step()
        start = time.perf_counter()
        for _ in range(steps):
            opt.step()
        out[f"{name}_{'foreach' if foreach else 'single'}_ms"] = (time.perf_counter() - start) / steps * 1e3
print(json.dumps(out))
