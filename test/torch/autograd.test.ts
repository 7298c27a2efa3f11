// Autograd through senet: requiresGrad, backward, grad, detach, noGrad/enableGrad, autograd.grad,
// retainGrad, isLeaf, gradFn. Gradient values are PyTorch's (test/fixtures/ops.json, 'autograd.*') and
// agree with finite differences (gradCheck).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import { assertClose, fromFixture, gradCheck, loadFixture, type FixtureTensor } from '../helpers.js';

interface Case {
  inputs: Record<string, FixtureTensor>;
  expected: FixtureTensor | FixtureTensor[] | string[];
}

const cases = loadFixture<Record<string, Case>>('ops');

function inputsOf(name: string): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(cases[name].inputs).map(([k, v]) => [k, fromFixture(v)]));
}

const expectedTensors = (name: string) => {
  const e = cases[name].expected;
  return (Array.isArray(e) ? e : [e]) as FixtureTensor[];
};

/** A fresh leaf that records gradients. */
const leaf = (t: Tensor) => t.detach().requiresGrad_();

function assertGrads(name: string, actual: (Tensor | null)[]): void {
  const expected = expectedTensors(name);
  assert.equal(actual.length, expected.length);
  actual.forEach((g, i) => {
    assert.ok(g, `${name}: gradient ${i} is missing`);
    assertClose(g, expected[i], { rtol: 1e-5, atol: 1e-6 }, `${name}[${i}]`);
  });
}

test("backward() of a scalar fills the leaves' grad (fixture autograd.sin_mul_sum)", () => {
  torch.tidy(() => {
    const { x, w } = inputsOf('autograd.sin_mul_sum');
    const [xl, wl] = [leaf(x), leaf(w)];
    assert.equal(xl.grad, null, 'no gradient before backward');
    xl.mul(wl).sin().sum().backward();
    assertGrads('autograd.sin_mul_sum', [xl.grad, wl.grad]);
  });
});

test('backward(gradient) of a non-scalar (fixture autograd.backward_gradient)', () => {
  torch.tidy(() => {
    const { x, g } = inputsOf('autograd.backward_gradient');
    const xl = leaf(x);
    xl.pow(2).mul(3).backward(g);
    assertGrads('autograd.backward_gradient', [xl.grad]);
  });
});

test('autograd.grad with createGraph gives differentiable gradients (fixture autograd.grad_create_graph)', () => {
  torch.tidy(() => {
    const xl = leaf(inputsOf('autograd.grad_create_graph').x);
    const [g] = torch.autograd.grad(xl.pow(3).sum(), xl, { createGraph: true });
    assert.ok(g?.requiresGrad, 'the first derivative is part of a graph');
    const [gg] = torch.autograd.grad(g.sum(), xl);
    assertGrads('autograd.grad_create_graph', [g, gg]);
    assert.equal(xl.grad, null, 'autograd.grad leaves .grad alone');
  });
});

test('retainGrad keeps the gradient of a non-leaf (fixture autograd.retain_grad)', () => {
  torch.tidy(() => {
    const xl = leaf(inputsOf('autograd.retain_grad').x);
    const z = xl.mul(2);
    assert.equal(z.isLeaf, false);
    assert.equal(z.retainGrad(), z);
    z.pow(2).sum().backward();
    assertGrads('autograd.retain_grad', [z.grad, xl.grad]);
  });
});

test('gradients accumulate over backward calls; retainGraph allows the second (fixture autograd.accumulate)', () => {
  torch.tidy(() => {
    const xl = leaf(inputsOf('autograd.accumulate').x);
    const y = xl.exp().mul(xl).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assertGrads('autograd.accumulate', [xl.grad]);
    assert.throws(() => y.backward(), /backward through the graph a second time/);
  });
});

test('gradFn names the node that made a tensor, as PyTorch does (fixture autograd.grad_fn_names)', () => {
  torch.tidy(() => {
    const xl = leaf(inputsOf('autograd.grad_fn_names').x);
    const names = [
      xl.mul(xl).gradFn,
      xl.add(xl).gradFn,
      xl.sum().gradFn,
      xl.matmul(xl).gradFn,
      xl.view(3, 1).gradFn,
      xl.exp().gradFn,
    ];
    assert.deepEqual(names, cases['autograd.grad_fn_names'].expected);
    assert.equal(xl.gradFn, null, 'leaves have no gradFn');
  });
});

test('matmul and broadcasting gradients (fixtures autograd.matmul_tanh, autograd.broadcast_reduces_grad)', () => {
  torch.tidy(() => {
    const m = inputsOf('autograd.matmul_tanh');
    const [a, b] = [leaf(m.a), leaf(m.b)];
    a.matmul(b).tanh().sum().backward();
    assertGrads('autograd.matmul_tanh', [a.grad, b.grad]);

    const br = inputsOf('autograd.broadcast_reduces_grad');
    const [p, q] = [leaf(br.a), leaf(br.b)];
    p.sub(q).pow(2).div(q.abs().add(1)).mean().backward();
    assertGrads('autograd.broadcast_reduces_grad', [p.grad, q.grad]);
    assert.deepEqual(q.grad!.shape, [3], 'a broadcast input gets a gradient of its own shape');
  });
});

test("libtorch's gradients agree with finite differences for elementwise, reduction and shape ops", () => {
  torch.tidy(() => {
    const gen = new torch.Generator(5);
    const a = torch.randn([2, 3], { dtype: 'float64', generator: gen });
    const b = torch.rand([2, 3], { dtype: 'float64', generator: gen }).add(0.5);
    gradCheck((x, y) => x.mul(y).sub(x.div(y)).add(y.pow(1.5)), [a, b], {}, 'mul/div/sub/pow');
    gradCheck((x) => x.exp().add(x.sin()).mul(x.tanh()).sigmoid(), [a], {}, 'exp/sin/tanh/sigmoid');
    gradCheck((y) => y.log().add(y.sqrt()).add(y.rsqrt()).add(y.reciprocal()), [b], {}, 'log/sqrt/rsqrt/reciprocal');
    gradCheck((x) => torch.stack([x.sum(1), x.mean(1), x.std(1), x.logsumexp(1), x.norm(2, 1)]), [a], {}, 'reductions');
    gradCheck((x) => x.cumsum(1).mul(x.max(1, true).values), [a], {}, 'cumsum/max');
    gradCheck((x, y) => x.matmul(y.t()), [a, b], {}, 'matmul');
    gradCheck(
      (x) => torch.cat([x.permute(1, 0).reshape(2, 3), x.flip(1), x.roll(1, 1)]).softmax(0),
      [a],
      {},
      'shape ops',
    );
    const index = torch.tensor([
      [2, 0],
      [1, 1],
    ]);
    gradCheck((x) => x.gather(1, index).mul(x.index([null, torch.tensor([1, 2])])), [a], {}, 'gather/index');
    gradCheck((x, y) => torch.where(x.gt(0), x, y).clamp(-0.5, 0.8).lerp(y, 0.3), [a, b], {}, 'where/clamp/lerp');
    gradCheck((x, y) => x.addcmul(y, y, 0.5).addcdiv(x, y, 2), [a, b], {}, 'addcmul/addcdiv');
  });
});

test('requiresGrad, isLeaf and the grad setter', () => {
  torch.tidy(() => {
    const x = torch.ones(2);
    assert.equal(x.requiresGrad, false);
    x.requiresGrad = true;
    assert.equal(x.requiresGrad, true);
    assert.equal(x.isLeaf, true);
    const y = x.mul(3);
    assert.equal(y.requiresGrad, true);
    assert.equal(y.isLeaf, false);
    y.sum().backward();
    assert.deepEqual(x.grad!.toArray(), [3, 3]);
    x.grad = torch.tensor([0.5, 0.5]);
    assert.deepEqual(x.grad!.toArray(), [0.5, 0.5]);
    x.grad = null;
    assert.equal(x.grad, null, 'setting null clears it, as zero_grad(set_to_none=True)');
    assert.equal(x.requiresGrad_(false).requiresGrad, false);
    assert.throws(
      () => torch.tensor([1, 2]).requiresGrad_(),
      /Only Tensors of floating point and complex dtype can require gradients/,
    );
  });
});

test('detach shares data but leaves the graph; detach_ cuts a tensor loose in place', () => {
  torch.tidy(() => {
    const x = torch.ones(2).requiresGrad_();
    const y = x.mul(2);
    const d = y.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.gradFn, null);
    d.fill_(5);
    assert.deepEqual(y.toArray(), [5, 5], 'the detached tensor shares storage');
    const z = x.mul(3);
    assert.equal(z.detach_(), z);
    assert.equal(z.requiresGrad, false);
    assert.equal(z.isLeaf, true);
  });
});

test('noGrad turns recording off for synchronous work and restores the previous mode', () => {
  torch.tidy(() => {
    const x = torch.ones(2).requiresGrad_();
    assert.equal(torch.isGradEnabled(), true);
    const y = torch.noGrad(() => {
      assert.equal(torch.isGradEnabled(), false);
      const inner = torch.enableGrad(() => {
        assert.equal(torch.isGradEnabled(), true);
        return x.mul(2);
      });
      assert.equal(inner.requiresGrad, true, 'enableGrad records even inside noGrad');
      assert.equal(torch.isGradEnabled(), false);
      return x.mul(2);
    });
    assert.equal(y.requiresGrad, false);
    assert.equal(torch.isGradEnabled(), true);
    assert.throws(
      () =>
        torch.noGrad(() => {
          throw new Error('inside');
        }),
      /inside/,
    );
    assert.equal(torch.isGradEnabled(), true, 'restored after a throw');
    torch.setGradEnabled(false);
    assert.equal(x.mul(2).requiresGrad, false);
    torch.setGradEnabled(true);
  });
});

test('noGrad holds across the awaits of an async function, then restores the mode', async () => {
  const x = torch.ones(2).requiresGrad_();
  const result = await torch.noGrad(async () => {
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(torch.isGradEnabled(), false);
    return x.mul(2);
  });
  assert.equal(result.requiresGrad, false);
  assert.equal(torch.isGradEnabled(), true);
  await assert.rejects(
    torch.noGrad(async () => {
      throw new Error('async inside');
    }),
    /async inside/,
  );
  assert.equal(torch.isGradEnabled(), true);
  torch.dispose([x, result]);
});

test('autograd.grad: several inputs, unused inputs, explicit output gradients', () => {
  torch.tidy(() => {
    const a = torch.tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const b = torch.tensor([3, 4], { dtype: 'float32', requiresGrad: true });
    const unused = torch.ones(1).requiresGrad_();
    const y = a.mul(b);
    const [ga, gb] = torch.autograd.grad(y, [a, b], {
      gradOutputs: [torch.tensor([1, 10], { dtype: 'float32' })],
      retainGraph: true,
    });
    assert.deepEqual(ga!.toArray(), [3, 40]);
    assert.deepEqual(gb!.toArray(), [1, 20]);
    assert.throws(
      () => torch.autograd.grad(y.sum(), [a, unused], { retainGraph: true }),
      /One of the differentiated Tensors appears to not have been used/,
    );
    const [, gUnused] = torch.autograd.grad(y.sum(), [a, unused], { allowUnused: true });
    assert.equal(gUnused, null);
  });
});

test('autograd.backward sums the gradients of several outputs', () => {
  torch.tidy(() => {
    const x = torch.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    torch.autograd.backward([x.mul(2).sum(), x.pow(2)], [null, torch.ones(2, { dtype: 'float64' })]);
    assert.deepEqual(x.grad!.toArray(), [2 + 2, 2 + 4]);
  });
});
