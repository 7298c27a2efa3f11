import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import { SEBlock, SqueezeExcite, EcaModule, ChannelSpatialSE } from '../../src/se/index.js';
import { excitationOf, probeExcitation, excitationUnits } from '../../src/se/probe.js';
import { createModel } from '../../src/models/index.js';
import { makeDataset } from '../../src/data/index.js';
import { analyseExcitation, balancedSubset, lastUnitPerStage, unitStatistics } from '../../src/report/index.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Sets a Linear layer's weight (and bias) to known values. */
function setLinear(layer: nn.Module, weight: number[][], bias?: number[]): void {
  const linear = layer as nn.Linear;
  torch.noGrad(() =>
    torch.tidy(() => {
      linear.weight.copy_(torch.tensor(weight.flat(), { shape: [weight.length, weight[0].length] }));
      if (bias) linear.bias!.copy_(torch.tensor(bias));
    }),
  );
}
const identity = (n: number, scale = 1) =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? scale : 0)));

/**
 * Two SE units in a row with known weights. On an image whose channel c is the constant v_c:
 *   first  (SqueezeExcite, bias): gate g1_c = sigmoid(2·v_c + b_c)   (fc1 = I, ReLU, fc2 = 2I + b)
 *   second (seed SEBlock, no bias): it sees v_c·g1_c, so g2_c = sigmoid(v_c·g1_c)   (fc1 = fc2 = I)
 */
class TwoUnits extends nn.Module {
  first = new SqueezeExcite(3, { rdChannels: 3, bias: true });
  second = new SEBlock(3, 1);

  constructor(readonly b: number[]) {
    super();
    setLinear(this.first.fc1, identity(3), [0, 0, 0]);
    setLinear(this.first.fc2, identity(3, 2), b);
    setLinear(this.second.fc1, identity(3));
    setLinear(this.second.fc2, identity(3));
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => this.second.forward(this.first.forward(x)).mean([2, 3]));
  }
}

const CLASSES = ['a', 'b', 'c', 'd']; // 'd' has no images
const LABELS = [0, 0, 0, 1, 1, 2, 2];
const pixel = (i: number, c: number) => (i * 37 + c * 91 + 11) % 256;

function constantImages() {
  const images = new Uint8Array(LABELS.length * 3 * 4);
  LABELS.forEach((_, i) => {
    for (let c = 0; c < 3; c++) images.fill(pixel(i, c), (i * 3 + c) * 4, (i * 3 + c + 1) * 4);
  });
  return makeDataset({
    name: 'constant planes',
    images,
    labels: Int32Array.from(LABELS),
    classes: CLASSES,
    channels: 3,
    height: 2,
    width: 2,
  });
}

/** The expected gates of both units for image i, in float64 from the formulas above. */
function expectedGates(i: number, b: number[]): [number[], number[]] {
  const v = [0, 1, 2].map((c) => pixel(i, c) / 255);
  const g1 = v.map((x, c) => sigmoid(2 * x + b[c]));
  return [g1, v.map((x, c) => sigmoid(x * g1[c]))];
}

function expectedMeans(images: number[], b: number[]) {
  return [0, 1].map((unit) =>
    CLASSES.map((_, k) => {
      const members = images.filter((i) => LABELS[i] === k);
      if (members.length === 0) return null;
      return [0, 1, 2].map((c) => members.reduce((s, i) => s + expectedGates(i, b)[unit][c], 0) / members.length);
    }),
  );
}

function assertNear(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-6, `${what}: ${actual} vs ${expected}`);
}

test('SE analysis: per-class mean gates of known units are exactly the expected ones', async () => {
  const b = [-1, 0, 0.5];
  const model = new TwoUnits(b);
  const before = torch.memory().tensors;
  const analysis = await analyseExcitation(model, constantImages(), { transform: { augment: 'none' }, batchSize: 3 });
  assert.equal(torch.memory().tensors, before, 'no tensor left behind');
  assert.deepEqual(
    analysis.units.map((u) => u.name),
    ['first', 'second'],
  );
  assert.equal(analysis.images, 7);
  assert.deepEqual(analysis.imagesPerClass, [3, 2, 2, 0]);
  const expected = expectedMeans(
    LABELS.map((_, i) => i),
    b,
  );
  analysis.units.forEach((unit, u) => {
    assert.equal(unit.channels, 3);
    assert.equal(unit.perClass[3], null, 'a class without images has no means');
    for (let k = 0; k < 3; k++)
      for (let c = 0; c < 3; c++)
        assertNear(unit.perClass[k]![c], expected[u][k]![c], `${unit.name} class ${k} channel ${c}`);
    for (let c = 0; c < 3; c++) {
      const all = LABELS.reduce((s, _, i) => s + expectedGates(i, b)[u][c], 0) / LABELS.length;
      assertNear(unit.overall[c], all, `${unit.name} overall channel ${c}`);
    }
    // Class-specificity: mean over channels of the population std across the classes with images.
    const present = expected[u].filter((m): m is number[] => m !== null);
    const spec =
      [0, 1, 2].reduce((s, c) => {
        const mean = present.reduce((t, m) => t + m[c], 0) / present.length;
        return s + Math.sqrt(present.reduce((t, m) => t + (m[c] - mean) ** 2, 0) / present.length);
      }, 0) / 3;
    assertNear(unit.classSpecificity, spec, `${unit.name} class-specificity`);
    assert.ok(unit.classSpecificity > 0.001, 'these classes differ');
  });
  assert.equal(model.training, true, 'train mode restored');
  model.dispose();
});

test('SE analysis: a bounded number of images is balanced across classes', async () => {
  assert.deepEqual(balancedSubset(Int32Array.from(LABELS), 4, 4), [0, 1, 3, 5]);
  assert.deepEqual(balancedSubset(Int32Array.from(LABELS), 4, 6), [0, 1, 3, 4, 5, 6]);
  assert.deepEqual(balancedSubset(Int32Array.from(LABELS), 4, 100), [0, 1, 2, 3, 4, 5, 6]);
  const b = [0.3, -0.2, 1];
  const model = new TwoUnits(b);
  const analysis = await analyseExcitation(model, constantImages(), { transform: { augment: 'none' }, maxImages: 4 });
  assert.equal(analysis.images, 4);
  assert.deepEqual(analysis.imagesPerClass, [2, 1, 1, 0]);
  const expected = expectedMeans([0, 1, 3, 5], b);
  for (let k = 0; k < 3; k++)
    for (let c = 0; c < 3; c++)
      assertNear(analysis.units[1].perClass[k]![c], expected[1][k]![c], `class ${k} channel ${c}`);
  model.dispose();
});

test('SE analysis: an fc2 bias alone forces the gate, the same for every class (class-specificity 0)', async () => {
  const model = new TwoUnits([0, 0, 0]);
  setLinear(
    model.first.fc2,
    [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ],
    [Math.log(3), 0, -Math.log(3)],
  ); // sigmoid: 3/4, 1/2, 1/4
  const analysis = await analyseExcitation(model, constantImages(), {
    transform: { augment: 'none' },
    units: [['first', model.first]],
  });
  const [unit] = analysis.units;
  for (const means of unit.perClass.slice(0, 3)) {
    for (const [c, gate] of [0.75, 0.5, 0.25].entries()) assertNear(means![c], gate, `channel ${c}`);
  }
  assertNear(unit.classSpecificity, 0, 'class-specificity');
  model.dispose();
});

test('unit statistics from per-class sums', () => {
  // Class 0: one image with gates [0.2, 0.4]; class 1: two images summing to [1.2, 0.8].
  const unit = unitStatistics('u', Float64Array.from([0.2, 0.4, 1.2, 0.8]), 2, [1, 2]);
  assert.deepEqual(unit.perClass, [
    [0.2, 0.4],
    [0.6, 0.4],
  ]);
  assertNear(unit.overall[0], 1.4 / 3, 'overall 0');
  assertNear(unit.overall[1], 0.4, 'overall 1');
  // Channel 0: std of {0.2, 0.6} = 0.2; channel 1: 0.
  assertNear(unit.classSpecificity, 0.1, 'class-specificity');
});

test('probe: the gates read are exactly what each kind of SE unit multiplies its input by', () => {
  torch.manualSeed(3);
  const units: [string, nn.Module & { forward(x: Tensor): Tensor }, string][] = [
    ['SEBlock', new SEBlock(16, 4), 'fc2'],
    ['SqueezeExcite linear', new SqueezeExcite(16, { reduction: 4 }), 'gate'],
    [
      'SqueezeExcite conv + bias + hardsigmoid',
      new SqueezeExcite(16, { reduction: 4, excitation: 'conv', bias: true, gate: 'hardsigmoid' }),
      'gate',
    ],
    ['EcaModule', new EcaModule(16), 'gate'],
    ['scSE channel half', new ChannelSpatialSE(16).cSE, 'gate'],
  ];
  const x = torch.keep(torch.rand([3, 16, 5, 5]).add(0.1));
  const before = torch.memory().tensors;
  for (const [what, unit, hooked] of units) {
    const { batch, channels, values } = excitationOf(unit as never, x);
    assert.equal(batch, 3, what);
    assert.equal(channels, 16, what);
    const ratio = torch.noGrad(() =>
      torch.tidy(() => unit.forward(x).div(x).mean([2, 3]).reshape(-1).data() as Float32Array),
    );
    values.forEach((g, i) =>
      assert.ok(Math.abs(g - ratio[i]) <= 1e-5 * Math.max(1, Math.abs(g)), `${what}: gate ${i} ${g} vs ${ratio[i]}`),
    );
    const child = (unit as unknown as Record<string, nn.Module>)[hooked];
    assert.equal(Object.hasOwn(child, 'forward'), false, `${what}: the hook is removed`);
  }
  assert.equal(torch.memory().tensors, before, 'no tensor left behind');
  x.dispose();
  assert.throws(
    () => probeExcitation(new nn.ReLU(), () => {}),
    /probeExcitation: expected an SEBlock, SqueezeExcite or EcaModule, got ReLU/,
  );
});

test('the units studied are the last SE unit of each stage', () => {
  const names = (model: nn.Module) => lastUnitPerStage(model).map(([name]) => name);
  assert.deepEqual(names(createModel('se-resnet20')), ['layer1.2.se', 'layer2.2.se', 'layer3.2.se']);
  assert.deepEqual(names(createModel('se-resnet32', { attention: { type: 'eca' } })), [
    'layer1.4.se',
    'layer2.4.se',
    'layer3.4.se',
  ]);
  assert.deepEqual(names(createModel('simple-cnn')), ['se1']);
  assert.deepEqual(names(createModel('resnet20')), []);
  assert.equal(excitationUnits(createModel('se-resnet20')).length, 9);
  assert.deepEqual(names(createModel('se-resnet20', { attention: { type: 'scse' } })), [
    'layer1.2.se.cSE',
    'layer2.2.se.cSE',
    'layer3.2.se.cSE',
  ]);
});
