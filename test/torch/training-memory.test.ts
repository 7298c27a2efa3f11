// A long training loop keeps flat memory: native tensors are freed deterministically by scopes, so the
// number of live tensors and the process's resident memory do not grow from step to step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';

const { nn, F, optim } = torch;

class SmallConvNet extends nn.Module {
  conv1 = new nn.Conv2d(3, 16, 3, { padding: 1 });
  bn1 = new nn.BatchNorm2d(16);
  conv2 = new nn.Conv2d(16, 32, 3, { padding: 1, stride: 2 });
  fc = new nn.Linear(32, 10);

  forward(x: torch.Tensor): torch.Tensor {
    const y = F.relu(this.bn1.forward(this.conv1.forward(x)));
    const z = F.relu(this.conv2.forward(y));
    return this.fc.forward(F.adaptiveAvgPool2d(z, 1).flatten(1));
  }
}

test('300 training steps of a small conv net keep live tensors and RSS flat', () => {
  torch.manualSeed(0);
  const model = new SmallConvNet();
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const scheduler = new optim.CosineAnnealingLR(optimizer, 300);
  const x = torch.keep(torch.randn(32, 3, 16, 16));
  const y = torch.keep(torch.randint(0, 10, [32]));
  const samples: { step: number; tensors: number; rss: number }[] = [];
  let firstLoss = NaN;
  let lastLoss = NaN;
  for (let step = 1; step <= 300; step++) {
    const loss = torch.tidy(() => {
      optimizer.zeroGrad();
      const l = F.crossEntropy(model.forward(x), y);
      l.backward();
      optimizer.step();
      scheduler.step();
      return l.item();
    });
    if (step === 1) firstLoss = loss;
    lastLoss = loss;
    if (step % 50 === 0) samples.push({ step, tensors: torch.memory().tensors, rss: process.memoryUsage().rss });
  }
  // The loop trained (so the steps did real work) ...
  assert.ok(lastLoss < firstLoss * 0.5, `loss fell from ${firstLoss} to ${lastLoss}`);
  // ... and after the first 50 steps (optimizer state created, allocator warmed) nothing accumulates.
  const [first, ...rest] = samples;
  for (const s of rest) {
    assert.equal(s.tensors, first.tensors, `live tensors at step ${s.step}`);
    const growthMb = (s.rss - first.rss) / 2 ** 20;
    assert.ok(growthMb < 16, `RSS grew ${growthMb.toFixed(1)} MB between step ${first.step} and ${s.step}`);
  }
  optimizer.dispose();
  model.dispose();
  torch.dispose([x, y]);
});
