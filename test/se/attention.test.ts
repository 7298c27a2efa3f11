// SE blocks and their variants against real PyTorch (fixtures by scripts/fixtures/make_models.py):
// outputs for the same weights and input, key names, width rules, gradients, and error messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import {
  SEBlock,
  SqueezeExcite,
  EcaModule,
  SpatialSE,
  ChannelSpatialSE,
  createAttention,
  makeDivisible,
  reducedWidth,
  ecaKernelSize,
  type AttentionConfig,
  type Layer,
} from '../../src/se/index.js';
import { fromFixture, gradCheck, loadFixture, maxRelativeError, type FixtureTensor } from '../helpers.js';
import { detInput, fill_ } from '../models/deterministic-fill.js';
import { layoutOf, type Layout } from '../models/layout.js';

interface AttentionCase {
  config: AttentionConfig;
  channels: number;
  inputShape: number[];
  keys: Layout;
  output: FixtureTensor;
}

interface Fixture {
  attention: Record<string, AttentionCase>;
  rules: { makeDivisible: [number, number][]; timmSeWidth: [number, number][]; ecaKernelSize: [number, number][] };
}

const fx = loadFixture<Fixture>('models');

for (const [name, c] of Object.entries(fx.attention)) {
  test(`${name}: ${JSON.stringify(c.config)} gives PyTorch's keys and output`, () => {
    const before = torch.memory().tensors;
    const unit = createAttention(c.config, c.channels)!;
    try {
      assert.deepEqual(layoutOf(unit), c.keys);
      fill_(unit);
      const error = torch.noGrad(() =>
        torch.tidy(() => maxRelativeError(unit.forward(detInput(c.inputShape).mul(2)), fromFixture(c.output))),
      );
      assert.ok(error <= 1e-5, `max relative error ${error}`);
    } finally {
      unit.dispose();
    }
    assert.equal(torch.memory().tensors, before, 'native tensors left behind');
  });
}

test('every SE form keeps the excitation under fc1 / fc2', () => {
  for (const c of Object.values(fx.attention).filter((a) => a.config.type === 'se')) {
    assert.deepEqual(
      c.keys.map(([k]) => k.split('.')[0]).filter((k, i, all) => all.indexOf(k) === i),
      ['fc1', 'fc2'],
    );
  }
});

test('reduced widths: timm make_divisible, timm SEModule (round_limit 0) and the floor rule', () => {
  for (const [v, expected] of fx.rules.makeDivisible) assert.equal(makeDivisible(v), expected, `makeDivisible(${v})`);
  for (const [c, expected] of fx.rules.timmSeWidth)
    assert.equal(reducedWidth(c, 16, 'divisible'), expected, `${c} channels`);
  assert.equal(reducedWidth(64, 16, 'floor'), 4);
  assert.equal(reducedWidth(8, 16, 'floor'), 1, 'the floor rule keeps at least one hidden unit');
  assert.equal(new SqueezeExcite(176, { rdMode: 'divisible' }).rdChannels, 8);
  assert.equal(new SqueezeExcite(64, { rdChannels: 5 }).rdChannels, 5);
});

test('ECA kernel sizes follow the paper for every channel count', () => {
  for (const [c, expected] of fx.rules.ecaKernelSize) {
    assert.equal(ecaKernelSize(c), expected, `${c} channels`);
    const eca = new EcaModule(c);
    assert.deepEqual(eca.conv.weight.shape, [1, 1, expected]);
    eca.dispose();
  }
  assert.throws(() => new EcaModule(64, { kernelSize: 4 }), /kernelSize must be odd/);
});

// Gradients of every variant w.r.t. its input, against finite differences in float64.
const GRAD_CASES: [string, AttentionConfig][] = [
  ['se linear', { type: 'se', reduction: 4 }],
  [
    'se conv + bias, avgmax, hardsigmoid',
    { type: 'se', reduction: 4, excitation: 'conv', bias: true, squeeze: 'avgmax', gate: 'hardsigmoid' },
  ],
  ['se max, tanh', { type: 'se', reduction: 2, squeeze: 'max', gate: 'tanh' }],
  ['eca', { type: 'eca' }],
  ['sse', { type: 'sse' }],
  ['scse add', { type: 'scse', reduction: 4 }],
  ['scse max', { type: 'scse', reduction: 4, combine: 'max' }],
];

for (const [name, config] of GRAD_CASES) {
  test(`${name}: input gradients match finite differences`, () => {
    torch.manualSeed(7);
    const unit = createAttention(config, 8, { dtype: 'float64' })!;
    const x = torch.randn([2, 8, 2, 3], { dtype: 'float64' });
    try {
      gradCheck((input) => unit.forward(input), [x], {}, name);
    } finally {
      unit.dispose();
      x.dispose();
    }
  });
}

test("SEBlock is the seed's block: fc1/fc2 without bias, and the same function as SqueezeExcite's defaults", () => {
  torch.manualSeed(3);
  const seed = new SEBlock(32, 8);
  const unit = new SqueezeExcite(32, { reduction: 8 });
  try {
    assert.deepEqual(layoutOf(seed), [
      ['fc1.weight', [4, 32]],
      ['fc2.weight', [32, 4]],
    ]);
    unit.loadStateDict(seed.stateDict());
    torch.tidy(() => {
      const x = torch.randn([3, 32, 4, 4]);
      assert.ok(maxRelativeError(unit.forward(x), seed.forward(x)) < 1e-6);
    });
  } finally {
    seed.dispose();
    unit.dispose();
  }
});

test('bad configurations fail clearly', () => {
  assert.throws(() => new SEBlock(8, 16), {
    message: 'SEBlock: 8 channels with reduction 16 leave 0 hidden units; expected reduction <= 8',
  });
  assert.throws(
    () => createAttention({ type: 'se', redution: 8 } as AttentionConfig, 16),
    /unknown option 'redution'; expected some of type, reduction/,
  );
  assert.throws(
    () => createAttention({ type: 'cbam' } as unknown as AttentionConfig, 16),
    /type must be one of 'se', 'eca', 'sse', 'scse', 'none'/,
  );
  assert.throws(
    () => createAttention({ gate: 'relu' } as unknown as AttentionConfig, 16),
    /gate must be one of 'sigmoid', 'hardsigmoid', 'tanh'/,
  );
  assert.throws(
    () => createAttention({ squeeze: 'median' } as unknown as AttentionConfig, 16),
    /squeeze must be one of 'avg', 'max', 'avgmax'/,
  );
  assert.throws(() => createAttention({ reduction: 0 }, 16), /reduction must be positive/);
  assert.equal(createAttention({ type: 'none' }, 16), null);
});

test('a tensor of the wrong channel count is refused with the module and the shape it expected', () => {
  const units: [Layer, string][] = [
    [new SEBlock(16), 'SEBlock'],
    [new SqueezeExcite(16), 'SqueezeExcite'],
    [new EcaModule(16), 'EcaModule'],
    [new SpatialSE(16), 'SpatialSE'],
    [new ChannelSpatialSE(16), 'SqueezeExcite'],
  ];
  torch.tidy(() => {
    for (const [unit, who] of units) {
      assert.throws(() => unit.forward(torch.zeros([2, 8, 4, 4])), {
        message: `${who}: expected input of shape [N, 16, H, W], got [2, 8, 4, 4]`,
      });
      unit.dispose();
    }
  });
});

test('the gate is a module, so a forward hook can record the excitation an SE unit applied', () => {
  const unit = new SqueezeExcite(16, { reduction: 4, excitation: 'conv' });
  const recorded: Tensor[] = [];
  const handle = unit.gate.registerForwardHook((_m, _inputs, output) => {
    recorded.push(torch.keep(output.clone()));
  });
  torch.tidy(() => {
    const x = torch.rand([2, 16, 3, 3]).add(0.5);
    const y = unit.call(x);
    assert.equal(recorded.length, 1);
    assert.deepEqual(recorded[0].shape, [2, 16, 1, 1]);
    // The output is the input scaled channel-wise by exactly the recorded gates.
    assert.ok(maxRelativeError(y, x.mul(recorded[0])) < 1e-7);
  });
  handle.remove();
  torch.dispose(recorded);
  unit.dispose();
});
