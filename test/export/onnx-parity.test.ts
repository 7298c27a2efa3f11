// ONNX export against senet's own forward, one test per model family: each exported model runs in
// onnxruntime-node on a batch of another size than the one traced (the batch axis is symbolic) and must
// give senet's logits within a relative error of 1e-5 (float32 weights, BatchNorm folded or kept). BatchNorms
// get random statistics first, so folding is tested against more than the identity of a fresh model.
// ImageNet families run at 64 px; the deep ones are built with the registry's code at small widths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import {
  CIFAR_SE,
  LEGACY_SE,
  LegacySENet,
  PreActResNet,
  ResNet,
  TIMM_SE,
  createModel,
  type LegacySENetOptions,
  type ModelName,
  type ResNetOptions,
} from '../../src/models/index.js';
import type { AttentionConfig } from '../../src/se/index.js';
import { toOnnx, type OnnxOptions } from '../../src/export/index.js';
import { maxRelativeError } from '../helpers.js';
import { UserNet, opTypes, randomizeBatchNorms, runOnnx } from './support.js';

const TOLERANCE = 1e-5;

/** Exports `model` traced on a batch of 2; onnxruntime's logits on a batch of 3 against senet's. */
async function parityError(model: nn.Module, inputShape: number[], options: OnnxOptions = {}): Promise<number> {
  randomizeBatchNorms(model);
  model.eval();
  const example = torch.randn([2, ...inputShape]);
  const x = torch.randn([3, ...inputShape]);
  try {
    const bytes = toOnnx(model, example, options);
    const expected = torch.noGrad(() => model.call(x) as Tensor);
    const { logits } = await runOnnx(bytes, { input: x });
    assert.deepEqual(logits.shape, expected.shape);
    const error = maxRelativeError(logits, expected);
    torch.dispose([logits, expected]);
    return error;
  } finally {
    torch.dispose([example, x]);
    model.dispose();
  }
}

function zoo(name: ModelName, side: number, attention?: AttentionConfig): [nn.Module, number[]] {
  torch.manualSeed(0);
  return [createModel(name, { inputSize: side, numClasses: 10, attention }), [3, side, side]];
}

const SMALL = { widths: [8, 16, 16, 32], numClasses: 10, inputSize: 64 } as const;

async function assertParity(t: { diagnostic(message: string): void }, built: [nn.Module, number[]], options = {}) {
  const error = await parityError(...built, options);
  t.diagnostic(`relative error ${error.toExponential(2)}`);
  assert.ok(error <= TOLERANCE, `relative error ${error}`);
}

test('simple-cnn', async (t) => {
  await assertParity(t, zoo('simple-cnn', 32));
});

test('cifar-resnet: se-resnet20 with BatchNorm folded and kept', async (t) => {
  await assertParity(t, zoo('se-resnet20', 32));
  await assertParity(t, zoo('se-resnet20', 32), { keepBatchNorm: true });
});

test('cifar-resnet: the other attention units (ECA, scSE, avg+max squeeze with a hard-sigmoid gate)', async (t) => {
  await assertParity(t, zoo('se-resnet20', 32, { type: 'eca' }));
  await assertParity(t, zoo('se-resnet20', 32, { type: 'scse' }));
  await assertParity(t, zoo('se-resnet20', 32, { squeeze: 'avgmax', gate: 'hardsigmoid' }));
});

test('cifar-preact-resnet: pre-activation BatchNorms (not foldable) stay as BatchNormalization', async (t) => {
  torch.manualSeed(0);
  const model = new PreActResNet({ depth: 11, numClasses: 10, attention: CIFAR_SE });
  const example = torch.randn(2, 3, 32, 32);
  const ops = opTypes(toOnnx(model, example));
  example.dispose();
  assert.ok(ops.includes('BatchNormalization') && ops.includes('Conv'));
  await assertParity(t, [model, [3, 32, 32]]);
});

test('cifar-fastnet: se-fastnet (GELU, max-pooled head)', async (t) => {
  await assertParity(t, zoo('se-fastnet', 32));
});

test('resnet: seresnet18 at 64 px, and the bottleneck layout', async (t) => {
  await assertParity(t, zoo('seresnet18', 64));
  const bottleneck: ResNetOptions = { ...SMALL, layers: [1, 1, 1, 1], block: 'bottleneck', attention: TIMM_SE };
  torch.manualSeed(0);
  await assertParity(t, [new ResNet(bottleneck), [3, 64, 64]]);
});

test('resnext: grouped bottlenecks (32x4d at small widths)', async (t) => {
  torch.manualSeed(0);
  const options: ResNetOptions = {
    ...SMALL,
    widths: [32, 32, 64, 64],
    layers: [1, 1, 1, 1],
    block: 'bottleneck',
    cardinality: 32,
    baseWidth: 4,
    attention: TIMM_SE,
  };
  await assertParity(t, [new ResNet(options), [3, 64, 64]]);
});

test('legacy SENet family: basic, bottleneck, SE-ResNeXt and SENet-154 blocks', async (t) => {
  const variants: Omit<LegacySENetOptions, 'widths'>[] = [
    { block: 'basic', layers: [1, 1, 1, 1] },
    { block: 'resnet', layers: [1, 1, 1, 1] },
    { block: 'resnext', layers: [1, 1, 1, 1], groups: 8 },
    // SENet-154's stem, grouped blocks, 3×3 projections and dropout (a no-op in inference).
    {
      block: 'senet',
      layers: [1, 1, 1, 1],
      groups: 8,
      inplanes: 16,
      stemWidth: 8,
      input3x3: true,
      downsampleKernelSize: 3,
      downsamplePadding: 1,
      dropRate: 0.2,
    },
  ];
  for (const variant of variants) {
    torch.manualSeed(0);
    const model = new LegacySENet({ ...SMALL, widths: [16, 16, 32, 32], attention: LEGACY_SE, ...variant });
    await assertParity(t, [model, [3, 64, 64]]);
  }
});

test("a user's own nn.Module built from supported operations", async (t) => {
  torch.manualSeed(0);
  await assertParity(t, [new UserNet(), [3, 16, 16]]);
});

class Odd extends nn.Module {
  forward(x: Tensor): Tensor {
    return x.cumsum(1);
  }
}

class WithOdd extends nn.Module {
  conv = new nn.Conv2d(3, 4, 1);
  head = new nn.Sequential(new nn.Flatten(), new Odd());

  forward(x: Tensor): Tensor {
    return this.head.call(this.conv.call(x));
  }
}

test('an operation without an ONNX mapping is one error naming it and the module it came from', () => {
  const model = new WithOdd();
  const x = torch.randn(2, 3, 4, 4);
  assert.throws(
    () => toOnnx(model, x),
    (e: Error) =>
      e.name === 'OnnxExportError' &&
      /^aten::cumsum \(called in module 'head\.1' \(Odd\)\) has no ONNX mapping/.test(e.message),
  );
  // The model is left as it was: hooks removed, training mode restored, still usable.
  assert.equal(model.training, true);
  torch.noGrad(() => model.call(x)).dispose();
  torch.dispose([x]);
  model.dispose();
});
