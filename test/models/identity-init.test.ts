import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { createModel, FastNet } from '../../src/models/index.js';
import { identityInitFastNet } from '../../src/models/identity-init.js';
import { resolveConfig } from '../../src/train/config.js';
import { assertClose } from '../helpers.js';

test('identityInitFastNet: square convolutions pass their input through; wider ones pass it to their first channels', () => {
  torch.manualSeed(0);
  const model = new FastNet({ widths: [16, 32, 32], attention: { type: 'se' } });
  try {
    const before = model.layer2.conv1.weight.narrow(0, 16, 16).clone();
    identityInitFastNet(model);
    torch.tidy(() => {
      for (const group of [model.layer1, model.layer2, model.layer3]) {
        const [out, inChannels] = group.conv1.weight.shape;
        const passed = Math.min(out, inChannels);
        const x = torch.randn(2, inChannels, 6, 6);
        const y = group.conv1.forward(x);
        assertClose(
          y.narrow(1, 0, passed),
          x.narrow(1, 0, passed),
          { rtol: 0, atol: 1e-6 },
          'conv1: the first output channels are the input',
        );
        const z = torch.randn(2, group.conv2.weight.shape[0], 5, 5);
        assertClose(group.conv2.forward(z), z, { rtol: 0, atol: 1e-6 }, 'conv2: the identity');
      }
      // The channels beyond the input's keep their random initialisation.
      assert.ok(model.layer2.conv1.weight.narrow(0, 16, 16).equal(before));
      assert.ok(before.abs().sum().item() > 0);
    });
    before.dispose();
  } finally {
    model.dispose();
  }
});

test('identityInit is refused for models other than the FastNets', () => {
  const model = createModel('resnet20');
  assert.throws(() => identityInitFastNet(model), /identityInit needs a FastNet \(fastnet, se-fastnet\), not/);
  model.dispose();
  assert.throws(
    () => resolveConfig({ values: { model: 'resnet20', identityInit: true }, source: { describe: (k) => k } }),
    /identityInit applies to the FastNets \(fastnet, se-fastnet\), not to 'resnet20'/,
  );
});
