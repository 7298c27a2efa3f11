"""PyTorch's own int8: FX graph-mode post-training static quantization (torch.ao.quantization.quantize_fx
with get_default_qconfig_mapping for the engine) of a reference model, side by side with `senet bench --int8`
and `senet quantize`. Same workload as ../shared/reference/pytorch_bench.py's inference (random batch,
eval mode, no_grad, two warm-up steps); calibration on random batches unless --run is given.
Usage: python3 pytorch_int8.py MODEL [--batch N] [--threads T] [--steps K] [--engine onednn|qnnpack]
         [--run RUN_DIR --data CIFAR_JPEG_DIR [--calibration N] [--limit N]]
With --run, the float weights are the run's best checkpoint (a senet safetensors file), calibration uses the
a seeded random sample of N images of DATA/train, and accuracy float32 vs int8 is measured
on DATA/test (normalised with the run's mean/std).
Prints one JSON line."""
import argparse, copy, json, os, struct, sys, time
import numpy as np
import torch
# ../shared/reference from the repository root (a git worktree may sit deeper: look upwards).
_here = os.path.dirname(os.path.abspath(__file__))
while _here != '/' and not os.path.isdir(os.path.join(_here, 'shared', 'reference')): _here = os.path.dirname(_here)
sys.path.insert(0, os.path.join(_here, 'shared', 'reference'))
from pytorch_models import create
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import prepare_fx, convert_fx

p = argparse.ArgumentParser()
p.add_argument('model'); p.add_argument('--batch', type=int, default=128); p.add_argument('--threads', type=int, default=2)
p.add_argument('--steps', type=int, default=5); p.add_argument('--engine', default='onednn')
p.add_argument('--run'); p.add_argument('--data'); p.add_argument('--calibration', type=int, default=512)
p.add_argument('--limit', type=int, default=0)
a = p.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(0)
torch.backends.quantized.engine = a.engine

DTYPES = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}

def read_safetensors(path):
    """A senet/safetensors weights file as a state dict (header length, JSON header, raw little-endian data)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n]); base = 8 + n
    state = {}
    for name, info in header.items():
        if name == '__metadata__': continue
        b, e = info['data_offsets']
        arr = np.frombuffer(raw[base + b:base + e], dtype=DTYPES[info['dtype']]).reshape(info['shape'])
        state[name] = torch.from_numpy(arr.copy())
    return state

def images(split_dir, mean, std, limit=0):
    """(x, y) of an image folder split, classes in sorted order, ToTensor + Normalize."""
    from PIL import Image
    classes = sorted(os.listdir(split_dir)); files = []
    for i, c in enumerate(classes):
        files += [(os.path.join(split_dir, c, f), i) for f in sorted(os.listdir(os.path.join(split_dir, c)))]
    if limit:  # a seeded random sample
        files = [files[i] for i in np.random.default_rng(0).choice(len(files), limit, replace=False)]
    x = np.stack([np.asarray(Image.open(f).convert('RGB'), dtype=np.float32) / 255 for f, _ in files])
    x = (x - np.array(mean, np.float32)) / np.array(std, np.float32)
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), torch.tensor([y for _, y in files])

def accuracy(model, x, y):
    with torch.no_grad():
        hits = sum((model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item() for i in range(0, len(x), 500))
    return hits / len(x)

def rate(model, x):
    with torch.no_grad():
        for _ in range(2): model(x)
        t = time.perf_counter()
        for _ in range(a.steps): model(x)
        return a.batch * a.steps / (time.perf_counter() - t)

m = create(a.model).eval()
out = {'engine': 'pytorch-fx-int8', 'torch': torch.__version__, 'model': a.model, 'batch': a.batch,
       'threads': a.threads, 'qengine': a.engine}
if a.run:
    config = json.load(open(os.path.join(a.run, 'config.json')))
    m.load_state_dict(read_safetensors(os.path.join(a.run, 'checkpoints', 'best', 'model.safetensors')))
    calib, _ = images(os.path.join(a.data, 'train'), config['mean'], config['std'], a.calibration)
    calibration = [calib[i:i + a.batch] for i in range(0, len(calib), a.batch)]
else:
    calibration = [torch.randn(a.batch, 3, 32, 32) for _ in range(max(1, a.calibration // a.batch))]
x = torch.randn(a.batch, 3, 32, 32)
t = time.perf_counter()
qm = prepare_fx(copy.deepcopy(m), get_default_qconfig_mapping(a.engine), (x,))
with torch.no_grad():
    for c in calibration: qm(c)
qm = convert_fx(qm)
out['quantize_s'] = round(time.perf_counter() - t, 2)
out['calibration_images'] = sum(len(c) for c in calibration)
out['infer_img_s'] = round(rate(m, x), 1)
out['infer_int8_img_s'] = round(rate(qm, x), 1)
if a.run:
    tx, ty = images(os.path.join(a.data, 'test'), config['mean'], config['std'], a.limit)
    out['test_images'] = len(tx)
    out['accuracy_float32'] = round(accuracy(m, tx, ty), 4)
    out['accuracy_int8'] = round(accuracy(qm, tx, ty), 4)
print(json.dumps(out))
