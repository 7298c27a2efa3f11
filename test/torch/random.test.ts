// Random streams: after manualSeed(k) senet draws exactly what PyTorch draws after torch.manual_seed(k)
// (test/fixtures/ops.json, 'random.*'); Generators are independent streams whose state round-trips.
// Also the thread-count settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import { assertClose, fromFixture, loadFixture, type FixtureTensor } from '../helpers.js';

const cases = loadFixture<Record<string, { expected: FixtureTensor | FixtureTensor[] }>>('ops');

function assertDraws(name: string, actual: Tensor | Tensor[]): void {
  const expected = cases[name].expected;
  const [acts, exps] = [Array.isArray(actual) ? actual : [actual], Array.isArray(expected) ? expected : [expected]];
  assert.equal(acts.length, exps.length, `${name}: number of draws`);
  acts.forEach((a, i) => {
    assert.equal(a.dtype, exps[i].dtype, `${name}[${i}]: dtype`);
    // Exactly equal: the fixture's shortest-form decimals become the same float32 values in fromFixture.
    assertClose(a, fromFixture(exps[i]), { rtol: 0, atol: 0 }, `${name}[${i}]`);
  });
}

const seeded = <T>(seed: number | bigint, draw: () => T): T => {
  torch.manualSeed(seed);
  return draw();
};

// The senet draws for each 'random.*' fixture case (make_ops.py holds the PyTorch ones).
const DRAWS: Record<string, () => Tensor | Tensor[]> = {
  'random.randn': () => seeded(7, () => torch.randn(5)),
  'random.randn_vectorised': () => seeded(7, () => torch.randn(2, 20)),
  'random.rand': () => seeded(7, () => torch.rand(3, 2)),
  'random.randint': () => seeded(7, () => torch.randint(3, 10, [8])),
  'random.randint_int32': () => seeded(7, () => torch.randint(0, 100, [4], { dtype: 'int32' })),
  'random.randperm': () => seeded(7, () => torch.randperm(10)),
  'random.stream_continues': () =>
    seeded(123, () => [torch.rand(2), torch.randn(3), torch.randint(0, 5, [3]), torch.randperm(4)]),
  'random.float64': () =>
    seeded(5, () => [torch.randn([4], { dtype: 'float64' }), torch.rand([3], { dtype: 'float64' })]),
  'random.normal_uniform_': () => seeded(9, () => [torch.empty(4).normal_(2, 0.5), torch.empty(3).uniform_(-1, 1)]),
  'random.negative_seed': () => seeded(-1, () => torch.rand(3)),
  'random.large_seed': () => seeded(2n ** 63n + 5n, () => torch.rand(3)),
  'random.generator': () => [
    torch.randn([4], { generator: new torch.Generator().manualSeed(11) }),
    torch.rand([3], { generator: new torch.Generator(12) }),
  ],
};

test('every random fixture case has a senet draw, and every draw a fixture case', () => {
  const fixtureNames = Object.keys(cases)
    .filter((n) => n.startsWith('random.'))
    .sort();
  assert.deepEqual(Object.keys(DRAWS).sort(), fixtureNames);
});

for (const [name, draw] of Object.entries(DRAWS)) {
  test(`${name}: the same values as PyTorch`, () => {
    torch.tidy(() => assertDraws(name, draw()));
  });
}

test("initialSeed reports the seed, negative seeds as their 64-bit two's complement", () => {
  torch.manualSeed(42);
  assert.equal(torch.initialSeed(), 42n);
  torch.manualSeed(-1);
  assert.equal(torch.initialSeed(), 2n ** 64n - 1n);
  assert.equal(new torch.Generator(9).initialSeed(), 9n);
  assert.throws(() => torch.manualSeed(1.5), TypeError);
  assert.throws(() => torch.manualSeed(2n ** 64n), /expected an integer seed/);
});

test('a Generator is a stream of its own: drawing from it leaves the default stream alone', () => {
  torch.tidy(() => {
    torch.manualSeed(3);
    const reference = [torch.randn(4), torch.randn(4)];
    torch.manualSeed(3);
    const first = torch.randn(4);
    const gen = new torch.Generator(3);
    const fromGen = torch.randn([4], { generator: gen });
    const second = torch.randn(4);
    assert.ok(first.equal(reference[0]) && second.equal(reference[1]), 'the default stream did not move');
    assert.ok(fromGen.equal(reference[0]), 'a generator seeded alike starts the same stream');
    const other = new torch.Generator(3);
    torch.randn([100], { generator: gen });
    assert.ok(torch.randn([4], { generator: other }).equal(reference[0]), 'generators do not share state');
  });
});

test('Generator getState/setState round-trips, and so do getRngState/setRngState', () => {
  torch.tidy(() => {
    const gen = new torch.Generator(77);
    torch.rand([5], { generator: gen });
    const state = gen.getState();
    assert.equal(state.dtype, 'uint8');
    const a = [
      torch.randn([6], { generator: gen }),
      torch.randint(0, 1000, [6], { generator: gen }),
      torch.randperm(6, { generator: gen }),
      torch.empty(3).uniform_(0, 1, gen),
      torch.empty(3).normal_(0, 1, gen),
    ];
    assert.equal(gen.setState(state), gen);
    const b = [
      torch.randn([6], { generator: gen }),
      torch.randint(0, 1000, [6], { generator: gen }),
      torch.randperm(6, { generator: gen }),
      torch.empty(3).uniform_(0, 1, gen),
      torch.empty(3).normal_(0, 1, gen),
    ];
    a.forEach((t, i) => assert.ok(t.equal(b[i]), `draw ${i} repeats after setState`));

    torch.manualSeed(8);
    torch.randn(3);
    const saved = torch.getRngState();
    const x = torch.randn(10);
    torch.randn(7);
    torch.setRngState(saved);
    assert.ok(torch.randn(10).equal(x));
  });
});

test('random ops take the generator through their options', () => {
  torch.tidy(() => {
    const draws = (seed: number) => {
      const g = new torch.Generator(seed);
      return [
        torch.rand([3], { generator: g }),
        torch.randnLike(torch.zeros(3), { generator: g }),
        torch.randint(0, 9, [3], { generator: g }),
        torch.randperm(5, { generator: g }),
      ];
    };
    const [a, b] = [draws(1), draws(1)];
    a.forEach((t, i) => assert.ok(t.equal(b[i])));
    assert.ok(!draws(2)[0].equal(a[0]), 'another seed, another stream');
  });
});

test("setNumThreads/getNumThreads set and read libtorch's intra-op thread count", () => {
  const before = torch.getNumThreads();
  try {
    torch.setNumThreads(1);
    assert.equal(torch.getNumThreads(), 1);
    torch.setNumThreads(2);
    assert.equal(torch.getNumThreads(), 2);
    torch.tidy(() => {
      const x = torch.randn(64, 64);
      assertClose(
        x.matmul(x),
        torch.noGrad(() => {
          torch.setNumThreads(1);
          return x.matmul(x);
        }),
        { rtol: 1e-5, atol: 1e-5 },
        'results do not depend on the thread count',
      );
    });
    assert.throws(() => torch.setNumThreads(0), /expected a whole number of threads from 1 to \d+ .*, got 0$/);
    assert.throws(() => torch.setNumThreads(1.5), /expected a whole number of threads from 1 to \d+ .*, got 1\.5$/);
  } finally {
    torch.setNumThreads(before);
  }
});
