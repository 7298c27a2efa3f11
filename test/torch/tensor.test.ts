// Tensor creation, dtypes, data access (toArray/data/item), conversion and metadata. Values and dtypes of
// the creation functions and casts are PyTorch's (test/fixtures/ops.json, scripts/fixtures/make_ops.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { Tensor, DType } from '../../src/torch/index.js';
import { assertClose, fromFixture, isFixtureTensor, loadFixture, type FixtureTensor } from '../helpers.js';

interface Case {
  inputs: Record<string, FixtureTensor>;
  expected: FixtureTensor;
}
type Inputs = Record<string, Tensor>;

const cases = loadFixture<Record<string, Case>>('ops');

const CREATION: Record<string, (i: Inputs) => Tensor> = {
  'creation.arange_end': () => torch.arange(5),
  'creation.arange_start_end': () => torch.arange(2, 7),
  'creation.arange_negative_step': () => torch.arange(5, -4, -3),
  'creation.arange_float_step': () => torch.arange(0, 1, 0.25),
  'creation.arange_float64': () => torch.arange(1, 2.5, 0.5, { dtype: 'float64' }),
  'creation.linspace': () => torch.linspace(-1, 1, 5),
  'creation.linspace_one_step': () => torch.linspace(3, 7, 1),
  'creation.eye': () => torch.eye(3),
  'creation.eye_rect': () => torch.eye(2, 4),
  'creation.full_int': () => torch.full([2, 3], 7),
  'creation.full_float': () => torch.full([2], 2.5),
  'creation.full_bool': () => torch.full([3], true),
  'creation.full_dtype': () => torch.full([2, 2], 3, { dtype: 'float64' }),
  'creation.zeros': () => torch.zeros(2, 3),
  'creation.ones_int32': () => torch.ones([2, 2], { dtype: 'int32' }),
  'creation.tensor_int': () =>
    torch.tensor([
      [1, 2],
      [3, 4],
    ]),
  'creation.tensor_float': () =>
    torch.tensor([
      [1.5, 2],
      [3, 4],
    ]),
  'creation.tensor_bool': () => torch.tensor([true, false, true]),
  'creation.tensor_scalar': () => torch.tensor(2.5),
  'creation.tensor_empty': () => torch.tensor([]),
  'creation.zeros_like': ({ x }) => torch.zerosLike(x),
  'creation.ones_like_dtype': ({ x }) => torch.onesLike(x, { dtype: 'float64' }),
  'creation.full_like': ({ x }) => torch.fullLike(x, 4),

  'convert.to_int32': ({ x }) => x.to('int32'),
  'convert.to_int64': ({ x }) => x.long(),
  'convert.to_bool': ({ x }) => x.bool(),
  'convert.to_float64': ({ x }) => x.double(),
  'convert.to_float16': ({ x }) => x.half(),
  'convert.to_bfloat16': ({ x }) => x.bfloat16(),
  'convert.int_to_uint8': ({ x }) => x.to('uint8'),
  'convert.int_to_int8': ({ x }) => x.to({ dtype: 'int8' }),
  'convert.int_to_int16': ({ x }) => x.to('int16'),
  'convert.bool_to_float': ({ x }) => x.float(),
};

test('every creation/convert fixture case has a senet expression, and every expression a fixture case', () => {
  const fixtureNames = Object.keys(cases)
    .filter((n) => n.startsWith('creation.') || n.startsWith('convert.'))
    .sort();
  assert.deepEqual(Object.keys(CREATION).sort(), fixtureNames);
});

for (const [name, make] of Object.entries(CREATION)) {
  test(`${name} matches PyTorch (values and dtype)`, () => {
    const c = cases[name];
    torch.tidy(() => {
      const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, fromFixture(v)]));
      const actual = make(inputs);
      assert.ok(isFixtureTensor(c.expected));
      assert.equal(actual.dtype, c.expected.dtype, `${name}: dtype`);
      assertClose(actual, fromFixture(c.expected), { rtol: 0, atol: 0 }, name);
    });
  });
}

// One typed array per dtype that has one, and sample values it holds exactly.
const TYPED: [DType, () => ArrayLike<number | bigint>, (number | boolean)[]][] = [
  ['float32', () => new Float32Array([1.5, -2.25, 0]), [1.5, -2.25, 0]],
  ['float64', () => new Float64Array([0.1, -1e300, 3]), [0.1, -1e300, 3]],
  ['int64', () => new BigInt64Array([-5n, 0n, 9007199254740991n]), [-5, 0, 9007199254740991]],
  ['int32', () => new Int32Array([-2147483648, 0, 2147483647]), [-2147483648, 0, 2147483647]],
  ['int16', () => new Int16Array([-32768, 1, 32767]), [-32768, 1, 32767]],
  ['int8', () => new Int8Array([-128, 1, 127]), [-128, 1, 127]],
  ['uint8', () => new Uint8Array([0, 128, 255]), [0, 128, 255]],
];

for (const [dtype, makeArray, values] of TYPED) {
  test(`${dtype}: a typed array goes in and comes back unchanged (data, toArray, item)`, () => {
    torch.tidy(() => {
      const array = makeArray();
      const x = torch.tensor(array as never);
      assert.equal(x.dtype, dtype);
      assert.deepEqual(x.shape, [3]);
      const back = x.data();
      assert.equal(back.constructor, array.constructor, 'data() gives the same kind of typed array');
      assert.deepEqual(Array.from(back as ArrayLike<number | bigint>), Array.from(array));
      assert.deepEqual(x.toArray(), values);
      assert.equal(x.select(0, 2).item(), values[2]);
      const nested = torch.tensor([[values[0] as number, values[1] as number]], { dtype });
      assert.equal(nested.dtype, dtype);
      assert.deepEqual(nested.toArray(), [[values[0], values[1]]]);
    });
  });
}

test('bool tensors come from booleans or a Uint8Array with dtype bool, and give booleans back', () => {
  torch.tidy(() => {
    const x = torch.tensor([
      [true, false],
      [false, true],
    ]);
    assert.equal(x.dtype, 'bool');
    assert.deepEqual(x.toArray(), [
      [true, false],
      [false, true],
    ]);
    assert.deepEqual(Array.from(x.data() as Uint8Array), [1, 0, 0, 1]);
    assert.equal(x.select(0, 0).select(0, 0).item(), 1, 'item() of a bool is 1 or 0');
    const fromBytes = torch.tensor(new Uint8Array([0, 3, 1]), { dtype: 'bool' });
    assert.deepEqual(fromBytes.toArray(), [false, true, true]);
  });
});

test('half-precision tensors round like PyTorch and read back as Float32Array', () => {
  torch.tidy(() => {
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const x = torch.tensor(
        [
          [1.5, -2],
          [0.25, 3],
        ],
        { dtype },
      );
      assert.equal(x.dtype, dtype);
      assert.ok(x.data() instanceof Float32Array);
      assert.deepEqual(x.toArray(), [
        [1.5, -2],
        [0.25, 3],
      ]);
      assert.equal(x.isFloatingPoint(), true);
    }
    // 1/3 is not representable: float16 keeps 11 significant bits, bfloat16 8.
    assert.equal(torch.tensor([1 / 3], { dtype: 'float16' }).item(), 0.333251953125);
    assert.equal(torch.tensor([1 / 3], { dtype: 'bfloat16' }).item(), 0.333984375);
  });
});

test('tensor() infers dtype and shape like torch.tensor, and honours options', () => {
  torch.tidy(() => {
    assert.equal(torch.tensor([1, 2]).dtype, 'int64');
    assert.equal(torch.tensor([1, 2.5]).dtype, 'float32');
    assert.equal(torch.tensor([1n, 2n]).dtype, 'int64');
    assert.equal(torch.tensor(true).dtype, 'bool');
    assert.deepEqual(torch.tensor(7).shape, []);
    assert.equal(torch.tensor(7).item(), 7);
    assert.deepEqual(torch.tensor([[[1], [2]]]).shape, [1, 2, 1]);
    assert.deepEqual(torch.tensor([[]]).shape, [1, 0]);
    const shaped = torch.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    assert.deepEqual(shaped.toArray(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const converted = torch.tensor(new Int32Array([1, 2]), { dtype: 'float64' });
    assert.equal(converted.dtype, 'float64');
    const leaf = torch.tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    assert.equal(leaf.requiresGrad, true);
    const view = new Float32Array([9, 8, 7, 6]).subarray(1, 3);
    assert.deepEqual(torch.tensor(view).toArray(), [8, 7], 'a typed array view is read from its offset');
  });
});

test('tensor() copies its input: later changes to the array do not reach the tensor', () => {
  torch.tidy(() => {
    const array = new Float32Array([1, 2, 3]);
    const x = torch.tensor(array);
    array[0] = 100;
    assert.deepEqual(x.toArray(), [1, 2, 3]);
    const out = x.data() as Float32Array;
    out[1] = 100;
    assert.deepEqual(x.toArray(), [1, 2, 3], 'data() is a copy too');
  });
});

test('toArray() reads non-contiguous views in logical order', () => {
  torch.tidy(() => {
    const x = torch.arange(6).view(2, 3);
    assert.deepEqual(x.t().toArray(), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.deepEqual(x.slice(1, undefined, undefined, 2).toArray(), [
      [0, 2],
      [3, 5],
    ]);
    assert.deepEqual(Array.from(x.t().data() as BigInt64Array, Number), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(x.tolist(), x.toArray());
  });
});

test('item() needs exactly one element', () => {
  torch.tidy(() => {
    assert.equal(torch.tensor([[4.5]]).item(), 4.5);
    assert.throws(() => torch.ones(2).item(), /item\(\): the tensor has 2 elements/);
    assert.throws(() => torch.zeros(0).item(), /item\(\): the tensor has 0 elements/);
  });
});

test('shape-taking creators accept one array or separate numbers, then options', () => {
  torch.tidy(() => {
    for (const make of [torch.zeros, torch.ones, torch.empty, torch.randn, torch.rand] as const) {
      assert.deepEqual(make(2, 3).shape, [2, 3]);
      assert.deepEqual(make([4]).shape, [4]);
      assert.deepEqual(make([]).shape, []);
      const typed = make([2, 2], { dtype: 'float64' });
      assert.equal(typed.dtype, 'float64');
      assert.equal(make(1, 2, { requiresGrad: true }).requiresGrad, true);
    }
    assert.equal(torch.zeros(3).dtype, 'float32', 'float32 is the default dtype');
    assert.equal(torch.zeros([2], { dtype: 'bool' }).any().item(), 0);
    assert.deepEqual(torch.ones([2], { dtype: 'int64' }).toArray(), [1, 1]);
  });
});

test('random creators give the requested shape, range and dtype', () => {
  torch.tidy(() => {
    const u = torch.rand(1000);
    assert.ok(u.min().item() >= 0 && u.max().item() < 1);
    const n = torch.randn(2000, { dtype: 'float64' });
    assert.ok(Math.abs(n.mean().item()) < 0.15 && Math.abs(n.std().item() - 1) < 0.1);
    const r = torch.randint(3, 7, [500]);
    assert.equal(r.dtype, 'int64');
    assert.ok(r.min().item() === 3 && r.max().item() === 6);
    const fromZero = torch.randint(4, [2, 50], { dtype: 'int32' });
    assert.deepEqual(fromZero.shape, [2, 50]);
    assert.equal(fromZero.dtype, 'int32');
    assert.ok(fromZero.min().item() >= 0 && fromZero.max().item() <= 3);
    const p = torch.randperm(20);
    assert.deepEqual(
      p.sort().values.toArray(),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.throws(() => torch.randint(5, 5, [2]), /expected low < high/);
  });
});

test('*Like creators take shape, dtype and device from their argument, overridable by options', () => {
  torch.tidy(() => {
    const x = torch.zeros([2, 3], { dtype: 'float64' });
    const likes = [
      torch.zerosLike(x),
      torch.onesLike(x),
      torch.emptyLike(x),
      torch.fullLike(x, 2),
      torch.randnLike(x),
      torch.randLike(x),
      torch.randintLike(x, 5),
    ];
    for (const y of likes) {
      assert.deepEqual(y.shape, [2, 3]);
      assert.equal(y.dtype, 'float64');
      assert.equal(y.device, 'cpu');
    }
    assert.deepEqual(torch.onesLike(x).toArray(), [
      [1, 1, 1],
      [1, 1, 1],
    ]);
    assert.deepEqual(torch.fullLike(x, 2).toArray(), [
      [2, 2, 2],
      [2, 2, 2],
    ]);
    assert.equal(torch.zerosLike(x, { dtype: 'int32' }).dtype, 'int32');
    const ints = torch.randintLike(torch.zeros([400], { dtype: 'int64' }), 10, 12);
    assert.equal(ints.dtype, 'int64');
    assert.ok(ints.min().item() === 10 && ints.max().item() === 11);
  });
});

test('arange and eye accept options after any of their forms', () => {
  torch.tidy(() => {
    assert.equal(torch.arange(4, { dtype: 'float32' }).dtype, 'float32');
    assert.deepEqual(torch.arange(2, 5, { dtype: 'int32' }).toArray(), [2, 3, 4]);
    assert.deepEqual(torch.arange(0, 10, 4, { dtype: 'float64' }).toArray(), [0, 4, 8]);
    assert.equal(torch.eye(2, 2, { dtype: 'int64' }).dtype, 'int64');
    assert.equal(torch.linspace(0, 1, 3, { dtype: 'float64' }).dtype, 'float64');
  });
});

test('metadata: shape, size, ndim, numel, dtype, device, strides, contiguity', () => {
  torch.tidy(() => {
    const x = torch.zeros(2, 3, 4);
    assert.deepEqual(x.shape, [2, 3, 4]);
    assert.deepEqual(x.size(), [2, 3, 4]);
    assert.equal(x.size(-1), 4);
    assert.equal(x.size(1), 3);
    assert.throws(() => x.size(3), /dimension 3 is out of range for a 3-d tensor/);
    assert.equal(x.ndim, 3);
    assert.equal(x.dim(), 3);
    assert.equal(x.numel(), 24);
    assert.equal(x.dtype, 'float32');
    assert.equal(x.device, 'cpu');
    assert.deepEqual(x.stride(), [12, 4, 1]);
    assert.equal(x.isContiguous(), true);
    assert.equal(x.transpose(0, 2).isContiguous(), false);
    assert.equal(x.isFloatingPoint(), true);
    assert.equal(torch.zeros([1], { dtype: 'int64' }).isFloatingPoint(), false);
  });
});

test('to() converts dtype and device, and copies only when asked or needed', () => {
  torch.tidy(() => {
    const x = torch.tensor([1.7, -1.7]);
    const same = x.to('float32');
    same.fill_(0);
    assert.deepEqual(x.toArray(), [0, 0], 'to() the same dtype returns the same data, as in PyTorch');
    const y = torch.tensor([1.5]);
    const copy = y.to({ dtype: 'float32', copy: true });
    copy.fill_(0);
    assert.equal(y.item(), 1.5);
    assert.equal(y.to('cpu').device, 'cpu');
    assert.equal(y.cpu().dtype, 'float32');
    assert.equal(y.to({ device: 'cpu', dtype: 'float64' }).dtype, 'float64');
    assert.equal(y.typeAs(torch.zeros([1], { dtype: 'int32' })).dtype, 'int32');
    assert.equal(y.int().dtype, 'int32');
    assert.throws(() => y.to('float8' as DType), /to\(\): 'float8' is neither a dtype .* nor a device/);
  });
});

// The layout itself is checked against PyTorch's in test/torch/format.test.ts.
test('toString shows values as PyTorch prints them, then shape and dtype', () => {
  torch.tidy(() => {
    assert.equal(String(torch.tensor([1.5, 2])), 'tensor([1.5000, 2.0000], shape=[2], dtype=float32)');
    assert.equal(String(torch.tensor([[1, 2]])), 'tensor([[1, 2]], shape=[1, 2], dtype=int64)');
    assert.equal(String(torch.ones(1).requiresGrad_()), 'tensor([1.], shape=[1], dtype=float32, requiresGrad=true)');
    assert.equal(String(torch.zeros(2000)), 'tensor([0., 0., 0.,  ..., 0., 0., 0.], shape=[2000], dtype=float32)');
  });
});

test("viewAs and expandAs take the other tensor's shape; setData_ repoints a tensor at other data", () => {
  torch.tidy(() => {
    const x = torch.arange(6);
    assert.deepEqual(x.viewAs(torch.zeros(3, 2)).shape, [3, 2]);
    assert.deepEqual(
      torch
        .tensor([[1], [2]])
        .expandAs(torch.zeros(2, 3))
        .toArray(),
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
    );
    const p = torch.zeros(2).requiresGrad_();
    assert.equal(p.setData_(torch.tensor([4, 5], { dtype: 'float32' })), p);
    assert.deepEqual(p.toArray(), [4, 5]);
    assert.equal(p.requiresGrad, true, 'the identity (and requiresGrad) is kept, as with param.data = other');
  });
});

test('cuda() moves a tensor to the GPU, or says clearly that this libtorch has none', () => {
  torch.tidy(() => {
    const x = torch.tensor([1, 2], { dtype: 'float32' });
    if (torch.buildInfo().cudaDevices > 0) {
      const onGpu = x.cuda();
      assert.equal(onGpu.device, 'cuda:0');
      assert.deepEqual(onGpu.mul(2).cpu().toArray(), [2, 4]);
    } else {
      assert.throws(
        () => x.cuda(),
        /to\(\): device 'cuda:0' is not available: this libtorch build sees 0 CUDA device\(s\)/,
      );
      assert.throws(() => torch.zeros([2], { device: 'cuda' }), /zeros\(\): device 'cuda' is not available/);
    }
  });
});
