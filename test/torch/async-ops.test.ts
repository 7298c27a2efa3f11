// torch.async: the background forms of torch/F operators give PyTorch's values (the same fixture cases
// as their synchronous forms, from test/fixtures/ops.json and functional.json), in-place forms resolve
// to their receiver, failures reject with libtorch's message, and the threads each background op uses
// are set from TypeScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import { assertClose, fromFixture, loadFixture, type FixtureTensor } from '../helpers.js';

interface Case {
  inputs: Record<string, FixtureTensor>;
  expected: FixtureTensor;
}
type Inputs = Record<string, Tensor>;

const cases = { ...loadFixture<Record<string, Case>>('ops'), ...loadFixture<Record<string, Case>>('functional') };

/** The background expression for each fixture case (the PyTorch one is in make_ops.py / make_functional.py). */
const ASYNC: Record<string, (i: Inputs) => Promise<Tensor>> = {
  'math.sub_broadcast': ({ a, b }) => torch.async.sub(a, b),
  'math.sub_alpha': ({ a, b }) => torch.async.sub(a, b, 0.5),
  'math.sub_scalar': ({ a }) => torch.async.sub(a, 1.5),
  'math.div_broadcast': ({ a, b }) => torch.async.div(a, b),
  'math.div_scalar': ({ a }) => torch.async.div(a, 4),
  'inplace.sub_scalar_': ({ a }) => inPlace(a, (x) => torch.async.sub_(x, 0.75)),
  'inplace.div_scalar_': ({ a }) => inPlace(a, (x) => torch.async.div_(x, 8)),
  'shape.index_select': ({ x, i }) => torch.async.indexSelect(x, 2, i),
  'shape.index_dim1': ({ x, i }) => torch.async.index(x, [null, i]),
  'shape.index_pairs': ({ x, i, j }) => torch.async.index(x, [i, j]),
  'convert.to_float64': ({ x }) => torch.async.to(x, 'float64'),
  'convert.to_int32': ({ x }) => torch.async.to(x, { dtype: 'int32', device: 'cpu' }),
  'pad.constant': ({ input }) => torch.async.pad(input, [1, 2, 0, 1]),
  'pad.constant_value': ({ input }) => torch.async.pad(input, [2, 0], 'constant', 1.5),
  'pad.reflect': ({ input }) => torch.async.pad(input, [2, 1, 1, 2], 'reflect'),
};

async function inPlace(x: Tensor, op: (x: Tensor) => Promise<Tensor>): Promise<Tensor> {
  assert.equal(await op(x), x, 'an in-place op resolves to the tensor it changed');
  return x;
}

for (const [name, run] of Object.entries(ASYNC)) {
  test(`async ${name} matches PyTorch`, async () => {
    const c = cases[name];
    assert.ok(c, `fixture case ${name} is missing: run scripts/make-fixtures.sh`);
    const before = torch.memory().tensors;
    await torch.tidy(async () => {
      const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, fromFixture(v)]));
      const actual = await run(inputs);
      assert.equal(actual.dtype, c.expected.dtype, `${name}: dtype`);
      assertClose(actual, c.expected, { rtol: 1e-5, atol: 1e-6 }, name);
    });
    assert.equal(torch.memory().tensors, before, 'every tensor the case made is freed');
  });
}

test("a failing background op rejects with libtorch's message; bad arguments reject with a clear error", async () => {
  await torch.tidy(async () => {
    const x = torch.ones(2, 3);
    await assert.rejects(
      torch.async.sub(x, torch.ones(4)),
      /The size of tensor a \(3\) must match the size of tensor b \(4\)/,
    );
    await assert.rejects(torch.async.indexSelect(x, 0, torch.tensor([5])), /index out of range|out of range/i);
    await assert.rejects(torch.async.pad(x, [1]), /async\.pad\(\): padding must have an even length/);
    await assert.rejects(torch.async.to(x, 'float99'), /async\.to\(\): 'float99' is neither a dtype/);
  });
});

test('async.setNumThreads sets the intra-op threads of background ops, 1 by default', async () => {
  assert.equal(torch.async.getNumThreads(), torch.async.DEFAULT_ASYNC_OP_THREADS);
  assert.equal(torch.async.DEFAULT_ASYNC_OP_THREADS, 1);
  try {
    torch.async.setNumThreads(2);
    assert.equal(torch.async.getNumThreads(), 2);
    await torch.tidy(async () => {
      const x = torch.arange(6, { dtype: 'float32' });
      assert.deepEqual((await torch.async.div(x, 2)).toArray(), [0, 0.5, 1, 1.5, 2, 2.5]);
    });
    assert.throws(
      () => torch.async.setNumThreads(0),
      /async\.setNumThreads\(\): expected a whole number of threads from 1 to \d+ .*, got 0$/,
    );
    assert.throws(
      () => torch.async.setNumThreads(1.5),
      /expected a whole number of threads from 1 to \d+ .*, got 1\.5$/,
    );
  } finally {
    torch.async.setNumThreads(1);
  }
  assert.equal(torch.async.getNumThreads(), 1);
});
