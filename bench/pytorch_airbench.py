"""The airbench recipe (senet's `--recipe airbench`, after Keller Jordan's airbench94) written directly in
PyTorch eager, for the time-to-accuracy comparison on the same CPU and data: the CIFAR-10 JPEG folder.
Same method as senet's recipe: FastNet widths 64/256/256 (conv -> maxpool 2 -> BN -> GELU -> conv -> BN ->
GELU), frozen whitening stem (2x2, 24 filters) whose bias trains for the first 3 epochs, BN scales frozen at
1, BN momentum 0.4 (PyTorch's convention) and eps 1e-12, identity-initialised convolutions, global max
pool, linear without bias, logits x 1/9; batch 1024 (last short batch dropped), label smoothing 0.2 summed
over the batch, Nesterov SGD momentum 0.85 with lr 11.5 and weight decay 0.0153 per 1024 examples
(decoupled), BN biases at 64x the lr, triangular lr 0.2 -> 1 at 23% -> 0.07, Lookahead every 5 steps,
translate 2 (reflect) + alternating flip, flip-translate TTA over logits; optional SE after each group.

Usage: /usr/bin/python3 bench/pytorch_airbench.py [--data DIR] [--epochs 10] [--seed 0] [--threads 2]
       [--se] [--bf16] [--eval-from 1]
Prints one JSON line per epoch (train seconds so far, test accuracy with the Lookahead average and TTA; with
--eval-from N, epochs before N are not evaluated, which saves wall time only: evaluation is never counted in the
train seconds), then a summary line."""
import argparse, json, math, os, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)


def read_split(folder):
    """uint8 images [N, 3, 32, 32] and labels [N] of an image folder split (classes sorted by name)."""
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    images, labels = [], []
    for label, name in enumerate(classes):
        for file in sorted(os.listdir(os.path.join(folder, name))):
            with Image.open(os.path.join(folder, name, file)) as im:
                images.append(np.asarray(im.convert('RGB'), dtype=np.uint8))
            labels.append(label)
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return x, torch.tensor(labels)


def normalise(x):
    return (x.float() / 255 - MEAN) / STD


class SqueezeExcite(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        # Without biases, as senet's SE unit (and the SE-Net write-up's Linear(C, C/16, bias=False)).
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=False)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))


def norm(channels):
    bn = nn.BatchNorm2d(channels, momentum=0.4, eps=1e-12)
    bn.weight.requires_grad_(False)  # a learned shift only
    return bn


class Group(nn.Module):
    def __init__(self, cin, cout, se):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = norm(cout)
        self.se = SqueezeExcite(cout) if se else None

    def forward(self, x):
        y = F.gelu(self.bn1(F.max_pool2d(self.conv1(x), 2)))
        y = F.gelu(self.bn2(self.conv2(y)))
        return self.se(y) if self.se is not None else y


class FastNet(nn.Module):
    def __init__(self, se=False):
        super().__init__()
        self.stem = nn.Conv2d(3, 24, 2, bias=True)
        self.layer1 = Group(24, 64, se)
        self.layer2 = Group(64, 256, se)
        self.layer3 = Group(256, 256, se)
        self.fc = nn.Linear(256, 10, bias=False)
        with torch.no_grad():
            for group in (self.layer1, self.layer2, self.layer3):
                for conv in (group.conv1, group.conv2):
                    w = conv.weight
                    w[: w.size(1)].zero_()  # the first in-channels filters pass their input through
                    w[: w.size(1), :, 1, 1] = torch.eye(w.size(1))

    def forward(self, x):
        y = F.gelu(self.stem(x))
        y = self.layer3(self.layer2(self.layer1(y)))
        return self.fc(y.amax((2, 3))) / 9

    def whiten(self, images, eps=5e-4):
        """The stem as the +/- eigenvectors of the 2x2 patches' covariance / sqrt(eigenvalue + eps), frozen."""
        with torch.no_grad():
            patches = F.unfold(images, 2).transpose(1, 2).reshape(-1, 12).double()
            centred = patches - patches.mean(0, keepdim=True)
            cov = centred.t() @ centred / (patches.size(0) - 1)
            values, vectors = torch.linalg.eigh(cov)
            filters = vectors.t() / (values + eps).sqrt().unsqueeze(1)
            self.stem.weight.copy_(torch.cat([filters, -filters]).view(24, 3, 2, 2).float())
            self.stem.bias.zero_()
        self.stem.weight.requires_grad_(False)


def translate_flip(images, flips, generator, pad=2):
    """Each image shifted by up to `pad` pixels (reflect fill), mirrored where flips is true."""
    n, _, h, w = images.shape
    padded = F.pad(images, (pad,) * 4, mode='reflect')
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    rows = (dy.view(n, 1) + torch.arange(h).view(1, h)).view(n, 1, h, 1)
    cols = torch.arange(w).view(1, w).expand(n, w)
    cols = torch.where(flips.view(n, 1), cols.flip(1), cols)
    cols = (dx.view(n, 1) + cols).view(n, 1, 1, w)
    return padded[torch.arange(n).view(n, 1, 1, 1), torch.arange(3).view(1, 3, 1, 1), rows, cols]


def tta_logits(model, x):
    mirror = lambda v: 0.5 * (model(v) + model(v.flip(3)))
    padded = F.pad(x, (1, 1, 1, 1), mode='reflect')
    h, w = x.shape[2:]
    shifted = [padded[:, :, :h, :w], padded[:, :, 2:, 2:]]
    return 0.5 * mirror(x) + 0.25 * (mirror(shifted[0]) + mirror(shifted[1]))


def evaluate(model, x, y, bf16):
    model.eval()
    correct = 0
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
        for i in range(0, len(x), 1000):
            batch = x[i:i + 1000].contiguous(memory_format=torch.channels_last)
            correct += (tta_logits(model, batch).float().argmax(1) == y[i:i + 1000]).sum().item()
    model.train()
    return correct / len(x)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument('--data', default=next((d for d in [os.path.join(here, '..', '..', 'shared', 'datasets', 'cifar10-jpeg'),
                                                      '/work/shared/datasets/cifar10-jpeg'] if os.path.isdir(d)), None))
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--se', action='store_true')
    p.add_argument('--bf16', action='store_true')
    p.add_argument('--eval-from', type=int, default=1)
    a = p.parse_args()
    if not a.data or not os.path.isdir(os.path.join(a.data, 'train')):
        raise SystemExit('the CIFAR-10 JPEG folder was not found: give --data DIR (with train/ and test/)')
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    generator = torch.Generator().manual_seed(a.seed)
    started = time.perf_counter()
    train_u8, train_y = read_split(os.path.join(a.data, 'train'))
    test_u8, test_y = read_split(os.path.join(a.data, 'test'))
    train_x, test_x = normalise(train_u8), normalise(test_u8)
    load_seconds = time.perf_counter() - started

    t0 = time.perf_counter()
    model = FastNet(se=a.se)
    # An evenly spaced sample, as senet's: the folder lists its images class by class, so the first 5,000
    # would all be airplanes.
    model.whiten(train_x[torch.arange(5000) * len(train_x) // 5000])
    model = model.to(memory_format=torch.channels_last)
    batch, momentum = 1024, 0.85
    kilostep = 1024 * (1 + 1 / (1 - momentum))
    lr = 11.5 / kilostep
    shrink = 0.0153 * batch / kilostep  # per-step decay, decoupled from the lr
    # As senet's biasLrScale: every parameter of fewer than 2 dimensions (the BN shifts and, unlike airbench94,
    # the stem's bias) learns at 64x the lr with its decay divided by 64.
    bn_biases = [m.bias for m in model.modules() if isinstance(m, nn.BatchNorm2d)] + [model.stem.bias]
    others = [p for p in model.parameters() if p.requires_grad and all(p is not b for b in bn_biases)]
    optimizer = torch.optim.SGD([dict(params=bn_biases, lr=64 * lr, weight_decay=shrink / (64 * lr)),
                                 dict(params=others, lr=lr, weight_decay=shrink / lr)],
                                momentum=momentum, nesterov=True)
    steps_per_epoch = len(train_x) // batch
    total = steps_per_epoch * a.epochs
    peak = int(0.23 * total)
    factor = lambda s: 0.2 + 0.8 * s / peak if s < peak else 1 - 0.93 * (s - peak) / (total - peak)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    average = {k: v.clone() for k, v in model.state_dict().items()}
    coins = torch.rand(len(train_x), generator=generator) < 0.5
    step = 0
    train_seconds = time.perf_counter() - t0
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        model.stem.bias.requires_grad_(epoch < 3)
        order = torch.randperm(len(train_x), generator=generator)
        flips = coins if epoch % 2 == 0 else ~coins
        for i in range(steps_per_epoch):
            idx = order[i * batch:(i + 1) * batch]
            x = translate_flip(train_x[idx], flips[idx], generator).contiguous(memory_format=torch.channels_last)
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
                loss = F.cross_entropy(model(x), train_y[idx], label_smoothing=0.2, reduction='sum')
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            if step % 5 == 0:
                decay = 0.95 ** 5 * (step / total) ** 3
                with torch.no_grad():
                    for k, w in model.state_dict().items():
                        if w.is_floating_point():
                            average[k].lerp_(w, 1 - decay)
                            w.copy_(average[k])
        train_seconds += time.perf_counter() - t0
        # Evaluated with the Lookahead average, as senet's recipe evaluates.
        accuracy = None
        if epoch + 1 >= a.eval_from or epoch + 1 == a.epochs:
            own = {k: v.clone() for k, v in model.state_dict().items()}
            model.load_state_dict(average)
            accuracy = evaluate(model, test_x, test_y, a.bf16)
            if epoch + 1 < a.epochs:
                model.load_state_dict(own)
        print(json.dumps({'engine': 'pytorch-eager', 'epoch': epoch + 1, 'test_acc': accuracy,
                          'train_loss': loss.item() / batch, 'train_seconds': round(train_seconds, 1),
                          'wall_seconds': round(time.perf_counter() - started, 1)}), flush=True)
    print(json.dumps({'engine': 'pytorch-eager', 'torch': torch.__version__, 'se': a.se, 'seed': a.seed,
                      'epochs': a.epochs, 'threads': a.threads, 'bf16': a.bf16, 'final_test_acc': accuracy,
                      'train_seconds': round(train_seconds, 1), 'load_seconds': round(load_seconds, 1)}))


if __name__ == '__main__':
    main()
