// F (torch.nn.functional): each function's output and the gradients backward() leaves in its inputs
// against real PyTorch (test/fixtures/functional.json, made by scripts/fixtures/make_functional.py), and
// autograd's gradients against finite differences in float64 (gradCheck).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import { assertClose, loadFixture } from '../helpers.js';
import { checkAgainstPyTorch, gradCheckCase, type FunctionalCase, type Inputs } from '../functional-cases.js';

const { F } = torch;

interface Case extends FunctionalCase {
  options: Record<string, unknown>;
}

const cases = loadFixture<Record<string, Case>>('functional');

// The senet call for each fixture case; its options are the ones make_functional.py passed to PyTorch
// (and stores next to the case). Inputs named like the Python keyword arguments.
const CALLS: Record<string, (i: Inputs) => Tensor> = {
  'conv2d.basic': ({ input, weight, bias }) => F.conv2d(input, weight, bias),
  'conv2d.stride_padding': ({ input, weight, bias }) => F.conv2d(input, weight, bias, { stride: 2, padding: 1 }),
  'conv2d.asymmetric': ({ input, weight }) => F.conv2d(input, weight, null, { stride: [2, 1], padding: [1, 0] }),
  'conv2d.same_dilation': ({ input, weight, bias }) => F.conv2d(input, weight, bias, { padding: 'same', dilation: 2 }),
  'conv2d.same_even_kernel': ({ input, weight }) => F.conv2d(input, weight, null, { padding: 'same' }),
  'conv2d.valid': ({ input, weight }) => F.conv2d(input, weight, undefined, { padding: 'valid' }),
  'conv2d.groups': ({ input, weight, bias }) => F.conv2d(input, weight, bias, { groups: 2, padding: 1 }),
  'conv2d.depthwise': ({ input, weight }) => F.conv2d(input, weight, null, { groups: 4, stride: 2 }),
  'conv1d.basic': ({ input, weight, bias }) => F.conv1d(input, weight, bias),
  'conv1d.stride_padding_dilation': ({ input, weight }) =>
    F.conv1d(input, weight, null, { stride: 2, padding: 2, dilation: 2 }),
  'conv1d.same': ({ input, weight }) => F.conv1d(input, weight, null, { padding: 'same' }),
  'conv1d.groups': ({ input, weight }) => F.conv1d(input, weight, null, { groups: 2 }),
  'linear.bias': ({ input, weight, bias }) => F.linear(input, weight, bias),
  'linear.no_bias_3d': ({ input, weight }) => F.linear(input, weight),

  'batchNorm.train': ({ input, weight, bias, running_mean, running_var }) =>
    F.batchNorm(input, running_mean, running_var, { weight, bias, training: true, momentum: 0.2 }),
  'batchNorm.train_2d_default_momentum': ({ input, running_mean, running_var }) =>
    F.batchNorm(input, running_mean, running_var, { training: true }),
  'batchNorm.train_no_stats': ({ input, weight, bias }) =>
    F.batchNorm(input, null, null, { weight, bias, training: true, eps: 1e-3 }),
  'batchNorm.eval': ({ input, weight, bias, running_mean, running_var }) =>
    F.batchNorm(input, running_mean, running_var, { weight, bias, training: false }),
  'layerNorm.affine': ({ input, weight, bias }) => F.layerNorm(input, [4], weight, bias),
  'groupNorm.affine': ({ input, weight, bias }) => F.groupNorm(input, 2, weight, bias),

  'activation.relu': ({ input }) => F.relu(input),
  'activation.sigmoid': ({ input }) => F.sigmoid(input),
  'activation.tanh': ({ input }) => F.tanh(input),
  'activation.gelu': ({ input }) => F.gelu(input),
  'activation.gelu_tanh': ({ input }) => F.gelu(input, 'tanh'),
  'activation.silu': ({ input }) => F.silu(input),
  'activation.hardsigmoid': ({ input }) => F.hardsigmoid(input),
  'activation.hardswish': ({ input }) => F.hardswish(input),
  'activation.relu6': ({ input }) => F.relu6(input),
  'activation.leakyRelu': ({ input }) => F.leakyRelu(input, 0.2),
  'activation.elu': ({ input }) => F.elu(input, 0.7),
  'activation.softplus': ({ input }) => F.softplus(input, 2, 3),
  'activation.mish': ({ input }) => F.mish(input),
  'softmax.dim1': ({ input }) => F.softmax(input, 1),
  'softmax.last': ({ input }) => F.softmax(input, -1),
  'logSoftmax.dim0': ({ input }) => F.logSoftmax(input, 0),
  'logSoftmax.dim1': ({ input }) => F.logSoftmax(input, 1),

  'crossEntropy.mean': ({ input, target }) => F.crossEntropy(input, target),
  'crossEntropy.sum': ({ input, target }) => F.crossEntropy(input, target, { reduction: 'sum' }),
  'crossEntropy.none': ({ input, target }) => F.crossEntropy(input, target, { reduction: 'none' }),
  'crossEntropy.label_smoothing': ({ input, target }) => F.crossEntropy(input, target, { labelSmoothing: 0.1 }),
  'crossEntropy.ignore_index': ({ input, target }) => F.crossEntropy(input, target),
  'crossEntropy.ignore_index_custom': ({ input, target }) => F.crossEntropy(input, target, { ignoreIndex: 3 }),
  'crossEntropy.weight': ({ input, target, class_weight }) => F.crossEntropy(input, target, { weight: class_weight }),
  'crossEntropy.weight_smoothing_ignore': ({ input, target, class_weight }) =>
    F.crossEntropy(input, target, { weight: class_weight, labelSmoothing: 0.2, ignoreIndex: 1 }),
  'crossEntropy.weight_none': ({ input, target, class_weight }) =>
    F.crossEntropy(input, target, { weight: class_weight, reduction: 'none' }),
  'crossEntropy.probabilities': ({ input, target }) => F.crossEntropy(input, target),
  'crossEntropy.spatial': ({ input, target }) => F.crossEntropy(input, target),
  'nllLoss.mean': ({ input, target }) => F.nllLoss(input, target),
  'nllLoss.sum': ({ input, target }) => F.nllLoss(input, target, { reduction: 'sum' }),
  'nllLoss.none': ({ input, target }) => F.nllLoss(input, target, { reduction: 'none' }),
  'nllLoss.weight_ignore': ({ input, target, class_weight }) =>
    F.nllLoss(input, target, { weight: class_weight, ignoreIndex: 0 }),
  'nllLoss.spatial': ({ input, target }) => F.nllLoss(input, target),
  'mseLoss.mean': ({ input, target }) => F.mseLoss(input, target),
  'mseLoss.sum': ({ input, target }) => F.mseLoss(input, target, 'sum'),
  'mseLoss.none': ({ input, target }) => F.mseLoss(input, target, 'none'),
  'bceWithLogits.mean': ({ input, target }) => F.binaryCrossEntropyWithLogits(input, target),

  'maxPool2d.k2': ({ input }) => F.maxPool2d(input, 2),
  'maxPool2d.k3_s2_p1': ({ input }) => F.maxPool2d(input, 3, { stride: 2, padding: 1 }),
  'maxPool2d.ceil_mode': ({ input }) => F.maxPool2d(input, 2, { ceilMode: true }),
  'maxPool2d.dilation': ({ input }) => F.maxPool2d(input, [2, 2], { stride: 1, dilation: 2 }),
  'avgPool2d.k2': ({ input }) => F.avgPool2d(input, 2),
  'avgPool2d.k3_s2_p1_exclude_pad': ({ input }) =>
    F.avgPool2d(input, 3, { stride: 2, padding: 1, countIncludePad: false }),
  'avgPool2d.k3_s2_p1_include_pad': ({ input }) => F.avgPool2d(input, 3, { stride: 2, padding: 1 }),
  'avgPool2d.ceil_mode': ({ input }) => F.avgPool2d(input, 2, { ceilMode: true }),
  'avgPool2d.divisor_override': ({ input }) => F.avgPool2d(input, [2, 3], { stride: [1, 2], divisorOverride: 4 }),
  'adaptiveAvgPool2d.global': ({ input }) => F.adaptiveAvgPool2d(input, 1),
  'adaptiveAvgPool2d.uneven': ({ input }) => F.adaptiveAvgPool2d(input, [2, 3]),
  'adaptiveMaxPool2d.2x2': ({ input }) => F.adaptiveMaxPool2d(input, 2),
  'adaptiveMaxPool2d.uneven': ({ input }) => F.adaptiveMaxPool2d(input, [3, 2]),
  'adaptiveAvgPool1d.3': ({ input }) => F.adaptiveAvgPool1d(input, 3),

  'pad.constant': ({ input }) => F.pad(input, [1, 2, 0, 1]),
  'pad.constant_value': ({ input }) => F.pad(input, [2, 0], 'constant', 1.5),
  'pad.constant_leading_dims': ({ input }) => F.pad(input, [0, 0, 1, 1, 1, 0]),
  'pad.reflect': ({ input }) => F.pad(input, [2, 1, 1, 2], 'reflect'),
  'pad.replicate': ({ input }) => F.pad(input, [2, 1, 1, 2], 'replicate'),
  'pad.circular': ({ input }) => F.pad(input, [1, 2, 2, 1], 'circular'),
  'pad.reflect_1d': ({ input }) => F.pad(input, [3, 1], 'reflect'),

  'unfold.k2': ({ input }) => F.unfold(input, 2),
  'unfold.dilation_padding_stride': ({ input }) => F.unfold(input, 3, { dilation: 2, padding: 1, stride: 2 }),
  'unfold.rect': ({ input }) => F.unfold(input, [2, 3], { stride: [1, 2] }),

  // PyTorch's masks: the same seed draws the same Bernoulli samples in libtorch.
  'dropout.train': ({ input }) => {
    torch.manualSeed(3);
    return F.dropout(input, 0.3);
  },
  'dropout.eval': ({ input }) => {
    torch.manualSeed(3);
    return F.dropout(input, 0.3, false);
  },
  'dropout2d.train': ({ input }) => {
    torch.manualSeed(4);
    return F.dropout2d(input, 0.5);
  },
};

test('every functional fixture case has a senet call, and every call a fixture case', () => {
  assert.deepEqual(Object.keys(CALLS).sort(), Object.keys(cases).sort());
});

for (const [name, call] of Object.entries(CALLS)) {
  test(`${name}: output and gradients match PyTorch`, () => checkAgainstPyTorch(name, cases[name], call));
}

// Finite differences for every differentiable case, in float64, over the inputs PyTorch differentiates
// (the others, such as targets and running statistics, stay fixed). Dropout is reseeded inside the
// function, so that every evaluation draws the same mask.
test("autograd's gradients of every differentiable F function agree with finite differences (float64)", () => {
  for (const [name, call] of Object.entries(CALLS)) gradCheckCase(name, cases[name], call);
});

test('batchNorm in training updates the running statistics in place, with momentum', () => {
  torch.tidy(() => {
    const x = torch.tensor(
      [
        [1, 10],
        [3, 30],
        [5, 50],
      ],
      { dtype: 'float32' },
    );
    const mean = torch.zeros(2);
    const variance = torch.ones(2);
    F.batchNorm(x, mean, variance, { training: true, momentum: 0.5 });
    // running = (1 - momentum) * running + momentum * batch statistic (the variance unbiased)
    assertClose(mean, [0.5 * 3, 0.5 * 30]);
    assertClose(variance, [0.5 + 0.5 * 4, 0.5 + 0.5 * 400]);
    const evalOut = F.batchNorm(x, mean, variance);
    assertClose(evalOut, x.sub(mean).div(variance.add(1e-5).sqrt()), { rtol: 1e-6, atol: 1e-6 });
    assertClose(mean, [1.5, 15], {}, 'evaluation leaves the statistics alone');
  });
});

test('batchNorm refuses what PyTorch refuses: one value per channel in training, missing statistics in eval', () => {
  torch.tidy(() => {
    assert.throws(
      () => F.batchNorm(torch.ones(1, 3), torch.zeros(3), torch.ones(3), { training: true }),
      /expected more than 1 value per channel when training, got input of shape \[1, 3\]/,
    );
    assert.throws(
      () => F.batchNorm(torch.ones(2, 3), null, null),
      /running mean and variance are required when not training/,
    );
    assert.equal(
      F.batchNorm(torch.ones(1, 3), torch.zeros(3), torch.ones(3)).shape.length,
      2,
      'eval with a batch of one is fine',
    );
  });
});

test('dropout zeroes about p of the elements and scales the rest by 1/(1-p); eval and p=0 are the identity', () => {
  torch.tidy(() => {
    const x = torch.ones(20000);
    const y = F.dropout(x, 0.25);
    const kept = y.ne(0);
    const keptFraction = kept.float().mean().item();
    assert.ok(Math.abs(keptFraction - 0.75) < 0.02, `kept ${keptFraction}`);
    assert.ok(
      y
        .index([kept])
        .sub(1 / 0.75)
        .abs()
        .max()
        .item() < 1e-6,
      'the kept elements are scaled by 1/(1-p)',
    );
    assert.ok(F.dropout(x, 0.25, false).equal(x));
    assert.ok(F.dropout(x, 0).equal(x));
    assert.equal(F.dropout(x, 1).abs().sum().item(), 0);
    assert.throws(() => F.dropout(x, 1.5), /dropout probability must be in \[0, 1\], got 1.5/);
    const channels = F.dropout2d(torch.ones(2, 64, 3, 3), 0.5);
    const flat = channels.flatten(2);
    assert.equal(flat.max(2).values.sub(flat.min(2).values).abs().max().item(), 0, 'dropout2d drops whole channels');
    const keptChannels = flat.select(2, 0).ne(0).float().mean().item();
    assert.ok(keptChannels > 0.3 && keptChannels < 0.7, `kept ${keptChannels} of the channels`);
  });
});

test('relu inplace overwrites its input and returns it', () => {
  torch.tidy(() => {
    const x = torch.tensor([-1, 2, -3], { dtype: 'float32' });
    assert.equal(F.relu(x, true), x);
    assert.deepEqual(x.toArray(), [0, 2, 0]);
  });
});

test('softmax/logSoftmax accept a dtype to compute in, and the Tensor methods agree with F', () => {
  torch.tidy(() => {
    const x = torch.tensor([[1, 2, 3]], { dtype: 'float32' });
    assert.equal(F.softmax(x, 1, 'float64').dtype, 'float64');
    assertClose(x.softmax(1), F.softmax(x, 1));
    assertClose(x.logSoftmax(-1), F.logSoftmax(x, -1));
    assertClose(F.logSoftmax(x, 1).exp(), F.softmax(x, 1));
  });
});

test('F arguments are checked: crossEntropy label smoothing range, pad pairs, unknown reductions', () => {
  torch.tidy(() => {
    const logits = torch.zeros(2, 3);
    const target = torch.tensor([0, 2]);
    assert.throws(
      () => F.crossEntropy(logits, target, { labelSmoothing: 1.5 }),
      /labelSmoothing must be in \[0, 1\], got 1.5/,
    );
    assert.throws(() => F.crossEntropy(logits, target, { reduction: 'avg' as never }), /unknown reduction 'avg'/);
    assert.throws(() => F.pad(logits, [1, 1, 1]), /padding must have an even length/);
  });
});
