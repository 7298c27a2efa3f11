// FastNet and SE-FastNet against PyTorch (fixtures by scripts/fixtures/make_fastnet.py): state-dict layout
// and parameter counts, seeded default initialisation, eval-mode logits, one training step, the forward
// under bfloat16 autocast; and the whitening stem (an independent check: whitened patches have unit covariance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { createModel, modelName, listModels, summarizeModel, type FastNet } from '../../src/models/index.js';
import { fromFixture, loadFixture, maxRelativeError, type FixtureTensor } from '../helpers.js';
import { detInput, fill_ } from './deterministic-fill.js';
import { layoutDigest } from './layout.js';
import { assertSeededInitialisation } from './seeded-init.js';

interface Fixture {
  registry: Record<string, { params: number; entries: number; layout: string }>;
  seeded: Record<string, Record<string, number>>;
  parity: Record<string, { inputShape: number[]; logits: FixtureTensor; bf16Logits: FixtureTensor; bf16Dtype: string }>;
  training: {
    inputShape: number[];
    targets: number[];
    labelSmoothing: number;
    logits: FixtureTensor;
    loss: number;
    grads: Record<string, FixtureTensor>;
    runningMean: FixtureTensor;
  };
  trainingBf16: {
    inputShape: number[];
    targets: number[];
    labelSmoothing: number;
    logitsDtype: string;
    lossDtype: string;
    loss: number;
    grads: Record<string, FixtureTensor>;
  };
}

const fx = loadFixture<Fixture>('fastnet');
const TOLERANCE = 1e-4;

test("fastnet and se-fastnet: in the registry with PyTorch's parameter count and state-dict layout", () => {
  for (const [name, expected] of Object.entries(fx.registry)) {
    const info = listModels().find((m) => m.name === name);
    assert.ok(info, `${name} is registered`);
    assert.equal(info.hasSE, name.startsWith('se-'));
    assert.deepEqual(info.defaultInput, [3, 32, 32]);
    const model = createModel(modelName(name), { device: 'meta' });
    assert.equal(model.numParameters(), expected.params, `${name}: parameters`);
    assert.equal(Object.keys(model.stateDict()).length, expected.entries, `${name}: entries`);
    assert.equal(layoutDigest(model), expected.layout, `${name}: layout`);
  }
});

test('fastnet: seeded default initialisation draws the same numbers as PyTorch', () => {
  assertSeededInitialisation(fx.seeded);
});

test('fastnet: eval-mode logits as PyTorch, in float32 and under bfloat16 autocast', (t) => {
  for (const [name, c] of Object.entries(fx.parity)) {
    const model = createModel(modelName(name));
    fill_(model);
    model.eval();
    torch.noGrad(() =>
      torch.tidy(() => {
        const x = detInput(c.inputShape);
        const error = maxRelativeError(model.forward(x), fromFixture(c.logits));
        t.diagnostic(`${name}: max relative error ${error.toExponential(2)}`);
        assert.ok(error <= TOLERANCE, `${name}: ${error}`);
        const bf16 = torch.autocast(() => model.forward(x));
        assert.equal(bf16.dtype, c.bf16Dtype, 'the linear head runs in bfloat16 under autocast');
        // The same bfloat16 kernels as PyTorch: its autocast logits, not just the float32 ones, are matched.
        const bf16Error = maxRelativeError(bf16.float(), fromFixture(c.bf16Logits));
        t.diagnostic(`${name}: bf16 max relative error vs PyTorch's autocast ${bf16Error.toExponential(2)}`);
        assert.ok(bf16Error <= TOLERANCE, `${name} bf16: ${bf16Error}`);
      }),
    );
    model.dispose();
  }
});

test('se-fastnet training step: logits, label-smoothed loss, gradients and BN statistics as PyTorch', (t) => {
  const c = fx.training;
  const model = createModel('se-fastnet') as FastNet;
  fill_(model);
  model.train();
  torch.tidy(() => {
    const logits = model.forward(detInput(c.inputShape));
    const loss = torch.F.crossEntropy(logits, torch.tensor(c.targets, { dtype: 'int64' }), {
      labelSmoothing: c.labelSmoothing,
    });
    loss.backward();
    assert.ok(Math.abs(loss.item() - c.loss) <= 1e-5 * c.loss, `loss ${loss.item()} vs ${c.loss}`);
    const params = Object.fromEntries(model.namedParameters());
    const errors: [string, number][] = [
      ['logits', maxRelativeError(logits, fromFixture(c.logits))],
      ['layer2.bn1.running_mean', maxRelativeError(model.layer2.bn1.running_mean!, fromFixture(c.runningMean))],
      ...Object.entries(c.grads).map(([k, g]): [string, number] => [
        `${k}.grad`,
        maxRelativeError(params[k].grad!, fromFixture(g)),
      ]),
    ];
    for (const [what, error] of errors) {
      t.diagnostic(`${what}: ${error.toExponential(2)}`);
      assert.ok(error <= TOLERANCE, `${what}: max relative error ${error}`);
    }
  });
  model.zeroGrad();
  model.dispose();
});

test("se-fastnet bf16 training step (autocast forward and loss, backward outside): loss and gradients as PyTorch's", (t) => {
  const c = fx.trainingBf16;
  const model = createModel('se-fastnet') as FastNet;
  fill_(model);
  model.train();
  torch.tidy(() => {
    const { logits, loss } = torch.autocast(() => {
      const out = model.forward(detInput(c.inputShape));
      return {
        logits: out,
        loss: torch.F.crossEntropy(out, torch.tensor(c.targets, { dtype: 'int64' }), {
          labelSmoothing: c.labelSmoothing,
        }),
      };
    });
    assert.equal(logits.dtype, c.logitsDtype);
    assert.equal(loss.dtype, c.lossDtype);
    loss.backward();
    assert.ok(Math.abs(loss.item() - c.loss) <= 1e-5 * c.loss, `loss ${loss.item()} vs ${c.loss}`);
    const params = Object.fromEntries(model.namedParameters());
    for (const [key, grad] of Object.entries(c.grads)) {
      assert.equal(params[key].grad!.dtype, 'float32', `${key}: float32 gradients of float32 weights`);
      const error = maxRelativeError(params[key].grad!, fromFixture(grad));
      t.diagnostic(`${key}.grad (bf16): ${error.toExponential(2)}`);
      assert.ok(error <= 1e-3, `${key}.grad: max relative error ${error}`);
    }
  });
  model.zeroGrad();
  model.dispose();
});

test('fastnet: 118M MACs per 32×32 image (the airbench-sized net) and a clear error for small inputs', () => {
  const model = createModel('se-fastnet');
  const summary = summarizeModel(model, [3, 32, 32]);
  model.dispose();
  // Independent count: stem 31²·24·12; per group conv1 at the input size, conv2 at the pooled one; SE; head.
  const conv = (side: number, cin: number, cout: number, k: number) => side * side * cout * cin * k * k;
  const expected =
    conv(31, 3, 24, 2) +
    conv(31, 24, 64, 3) +
    conv(15, 64, 64, 3) +
    conv(15, 64, 256, 3) +
    conv(7, 256, 256, 3) +
    conv(7, 256, 256, 3) +
    conv(3, 256, 256, 3) +
    64 * 4 * 2 +
    256 * 16 * 2 * 2 +
    256 * 10;
  assert.equal(summary.macs, expected);
  assert.throws(() => createModel('fastnet', { inputSize: 8 }), /FastNet: inputSize must be at least 9×9 .*got 8×8/);
});

test('whitenStem_: the stem maps 2×2 patches to unit covariance, freezes its weight, and keeps the bias trainable', () => {
  const model = createModel('fastnet') as FastNet;
  torch.tidy(() => {
    // Correlated channels and neighbours: a smooth random image set.
    const g = new torch.Generator(3);
    const base = torch.randn([64, 1, 32, 32], { generator: g });
    const images = torch
      .cat([base, base.mul(0.5).add(torch.randn([64, 1, 32, 32], { generator: g }).mul(0.1)), base.neg()], 1)
      .add(torch.randn([64, 3, 32, 32], { generator: g }).mul(0.3));
    model.whitenStem_(images, 0);
    assert.equal(model.stem.weight.requiresGrad, false);
    assert.equal(model.stem.bias!.requiresGrad, true);
    assert.equal(model.stem.bias!.abs().sum().item(), 0);
    // The first 12 filters' outputs over the images' patches: covariance ≈ identity (the other 12 are their negatives).
    const out = torch.noGrad(() => model.stem.forward(images));
    const first = out.narrow(1, 0, 12).permute([0, 2, 3, 1]).reshape(-1, 12).double();
    const centred = first.sub(first.mean(0, true));
    const covariance = centred
      .t()
      .mm(centred)
      .div(first.size(0) - 1);
    const worst = covariance
      .sub(torch.eye(12, 12, { dtype: 'float64' }))
      .abs()
      .max()
      .item();
    assert.ok(worst < 1e-3, `whitened covariance differs from I by ${worst}`);
    assert.ok(
      out
        .narrow(1, 12, 12)
        .add(out.narrow(1, 0, 12))
        .abs()
        .max()
        .item() < 1e-5,
      'filters 12..23 are the negatives of 0..11',
    );
  });
  model.dispose();
});
