// How tensors print (String(x), x.toString(), template strings, console.log): PyTorch's layout of the values,
// checked against the text PyTorch's own torch._tensor_str produces (test/fixtures/extras.json, made by
// scripts/fixtures/make_extras.py), followed by senet's shape and dtype; and printing frees what it makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import { fromFixture, loadFixture, type FixtureTensor } from '../helpers.js';

interface PrintCase {
  /** A fixture tensor whose data may hold 'nan', 'inf' and '-inf' (JSON has no such numbers). */
  input: Omit<FixtureTensor, 'data'> & { data: (number | boolean | string)[] };
  requiresGrad: boolean;
  text: string;
}

const cases = loadFixture<{ printing: Record<string, PrintCase> }>('extras').printing;

function tensorOf(c: PrintCase): Tensor {
  const data = c.input.data.map((v) => (typeof v === 'string' ? Number(v.replace('inf', 'Infinity')) : v));
  return fromFixture({ ...c.input, data }).requiresGrad_(c.requiresGrad);
}

for (const [name, c] of Object.entries(cases)) {
  test(`${name}: prints as PyTorch lays it out, with shape and dtype`, () => {
    torch.tidy(() => {
      const x = tensorOf(c);
      assert.equal(String(x), c.text);
      assert.equal(x.toString(), c.text);
      assert.equal(`${x}`, c.text);
      assert.equal(inspect(x), c.text, 'console.log shows the same text');
    });
  });
}

test('the fixture covers summarised, empty, 0-d, int, bool, half and non-finite tensors', () => {
  for (const name of ['summarisedVector', 'summarised3d', 'empty', 'emptyInt2d', 'scalar', 'bool', 'float16']) {
    assert.ok(name in cases, name);
  }
  assert.match(cases.summarisedMatrix.text, /\.\.\.,\n/, 'rows are summarised');
  assert.match(cases.summarisedMatrix.text, /, {2}\.\.\., /, 'columns are summarised');
  assert.match(cases.halfTies.text, /0\.0312/, "Python's round-half-even, not JS toFixed's half-up");
});

test('results of differentiable operations show their autograd node, as PyTorch shows grad_fn', () => {
  torch.tidy(() => {
    const w = torch.ones(2).requiresGrad_();
    assert.equal(String(w), 'tensor([1., 1.], shape=[2], dtype=float32, requiresGrad=true)');
    assert.equal(String(w.mul(3)), 'tensor([3., 3.], shape=[2], dtype=float32, gradFn=<MulBackward1>)');
    assert.equal(String(torch.noGrad(() => w.mul(3))), 'tensor([3., 3.], shape=[2], dtype=float32)');
  });
});

test('printing frees every tensor it makes, inside a scope or not, and a disposed tensor still prints', () => {
  const big = torch.randn(50, 40, 3);
  const small = torch.tensor([1, 2, 3]);
  const before = torch.memory().tensors;
  for (let i = 0; i < 3; i++) {
    String(big);
    inspect(small);
  }
  torch.tidy(() => String(big));
  assert.equal(torch.memory().tensors, before);
  assert.match(String(big), /^tensor\(\[\[\[.*\.\.\.,\n/s);
  big.dispose();
  small.dispose();
  assert.equal(String(big), 'tensor(<disposed>)');
});

test('a summarised tensor prints its edge entries, read from the right places', () => {
  torch.tidy(() => {
    const x = torch.arange(7 * 1000).reshape(7, 1000);
    const text = String(x);
    assert.equal(
      text,
      [
        'tensor([[   0,    1,    2,  ...,  997,  998,  999],',
        '        [1000, 1001, 1002,  ..., 1997, 1998, 1999],',
        '        [2000, 2001, 2002,  ..., 2997, 2998, 2999],',
        '        ...,',
        '        [4000, 4001, 4002,  ..., 4997, 4998, 4999],',
        '        [5000, 5001, 5002,  ..., 5997, 5998, 5999],',
        '        [6000, 6001, 6002,  ..., 6997, 6998, 6999]], shape=[7, 1000],',
        '       dtype=int64)',
      ].join('\n'),
    );
    // A non-contiguous view prints its own elements.
    assert.equal(
      String(x.narrow(1, 0, 2).t().narrow(1, 5, 2)),
      String(
        torch.tensor([
          [5000, 6000],
          [5001, 6001],
        ]),
      ),
    );
  });
});

test('a tensor of many dimensions prints, summarised to 6 entries per dimension (6**6 values)', () => {
  torch.tidy(() => {
    const text = String(torch.ones(7, 7, 7, 7, 7, 7));
    assert.ok(text.startsWith('tensor([[[[[[1., 1., 1.,  ..., 1., 1., 1.],'), text.slice(0, 80));
    assert.ok(text.endsWith('1.]]]]]], shape=[7, 7, 7, 7, 7, 7],\n       dtype=float32)'), text.slice(-80));
    assert.equal(text.match(/1\./g)?.length, 6 ** 6);
  });
});

test('a parameter prints as PyTorch prints one, under "Parameter containing:"', () => {
  const layer = new torch.nn.Linear(2, 1, { bias: false });
  torch.noGrad(() => layer.weight.fill_(0.5));
  assert.equal(
    inspect(layer.weight),
    'Parameter containing:\ntensor([[0.5000, 0.5000]], shape=[1, 2], dtype=float32, requiresGrad=true)',
  );
  layer.dispose();
});
