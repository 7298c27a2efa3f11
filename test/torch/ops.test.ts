// Elementwise math, type promotion, in-place forms, reductions, matrix products and shape/indexing ops,
// each against the values (and dtypes) real PyTorch gives for the same inputs (test/fixtures/ops.json,
// made by scripts/fixtures/make_ops.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import { assertClose, fromFixture, isFixtureTensor, loadFixture, type FixtureTensor } from '../helpers.js';

interface Case {
  inputs: Record<string, FixtureTensor>;
  expected: unknown;
}
type Inputs = Record<string, Tensor>;

const cases = loadFixture<Record<string, Case>>('ops');

/** Compares a result with PyTorch's: tensors by dtype and values, (values, indices) pairs and lists by part. */
function assertMatches(actual: unknown, expected: unknown, what: string): void {
  if (isFixtureTensor(expected)) {
    assert.ok(actual instanceof torch.Tensor, `${what}: expected a tensor, got ${String(actual)}`);
    assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
    assertClose(actual, expected, { rtol: 1e-5, atol: 1e-6 }, what);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${what}: expected a list`);
    assert.equal(actual.length, expected.length, `${what}: list length`);
    expected.forEach((e, i) => assertMatches(actual[i], e, `${what}[${i}]`));
  } else if (typeof expected === 'object' && expected !== null) {
    for (const [key, e] of Object.entries(expected))
      assertMatches((actual as Record<string, unknown>)[key], e, `${what}.${key}`);
  } else {
    assert.equal(actual, expected, what);
  }
}

/** Runs an in-place op and checks that it returned its receiver, as PyTorch's `x.add_(y) is x`. */
function inPlace(x: Tensor, op: (x: Tensor) => Tensor): Tensor {
  const result = op(x);
  assert.equal(result, x, 'an in-place op returns the tensor it changed');
  return x;
}

/** Eigenpairs with each vector's sign fixed by its first entry, as make_ops.py does (LAPACK's sign is arbitrary). */
function signFixed({ eigenvalues, eigenvectors }: { eigenvalues: Tensor; eigenvectors: Tensor }): Tensor[] {
  return [eigenvalues, eigenvectors.mul(eigenvectors.narrow(0, 0, 1).sign())];
}

// The senet expression for each fixture case (the PyTorch one is in make_ops.py under the same name).
const OPS: Record<string, (i: Inputs) => unknown> = {
  'math.add_broadcast': ({ a, b }) => a.add(b),
  'math.add_alpha': ({ a, b }) => torch.add(a, b, 2),
  'math.add_scalar': ({ a }) => a.add(2),
  'math.sub_broadcast': ({ a, b }) => a.sub(b),
  'math.sub_alpha': ({ a, b }) => torch.sub(a, b, 0.5),
  'math.sub_scalar': ({ a }) => a.sub(1.5),
  'math.mul_broadcast': ({ a, b }) => a.mul(b),
  'math.mul_scalar': ({ a }) => a.mul(0.5),
  'math.div_broadcast': ({ a, b }) => a.div(b),
  'math.div_scalar': ({ a }) => a.div(4),
  'math.pow_scalar_int': ({ a }) => a.pow(2),
  'math.pow_scalar_float': ({ a }) => a.pow(1.5),
  'math.pow_tensor': ({ a, b }) => a.pow(b),
  'math.neg': ({ a }) => a.neg(),
  'math.abs': ({ a }) => a.abs(),
  'math.sign': ({ a }) => a.sign(),
  'math.sqrt': ({ a }) => a.sqrt(),
  'math.rsqrt': ({ a }) => a.rsqrt(),
  'math.square': ({ a }) => a.square(),
  'math.reciprocal': ({ a }) => a.reciprocal(),
  'math.exp': ({ a }) => a.exp(),
  'math.log': ({ a }) => a.log(),
  'math.log1p': ({ a }) => a.log1p(),
  'math.sin': ({ a }) => a.sin(),
  'math.cos': ({ a }) => a.cos(),
  'math.tanh': ({ a }) => a.tanh(),
  'math.sigmoid': ({ a }) => a.sigmoid(),
  'math.relu': ({ a }) => a.relu(),
  'math.floor': ({ a }) => a.floor(),
  'math.ceil': ({ a }) => a.ceil(),
  'math.round_half_even': ({ a }) => a.round(),
  'math.maximum': ({ a, b }) => a.maximum(b),
  'math.minimum': ({ a, b }) => torch.minimum(a, b),
  'math.clamp': ({ a }) => a.clamp(-0.5, 0.5),
  'math.clamp_min': ({ a }) => a.clamp(0.1),
  'math.clamp_max': ({ a }) => a.clamp(null, -0.1),
  'math.clamp_int': ({ a }) => a.clamp(2, 4),
  'math.where_tensors': ({ c, a, b }) => torch.where(c, a, b),
  'math.where_scalar_other': ({ c, a }) => a.where(c, 0.25),
  'math.where_scalar_self': ({ c, b }) => torch.where(c, 2, b),
  'math.where_scalars': ({ c }) => torch.where(c, 1, 0),
  'math.where_int_tensor_float_scalar': ({ c, a }) => torch.where(c, a, 0.5),
  'math.lerp_scalar': ({ a, b }) => a.lerp(b, 0.3),
  'math.lerp_tensor': ({ a, b, w }) => torch.lerp(a, b, w),
  'math.addcmul': ({ a, b, c }) => a.addcmul(b, c, 0.5),
  'math.addcdiv': ({ a, b, c }) => torch.addcdiv(a, b, c, 2),
  'math.eq_tensor': ({ a, b }) => a.eq(b),
  'math.eq_scalar': ({ a }) => a.eq(2),
  'math.ne_tensor': ({ a, b }) => a.ne(b),
  'math.lt_broadcast': ({ a, b }) => a.lt(b),
  'math.le_scalar': ({ a }) => a.le(0),
  'math.gt_broadcast': ({ a, b }) => a.gt(b),
  'math.ge_scalar': ({ a }) => a.ge(0.5),
  'math.logical_and': ({ a, b }) => a.logicalAnd(b),
  'math.logical_or': ({ a, b }) => a.logicalOr(b),
  'math.logical_not': ({ a }) => a.logicalNot(),
  'math.isnan': ({ n }) => n.div(torch.zeros(4)).isnan(),
  'math.isinf': ({ n }) => n.div(torch.zeros(4)).isinf(),
  'math.isfinite': ({ n }) => n.div(torch.tensor([0, 0, 0, 4], { dtype: 'float32' })).isfinite(),

  'promote.int_times_float_scalar': ({ a }) => a.mul(0.5),
  'promote.int_plus_int_scalar': ({ a }) => a.add(2),
  'promote.int_div_int': ({ a, b }) => a.div(b),
  'promote.int32_plus_int64': ({ a, b }) => a.add(b),
  'promote.uint8_plus_int8': ({ a, b }) => a.add(b),
  'promote.uint8_wraps_int_scalar': ({ a }) => a.add(100),
  'promote.float32_plus_float64': ({ a, b }) => a.add(b),
  'promote.float32_plus_0d_float64': ({ a, b }) => a.add(b),
  'promote.int32_plus_0d_float64': ({ a, b }) => a.add(b),
  'promote.float16_plus_float32': ({ a, b }) => a.add(b),
  'promote.bool_plus_bool': ({ a, b }) => a.add(b),
  'promote.bool_times_int': ({ a, b }) => a.mul(b),
  'promote.int_compare_float': ({ a }) => a.gt(1.5),

  'inplace.add_': ({ a, b }) => inPlace(a, (x) => x.add_(b, 3)),
  'inplace.sub_scalar_': ({ a }) => inPlace(a, (x) => x.sub_(0.75)),
  'inplace.mul_': ({ a, b }) => inPlace(a, (x) => x.mul_(b)),
  'inplace.div_scalar_': ({ a }) => inPlace(a, (x) => x.div_(8)),
  'inplace.pow_': ({ a }) => inPlace(a, (x) => x.pow_(3)),
  'inplace.addcmul_': ({ a, b, c }) => inPlace(a, (x) => x.addcmul_(b, c, -2)),
  'inplace.addcdiv_': ({ a, b, c }) => inPlace(a, (x) => x.addcdiv_(b, c, 0.1)),
  'inplace.lerp_': ({ a, b }) => inPlace(a, (x) => x.lerp_(b, 0.9)),
  'inplace.clamp_': ({ a }) => inPlace(a, (x) => x.clamp_(-0.2, 0.3)),
  'inplace.neg_': ({ a }) => inPlace(a, (x) => x.neg_()),
  'inplace.sqrt_': ({ a }) => inPlace(a, (x) => x.sqrt_()),
  'inplace.exp_': ({ a }) => inPlace(a, (x) => x.exp_()),
  'inplace.relu_': ({ a }) => inPlace(a, (x) => x.relu_()),
  'inplace.sigmoid_': ({ a }) => inPlace(a, (x) => x.sigmoid_()),
  'inplace.zero_': ({ a }) => inPlace(a, (x) => x.zero_()),
  'inplace.fill_': ({ a }) => inPlace(a, (x) => x.fill_(-3.5)),
  'inplace.copy_broadcast': ({ a, b }) => inPlace(a, (x) => x.copy_(b)),
  'inplace.copy_converts': ({ a, b }) => inPlace(a, (x) => x.copy_(b)),
  'inplace.masked_fill_': ({ a, m }) => inPlace(a, (x) => x.maskedFill_(m, 9)),

  'reduce.sum': ({ x }) => x.sum(),
  'reduce.sum_dim': ({ x }) => x.sum(1),
  'reduce.sum_dims_keepdim': ({ x }) => x.sum([0, 2], true),
  'reduce.sum_dtype': ({ x }) => x.sum(undefined, false, 'float64'),
  'reduce.sum_int32': ({ x }) => x.sum(),
  'reduce.sum_bool': ({ x }) => torch.sum(x),
  'reduce.mean': ({ x }) => x.mean(),
  'reduce.mean_dim_keepdim': ({ x }) => x.mean(-1, true),
  'reduce.prod_dim': ({ x }) => x.prod(1),
  'reduce.max': ({ x }) => x.max(),
  'reduce.max_dim': ({ x }) => x.max(1),
  'reduce.max_dim_keepdim': ({ x }) => torch.max(x, -1, true),
  'reduce.min': ({ x }) => x.min(),
  'reduce.min_dim': ({ x }) => x.min(0),
  'reduce.argmax': ({ x }) => x.argmax(),
  'reduce.argmax_dim_keepdim': ({ x }) => x.argmax(2, true),
  'reduce.argmin_dim': ({ x }) => x.argmin(1),
  'reduce.std': ({ x }) => x.std(),
  'reduce.std_dim_population_keepdim': ({ x }) => x.std(1, 0, true),
  'reduce.std_unbiased_false': ({ x }) => x.std(2, false),
  'reduce.var': ({ x }) => x.var(),
  'reduce.var_dims': ({ x }) => torch.variance(x, [0, 2]),
  'reduce.all': ({ x }) => x.all(),
  'reduce.all_dim': ({ x }) => x.all(1),
  'reduce.any_dim_keepdim': ({ x }) => x.any(0, true),
  'reduce.any': ({ x }) => x.any(),
  'reduce.norm': ({ x }) => x.norm(),
  'reduce.norm_p1_dim': ({ x }) => x.norm(1, 1),
  'reduce.norm_p3_dims_keepdim': ({ x }) => x.norm(3, [1, 2], true),
  'reduce.logsumexp': ({ x }) => x.logsumexp(1),
  'reduce.logsumexp_dims_keepdim': ({ x }) => x.logsumexp([0, 2], true),
  'reduce.cumsum': ({ x }) => x.cumsum(0),
  'reduce.cumsum_last': ({ x }) => x.cumsum(-1),
  'reduce.topk': ({ x }) => x.topk(2),
  'reduce.topk_smallest_dim': ({ x }) => x.topk(2, 1, false),
  'reduce.sort': ({ x }) => x.sort(),
  'reduce.sort_descending_dim': ({ x }) => x.sort(1, true),
  'reduce.amax_dims': ({ x }) => x.amax([1, 2]),
  'reduce.amax_keepdim': ({ x }) => torch.amax(x, -1, true),
  'reduce.amax_all': ({ x }) => torch.amax(x),
  'reduce.amin': ({ x }) => x.amin(0),
  'reduce.amax_int': ({ x }) => x.amax(1),
  'reduce.bincount': ({ x }) => torch.bincount(x),
  'reduce.bincount_minlength': ({ x }) => x.bincount(null, 7),
  'reduce.bincount_weights': ({ x, w }) => x.bincount(w),

  'linalg.matmul_2d': ({ a, b }) => a.matmul(b),
  'linalg.matmul_vec': ({ a, b }) => a.matmul(b),
  'linalg.matmul_vec_mat': ({ a, b }) => torch.matmul(a, b),
  'linalg.matmul_batch_broadcast': ({ a, b }) => a.matmul(b),
  'linalg.mm': ({ a, b }) => a.mm(b),
  'linalg.bmm': ({ a, b }) => a.bmm(b),
  'linalg.matmul_float64': ({ a, b }) => a.matmul(b),
  'linalg.eigh': ({ a }) => signFixed(torch.linalg.eigh(a)),
  'linalg.eigh_upper': ({ a }) => signFixed(torch.linalg.eigh(a, 'U')),

  'shape.reshape': ({ x }) => x.reshape(4, -1),
  'shape.view': ({ x }) => x.view([6, 4]),
  'shape.flatten': ({ x }) => x.flatten(),
  'shape.flatten_from': ({ x }) => x.flatten(1),
  'shape.flatten_range': ({ x }) => x.flatten(0, 1),
  'shape.unflatten': ({ x }) => x.unflatten(2, [2, 2]),
  'shape.permute': ({ x }) => x.permute(2, 0, 1),
  'shape.transpose': ({ x }) => x.transpose(0, 2),
  'shape.t': ({ x }) => x.t(),
  'shape.t_1d': ({ x }) => x.t(),
  'shape.contiguous': ({ x }) => x.permute(1, 0, 2).contiguous(),
  'shape.squeeze': ({ x }) => x.squeeze(),
  'shape.squeeze_dim': ({ x }) => x.squeeze(2),
  'shape.unsqueeze': ({ x }) => x.unsqueeze(-1),
  'shape.expand': ({ x }) => x.expand(2, 3, 4),
  'shape.expand_keep': ({ x }) => x.expand([-1, 4]),
  'shape.narrow': ({ x }) => x.narrow(2, 1, 2),
  'shape.slice_from': ({ x }) => x.slice(1, 1),
  'shape.slice_step': ({ x }) => x.slice(2, undefined, undefined, 2),
  'shape.slice_negative': ({ x }) => x.slice(2, -3, -1),
  'shape.select': ({ x }) => x.select(1, -1),
  'shape.index_select': ({ x, i }) => x.indexSelect(2, i),
  'shape.index_dim1': ({ x, i }) => x.index([null, i]),
  'shape.index_pairs': ({ x, i, j }) => x.index([i, j]),
  'shape.index_mask': ({ x, m }) => x.index([m]),
  'shape.gather': ({ x, i }) => x.gather(2, i),
  'shape.scatter': ({ x, i, src }) => x.scatter(1, i, src),
  'shape.scatter_value': ({ x, i }) => x.scatter(1, i, 7.5),
  'shape.cat': ({ a, b }) => torch.cat([a, b], 1),
  'shape.cat_default': ({ a, b }) => torch.cat([a, b]),
  'shape.stack': ({ a, b }) => torch.stack([a, b], 2),
  'shape.split': ({ x }) => x.split(3, 2),
  'shape.split_sizes': ({ x }) => x.split([1, 2], 1),
  'shape.chunk': ({ x }) => x.chunk(3, 2),
  'shape.flip': ({ x }) => x.flip(0, 2),
  'shape.roll': ({ x }) => x.roll([1, -1], [1, 2]),
  'shape.roll_flat': ({ x }) => x.roll(5),
  'shape.repeat': ({ x }) => x.repeat(2, 1, 1),
  'shape.repeat_more_dims': ({ x }) => x.repeat([2, 1, 2]),
  'shape.clone': ({ x }) => x.clone(),
  'shape.masked_fill': ({ x, m }) => x.maskedFill(m, -1),
};

const PREFIXES = ['math.', 'promote.', 'inplace.', 'reduce.', 'linalg.', 'shape.'];

test('every ops fixture case has a senet expression, and every expression a fixture case', () => {
  const fixtureNames = Object.keys(cases)
    .filter((name) => PREFIXES.some((p) => name.startsWith(p)))
    .sort();
  assert.deepEqual(Object.keys(OPS).sort(), fixtureNames);
});

for (const [name, run] of Object.entries(OPS)) {
  test(`${name} matches PyTorch`, () => {
    const c = cases[name];
    assert.ok(c, `fixture case ${name} is missing: run scripts/make-fixtures.sh`);
    const before = torch.memory().tensors;
    torch.tidy(() => {
      const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, fromFixture(v)]));
      assertMatches(run(inputs), c.expected, name);
    });
    assert.equal(torch.memory().tensors, before, 'every tensor the case made is freed');
  });
}

test('view-producing ops share storage with their input; clone and contiguous copies do not', () => {
  torch.tidy(() => {
    const x = torch.arange(6, { dtype: 'float32' });
    const views = [x.view(2, 3), x.reshape(3, 2), x.narrow(0, 1, 2), x.slice(0, 2), x.unsqueeze(0), x.expand(2, 6)];
    const copies = [x.clone(), x.view(2, 3).t().contiguous()];
    x.fill_(7);
    for (const v of views) assert.ok(v.eq(7).all().item(), `a view sees the write: ${v}`);
    for (const c of copies) assert.equal(c.eq(7).any().item(), 0, 'a copy keeps its values');
    assert.equal(x.view(2, 3).t().isContiguous(), false);
    assert.equal(x.view(2, 3).t().contiguous().isContiguous(), true);
  });
});

test('channelsLast memory format keeps the shape and changes the strides', () => {
  torch.tidy(() => {
    const x = torch.arange(24, { dtype: 'float32' }).view(1, 2, 3, 4);
    const cl = x.contiguous('channelsLast');
    assert.deepEqual(cl.shape, [1, 2, 3, 4]);
    assert.deepEqual(cl.stride(), [24, 1, 8, 2]);
    assert.ok(cl.isContiguous('channelsLast'));
    assert.ok(cl.equal(x));
  });
});

test('in-place arithmetic refuses a result its dtype cannot hold, as PyTorch does', () => {
  torch.tidy(() => {
    const ints = torch.tensor([1, 2, 3]);
    assert.throws(() => ints.mul_(0.5), /result type Float can't be cast to the desired output type Long/);
    assert.deepEqual(ints.toArray(), [1, 2, 3], 'the failed op left the tensor unchanged');
  });
});

test('reductions return (values, indices) for max/min/topk/sort along a dim, plain tensors otherwise', () => {
  torch.tidy(() => {
    const x = torch.tensor([
      [3, 9, 1],
      [7, 2, 8],
    ]);
    const { values, indices } = x.max(1);
    assert.deepEqual(values.toArray(), [9, 8]);
    assert.deepEqual(indices.toArray(), [1, 2]);
    assert.equal(x.max().item(), 9);
    assert.equal(x.prod().item(), 3 * 9 * 1 * 7 * 2 * 8);
    assert.deepEqual(x.cumsum(1).toArray(), [
      [3, 12, 13],
      [7, 9, 17],
    ]);
    assert.deepEqual(torch.cumsum(x, 0, 'float64').dtype, 'float64');
  });
});

test('allclose and equal compare whole tensors', () => {
  torch.tidy(() => {
    const a = torch.tensor([1, 2, 3], { dtype: 'float32' });
    assert.equal(a.allclose(a.add(1e-7)), true);
    assert.equal(a.allclose(a.add(1e-3)), false);
    assert.equal(torch.allclose(a, a.add(1e-3), 1e-2), true);
    assert.equal(a.equal(a.clone()), true);
    assert.equal(a.equal(a.view(3, 1)), false);
  });
});

test('linalg.eigh reconstructs its matrix from the eigenpairs and refuses a UPLO other than L or U', () => {
  torch.tidy(() => {
    const m = torch.randn([5, 5], { dtype: 'float64' });
    const a = m.matmul(m.t());
    const { eigenvalues, eigenvectors } = torch.linalg.eigh(a);
    assertClose(
      eigenvectors.mul(eigenvalues).matmul(eigenvectors.t()),
      a,
      { rtol: 1e-10, atol: 1e-10 },
      'V diag(λ) Vᵀ',
    );
    assert.throws(() => torch.linalg.eigh(a, 'X' as never), /linalg\.eigh\(\): UPLO must be 'L' or 'U', got "X"/);
  });
});
