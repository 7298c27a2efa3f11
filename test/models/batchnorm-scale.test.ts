import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { freezeBatchNormScales } from '../../src/models/batchnorm-scale.js';
import { buildOptimizer } from '../../src/train/optimization.js';
import { resolveConfig } from '../../src/train/config.js';

test('freezeBatchNormScales: every BatchNorm scale is 1 and stays 1 through training; shifts still learn', () => {
  torch.manualSeed(0);
  const model = createModel('fastnet');
  try {
    // Move the scales away from 1 first, so that the reset is seen.
    torch.noGrad(() => {
      for (const [name, p] of model.namedParameters()) if (/bn\d\.weight$/.test(name)) p.fill_(0.5);
    });
    assert.equal(freezeBatchNormScales(model), 6);
    const scales = model.namedParameters().filter(([n]) => /bn\d\.weight$/.test(n));
    const shifts = model.namedParameters().filter(([n]) => /bn\d\.bias$/.test(n));
    assert.equal(scales.length, 6);
    assert.ok(scales.every(([, p]) => !p.requiresGrad && p.eq(1).all().item()));

    const config = resolveConfig({
      values: { optimizer: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, biasLrScale: 8 },
      source: { describe: (k) => k },
    });
    const optimizer = buildOptimizer(model, config);
    const trained = optimizer.paramGroups.flatMap((g) => g.params);
    assert.ok(
      scales.every(([, p]) => !trained.includes(p)),
      'the frozen scales are not given to the optimizer',
    );
    const shiftsBefore = shifts.map(([, p]) => p.clone());
    for (let step = 0; step < 2; step++) {
      torch.tidy(() => {
        const x = torch.randn(8, 3, 32, 32);
        const loss = torch.F.crossEntropy(model.forward(x), torch.randint(0, 10, [8]));
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
      });
    }
    assert.ok(
      scales.every(([, p]) => p.eq(1).all().item()),
      'scales unchanged by training',
    );
    assert.ok(
      shifts.some(([, p], i) => !p.equal(shiftsBefore[i])),
      'shifts trained',
    );
    torch.dispose(shiftsBefore);
    optimizer.dispose();
  } finally {
    model.dispose();
  }
});

test('freezeBatchNormScales on a model without BatchNorm freezes nothing', () => {
  const model = new torch.nn.Linear(3, 2);
  assert.equal(freezeBatchNormScales(model), 0);
  assert.ok(model.weight.requiresGrad);
  model.dispose();
});
