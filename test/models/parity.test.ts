// Logits parity with real PyTorch for every model family (fixtures by scripts/fixtures/make_models.py):
// the same deterministic weights and input on both sides, eval mode. The measured max relative error
// per case is printed at the end (and attached to each test as a diagnostic).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { createModel, type CifarResNet, type Model } from '../../src/models/index.js';
import { fromFixture, loadFixture, maxRelativeError, type FixtureTensor } from '../helpers.js';
import { detInput, fill_ } from './deterministic-fill.js';
import { layoutDigest, layoutOf, type Layout } from './layout.js';

interface ParityCase {
  inputShape: number[];
  params: number;
  entries: number;
  layout: string;
  keys?: Layout;
  logits: FixtureTensor;
}

interface TrainingCase {
  inputShape: number[];
  targets: number[];
  logits: FixtureTensor;
  loss: number;
  grads: Record<string, FixtureTensor>;
  bn1RunningMean: FixtureTensor;
}

const fx = loadFixture<{ parity: Record<string, ParityCase>; training: TrainingCase }>('models');
const cases = fx.parity;

// Mirrors PARITY in make_models.py: how senet builds each of PyTorch's models.
const BUILD: Record<string, () => Model> = {
  'simple-cnn': () => createModel('simple-cnn'),
  'simple-cnn-cifar100': () => createModel('simple-cnn', { numClasses: 100 }),
  resnet20: () => createModel('resnet20'),
  'se-resnet20': () => createModel('se-resnet20'),
  'se-resnet20-cifar100': () => createModel('se-resnet20', { numClasses: 100 }),
  'se-resnet20-pre': () => createModel('se-resnet20', { sePlacement: 'pre' }),
  'se-resnet20-post': () => createModel('se-resnet20', { sePlacement: 'post' }),
  'se-resnet20-identity': () => createModel('se-resnet20', { sePlacement: 'identity' }),
  'eca-resnet20': () => createModel('resnet20', { attention: { type: 'eca' } }),
  'scse-resnet20-max': () => createModel('se-resnet20', { attention: { type: 'scse', combine: 'max' } }),
  'se-preresnet164': () => createModel('se-preresnet164'),
  resnet18: () => createModel('resnet18'),
  resnet50: () => createModel('resnet50'),
  seresnet50: () => createModel('seresnet50'),
  seresnext50_32x4d: () => createModel('seresnext50_32x4d'),
};

const TOLERANCE = 1e-4;
const measured: [string, number][] = [];

test('every parity case of the fixture has a senet model', () => {
  assert.deepEqual(Object.keys(BUILD).sort(), Object.keys(cases).sort());
});

for (const [name, c] of Object.entries(cases)) {
  test(`${name}: same state-dict layout and logits as PyTorch`, (t) => {
    const before = torch.memory().tensors;
    const model = BUILD[name]();
    try {
      if (c.keys) assert.deepEqual(layoutOf(model), c.keys, 'state-dict names and shapes');
      assert.equal(Object.keys(model.stateDict()).length, c.entries, 'state-dict entries');
      assert.equal(layoutDigest(model), c.layout, 'state-dict layout digest');
      assert.equal(model.numParameters(), c.params, 'parameter count');
      fill_(model);
      model.eval();
      const error = torch.noGrad(() =>
        torch.tidy(() => {
          const logits = model.forward(detInput(c.inputShape));
          assert.deepEqual(logits.shape, c.logits.shape);
          return maxRelativeError(logits, fromFixture(c.logits));
        }),
      );
      measured.push([name, error]);
      t.diagnostic(`max relative error ${error.toExponential(2)}`);
      assert.ok(error <= TOLERANCE, `max relative error ${error} exceeds ${TOLERANCE}`);
    } finally {
      model.dispose();
    }
    assert.equal(torch.memory().tensors, before, 'native tensors left behind');
  });
}

test('se-resnet20 training step: batch statistics, loss and gradients as PyTorch computes them', (t) => {
  const c = fx.training;
  const model = createModel('se-resnet20') as CifarResNet;
  fill_(model);
  model.train();
  torch.tidy(() => {
    const logits = model.forward(detInput(c.inputShape));
    const loss = torch.F.crossEntropy(logits, torch.tensor(c.targets, { dtype: 'int64' }));
    loss.backward();
    const errors: [string, number][] = [
      ['logits', maxRelativeError(logits, fromFixture(c.logits))],
      ['bn1.running_mean', maxRelativeError(model.bn1.running_mean!, fromFixture(c.bn1RunningMean))],
    ];
    const params = Object.fromEntries(model.namedParameters());
    for (const [key, grad] of Object.entries(c.grads))
      errors.push([`${key}.grad`, maxRelativeError(params[key].grad!, fromFixture(grad))]);
    assert.ok(Math.abs(loss.item() - c.loss) <= 1e-5 * c.loss, `loss ${loss.item()} vs ${c.loss}`);
    for (const [what, error] of errors) {
      t.diagnostic(`${what}: max relative error ${error.toExponential(2)}`);
      assert.ok(error <= TOLERANCE, `${what}: max relative error ${error}`);
    }
    measured.push(['se-resnet20 (train step, worst)', Math.max(...errors.map(([, e]) => e))]);
  });
  model.zeroGrad();
  model.dispose();
});

after(() => {
  const width = Math.max(...measured.map(([n]) => n.length));
  console.log(
    `\nlogits vs PyTorch 1.13, max relative error (float32):\n${measured
      .map(([n, e]) => `  ${n.padEnd(width)}  ${e === 0 ? '0 (bitwise equal)' : e.toExponential(2)}`)
      .join('\n')}`,
  );
});
