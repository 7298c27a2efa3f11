// nn.init against real PyTorch (exact values after manual_seed; fixtures by scripts/fixtures/make_nn.py)
// and against the distributions' own statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import { assertClose, loadFixture, type FixtureTensor } from '../helpers.js';

const { init } = nn;

interface Fixture {
  seededInit: { seed: number; layers: Record<string, FixtureTensor>[] };
  init: Record<string, { seed: number; output: FixtureTensor }>;
  gains: {
    gains: { nonlinearity: nn.init.Nonlinearity; param?: number; gain: number }[];
    fans: { shape: number[]; fans: [number, number] }[];
  };
}

const fx = loadFixture<Fixture>('nn');

const values = (t: Tensor) => Array.from(t.data() as ArrayLike<number | bigint>, Number);

test("calculateGain gives PyTorch's value for every nonlinearity", () => {
  for (const { nonlinearity, param, gain } of fx.gains.gains) {
    assert.equal(init.calculateGain(nonlinearity, param), gain, `${nonlinearity} (${param})`);
  }
  assert.throws(() => init.calculateGain('softsign' as never), /unsupported nonlinearity 'softsign'/);
});

test('fanInAndFanOut multiplies channels by the receptive field, as PyTorch does', () => {
  for (const { shape, fans } of fx.gains.fans) {
    const t = torch.empty(shape);
    assert.deepEqual(init.fanInAndFanOut(t), fans, `shape [${shape}]`);
    t.dispose();
  }
  const vector = torch.empty(5);
  assert.throws(() => init.fanInAndFanOut(vector), /fewer than 2 dimensions \(got shape \[5\]\)/);
  assert.throws(() => init.kaimingUniform_(vector), /fewer than 2 dimensions/);
  vector.dispose();
});

// Mirrors init_functions() in make_nn.py.
const INIT_CASES: Record<string, [number[], (t: Tensor) => Tensor]> = {
  kaiming_uniform_default: [[6, 4, 3, 3], (w) => init.kaimingUniform_(w)],
  kaiming_uniform_fan_out_leaky: [[6, 4, 3, 3], (w) => init.kaimingUniform_(w, { a: 0.3, mode: 'fan_out' })],
  kaiming_normal_fan_out_relu: [[8, 5], (w) => init.kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' })],
  kaiming_normal_default: [[5, 3, 2], (w) => init.kaimingNormal_(w)],
  xavier_uniform_tanh: [[5, 7], (w) => init.xavierUniform_(w, init.calculateGain('tanh'))],
  xavier_normal: [[3, 4, 2, 2], (w) => init.xavierNormal_(w)],
  trunc_normal_default: [[300], (w) => init.truncNormal_(w)],
  trunc_normal_shifted: [[300], (w) => init.truncNormal_(w, { mean: 0.2, std: 0.5, a: -0.5, b: 1.0 })],
  uniform: [[10], (w) => init.uniform_(w, -2.0, 3.0)],
  normal: [[10], (w) => init.normal_(w, 1.0, 2.0)],
  constant: [[2, 3], (w) => init.constant_(w, 0.75)],
  zeros: [[2, 3], (w) => init.zeros_(w)],
  ones: [[2, 3], (w) => init.ones_(w)],
  dirac_conv2d: [[6, 4, 3, 3], (w) => init.dirac_(w)],
  dirac_conv2d_groups: [[6, 2, 3, 3], (w) => init.dirac_(w, 2)],
  dirac_conv1d_wide: [[3, 5, 4], (w) => init.dirac_(w)],
  dirac_conv3d: [[2, 2, 1, 3, 3], (w) => init.dirac_(w)],
};

test('every fixture init case has a TypeScript counterpart', () => {
  assert.deepEqual(Object.keys(INIT_CASES).sort(), Object.keys(fx.init).sort());
});

for (const [name, { seed, output }] of Object.entries(fx.init)) {
  test(`${name} after manualSeed(${seed}) fills exactly PyTorch's values`, () => {
    torch.tidy(() => {
      const [shape, fill] = INIT_CASES[name];
      torch.manualSeed(seed);
      const t = torch.empty(shape);
      assert.equal(fill(t), t, 'fills in place and returns the tensor');
      // Bounds come from the same float64 arithmetic and the samples from the same kernels: no tolerance.
      assertClose(t, output, { rtol: 0, atol: 0 }, name);
    });
  });
}

test("Linear, Conv2d, Conv1d and BatchNorm2d built after manualSeed have exactly PyTorch's default weights", () => {
  const { seed, layers: expected } = fx.seededInit;
  torch.manualSeed(seed);
  // The same layers in the same order as seeded_init() in make_nn.py: each draws from the default generator.
  const layers: nn.Module[] = [
    new nn.Conv2d(3, 8, 3),
    new nn.Linear(16, 10),
    new nn.Conv2d(4, 6, 1, { groups: 2, bias: false }),
    new nn.BatchNorm2d(4),
    new nn.Linear(7, 3),
    new nn.Conv1d(2, 3, 5),
  ];
  layers.forEach((layer, i) => {
    const state = layer.stateDict();
    assert.deepEqual(Object.keys(state), Object.keys(expected[i]), `layer ${i} keys`);
    for (const [key, value] of Object.entries(expected[i])) {
      assert.deepEqual(values(state[key]), value.data, `layer ${i} (${layer.constructor.name}) ${key}`);
    }
    layer.dispose();
  });
});

/** Mean and (population) variance of a tensor's elements, in float64. */
function moments(t: Tensor): { mean: number; variance: number; min: number; max: number } {
  return torch.tidy(() => {
    const d = t.double();
    return { mean: d.mean().item(), variance: d.var(undefined, 0).item(), min: d.min().item(), max: d.max().item() };
  });
}

test('kaimingUniform_ stays within ±gain·√(3/fan) with the variance of that uniform distribution', () => {
  torch.tidy(() => {
    const w = torch.empty(256, 512);
    init.kaimingUniform_(w); // a = 0: gain √2, fan_in 512
    const bound = Math.sqrt(2) * Math.sqrt(3 / 512);
    const m = moments(w);
    assert.ok(m.min >= -bound && m.max <= bound, `range [${m.min}, ${m.max}] within ±${bound}`);
    assert.ok(m.max > 0.99 * bound && m.min < -0.99 * bound, 'the whole range is used');
    assert.ok(
      Math.abs(m.variance / ((bound * bound) / 3) - 1) < 0.03,
      `variance ${m.variance} vs ${(bound * bound) / 3}`,
    );
    assert.ok(Math.abs(m.mean) < 0.01 * bound, `mean ${m.mean}`);
  });
});

test('kaimingNormal_ with fan_out and relu has std √(2/fan_out)', () => {
  torch.tidy(() => {
    const w = torch.empty(64, 32, 3, 3); // fan_out = 64 * 9
    init.kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' });
    const std = Math.sqrt(2 / (64 * 9));
    const m = moments(w);
    assert.ok(Math.abs(Math.sqrt(m.variance) / std - 1) < 0.02, `std ${Math.sqrt(m.variance)} vs ${std}`);
    assert.ok(Math.abs(m.mean) < 0.02 * std, `mean ${m.mean}`);
  });
});

test('xavierUniform_ and xavierNormal_ use gain·√(2/(fan_in + fan_out)) as the std', () => {
  torch.tidy(() => {
    const std = 2 * Math.sqrt(2 / (300 + 200));
    const u = init.xavierUniform_(torch.empty(200, 300), 2);
    const mu = moments(u);
    const bound = Math.sqrt(3) * std;
    assert.ok(mu.min >= -bound && mu.max <= bound, `range within ±${bound}`);
    assert.ok(Math.abs(Math.sqrt(mu.variance) / std - 1) < 0.02, `uniform std ${Math.sqrt(mu.variance)} vs ${std}`);
    const n = init.xavierNormal_(torch.empty(200, 300), 2);
    assert.ok(Math.abs(Math.sqrt(moments(n).variance) / std - 1) < 0.02, 'normal std');
  });
});

test("truncNormal_ stays within [a, b] with the truncated distribution's variance", () => {
  torch.tidy(() => {
    const w = init.truncNormal_(torch.empty(100000));
    const m = moments(w);
    assert.ok(m.min >= -2 && m.max <= 2, `range [${m.min}, ${m.max}]`);
    // N(0, 1) cut at ±2: variance 1 - 2·2·φ(2) / (Φ(2) - Φ(-2)), with Φ(2) - Φ(-2) = erf(√2) = 0.9544997361036416.
    const phi2 = Math.exp(-2) / Math.sqrt(2 * Math.PI);
    const variance = 1 - (4 * phi2) / 0.9544997361036416;
    assert.ok(Math.abs(m.variance / variance - 1) < 0.02, `variance ${m.variance} vs ${variance}`);
    assert.ok(Math.abs(m.mean) < 0.01, `mean ${m.mean}`);
    assert.throws(() => init.truncNormal_(torch.empty(3), { a: 1, b: -1 }), /a < b, got a=1, b=-1/);
  });
});

test('init functions draw from a given Generator and leave the default one alone', () => {
  torch.tidy(() => {
    torch.manualSeed(3);
    const expected = init.kaimingUniform_(torch.empty(4, 5), { mode: 'fan_out' });
    torch.manualSeed(3);
    const firstDraws = torch.rand(3);
    torch.manualSeed(3);
    const viaGenerator = init.kaimingUniform_(torch.empty(4, 5), {
      mode: 'fan_out',
      generator: new torch.Generator(3),
    });
    assert.equal(viaGenerator.equal(expected), true, 'same samples from an equally seeded generator');
    const [a, b] = [torch.empty(6), torch.empty(6)];
    init.truncNormal_(a, { generator: new torch.Generator(8) });
    init.truncNormal_(b, { generator: new torch.Generator(8) });
    assert.equal(a.equal(b), true, 'truncNormal_ with equal generators');
    init.kaimingNormal_(torch.empty(3, 3), { generator: new torch.Generator(1) });
    init.xavierUniform_(torch.empty(3, 3), 1, new torch.Generator(1));
    init.xavierNormal_(torch.empty(3, 3), 1, new torch.Generator(1));
    init.normal_(torch.empty(3), 0, 1, new torch.Generator(1));
    init.uniform_(torch.empty(3), 0, 1, new torch.Generator(1));
    assert.equal(torch.rand(3).equal(firstDraws), true, 'the default generator was not drawn from');
  });
});

test('init works in place on parameters without recording autograd history', () => {
  const linear = new nn.Linear(4, 3);
  const weight = linear.weight;
  init.kaimingNormal_(linear.weight, { nonlinearity: 'relu' });
  init.constant_(linear.bias!, 0.5);
  assert.equal(linear.weight, weight);
  assert.equal(weight.requiresGrad, true);
  assert.equal(weight.isLeaf, true);
  assert.equal(weight.gradFn, null);
  assert.deepEqual(values(linear.bias!), [0.5, 0.5, 0.5]);
  linear.dispose();
});

test('kaiming init of a zero-element tensor is a no-op, as in PyTorch', () => {
  torch.tidy(() => {
    const w = torch.empty(0, 3);
    assert.equal(init.kaimingUniform_(w), w);
    assert.equal(init.kaimingNormal_(w), w);
    assert.throws(
      () => init.kaimingUniform_(torch.empty(2, 2), { mode: 'fan_avg' as never }),
      /mode 'fan_avg' is not supported/,
    );
  });
});

test('dirac_ refuses weights it has no identity for, naming what it expected', () => {
  const flat = torch.empty([3, 3]);
  assert.throws(
    () => init.dirac_(flat),
    /dirac_\(\): only 3, 4 and 5 dimensional weights are supported, got 2 dimensions/,
  );
  const conv = torch.empty([6, 2, 3, 3]);
  assert.throws(() => init.dirac_(conv, 4), /groups must be a positive divisor of the 6 output channels, got 4/);
  torch.dispose([flat, conv]);
});
