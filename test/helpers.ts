// Shared test helpers: fixtures made by real PyTorch, closeness checks, finite-difference gradients.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as torch from '../src/torch/index.js';
import type { Tensor, DType } from '../src/torch/index.js';

/** The package root (tests run from dist/test, sources live in test/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The project's shared folder (datasets, PyTorch references): $SENET_SHARED_DIR, else `../shared` beside
 * the checkout, else /work/shared — so a clone anywhere (CI clones to a temporary path) finds it.
 */
export const SHARED =
  [process.env.SENET_SHARED_DIR, join(ROOT, '..', 'shared'), '/work/shared'].find(
    (dir): dir is string => !!dir && existsSync(join(dir, 'datasets')),
  ) ?? join(ROOT, '..', 'shared');

export interface FixtureTensor {
  shape: number[];
  dtype: DType;
  data: (number | boolean)[];
}

setFlagsFromString('--expose-gc');
/** V8's full garbage collection (what --expose-gc exposes). */
export const collectGarbage = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

/**
 * Live native tensors once garbage is collected. Tensors an earlier test dropped without dispose are
 * freed by whichever collection comes next, even in the middle of a synchronous test, so a before/after
 * count that should match is taken with this.
 */
export function settledTensorCount(): number {
  collectGarbage();
  return torch.memory().tensors;
}

/** The cases of test/fixtures/<name>.json, written by scripts/fixtures/make_<name>.py. */
export function loadFixture<T = Record<string, unknown>>(name: string): T {
  const file = join(ROOT, 'test', 'fixtures', `${name}.json`);
  return JSON.parse(readFileSync(file, 'utf8')).cases as T;
}

export function isFixtureTensor(value: unknown): value is FixtureTensor {
  // A Tensor also has shape, data and dtype, but its data is a method, not an array.
  return (
    typeof value === 'object' &&
    value !== null &&
    'shape' in value &&
    'dtype' in value &&
    Array.isArray((value as { data?: unknown }).data)
  );
}

/** A tensor with a fixture's values, shape and dtype. */
export function fromFixture(f: FixtureTensor): Tensor {
  const data = f.dtype === 'bool' ? f.data.map((v) => (v ? 1 : 0)) : (f.data as number[]);
  return torch
    .tensor(f.dtype === 'bool' ? Uint8Array.from(data) : Float64Array.from(data), { shape: f.shape })
    .to(f.dtype);
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** Asserts same shape and |a - e| <= atol + rtol * |e| elementwise, naming the worst element on failure. */
export function assertClose(
  actual: Tensor,
  expected: Tensor | FixtureTensor | number[],
  tol: Tolerance = {},
  what = 'tensor',
): void {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  let expShape: number[];
  let exp: number[];
  if (Array.isArray(expected)) {
    expShape = actual.shape;
    exp = expected;
  } else if (isFixtureTensor(expected)) {
    expShape = expected.shape;
    exp = expected.data.map(Number);
  } else {
    expShape = expected.shape;
    exp = Array.from(expected.data() as ArrayLike<number | bigint>, Number);
  }
  assert.deepEqual(actual.shape, expShape, `${what}: shape`);
  const act = Array.from(actual.data() as ArrayLike<number | bigint>, Number);
  assert.equal(act.length, exp.length, `${what}: element count`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < act.length; i++) {
    if (Number.isNaN(act[i]) && Number.isNaN(exp[i])) continue;
    const diff = Math.abs(act[i] - exp[i]);
    const bound = atol + rtol * Math.abs(exp[i]);
    if (diff <= bound) continue; // a NaN difference fails here
    const excess = Number.isNaN(diff) ? Infinity : diff - bound;
    if (worst < 0 || excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${act[worst]}, expected ${exp[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** The largest relative error max|a - e| / max(|e|, tiny) over all elements. */
export function maxRelativeError(actual: Tensor, expected: Tensor): number {
  return torch.tidy(() => {
    const diff = actual.double().sub(expected.double()).abs().max().item();
    const scale = Math.max(expected.double().abs().max().item(), 1e-12);
    return diff / scale;
  });
}

/**
 * Checks autograd's gradients of `fn` against central finite differences in float64, as
 * torch.autograd.gradcheck does: the scalar checked is sum(fn(inputs) * R) for a fixed random R.
 */
export function gradCheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  tol: Tolerance & { eps?: number } = {},
  what = 'gradient',
): void {
  const eps = tol.eps ?? 1e-6;
  torch.tidy(() => {
    const leaves = inputs.map((x) => x.double().detach().requiresGrad_(x.isFloatingPoint()));
    const out = fn(...leaves);
    const gen = new torch.Generator(1234);
    const weights = torch.randn(out.shape, { dtype: 'float64', generator: gen });
    const objective = (...xs: Tensor[]) =>
      torch.tidy(() =>
        fn(...xs)
          .mul(weights)
          .sum()
          .item(),
      );
    out.mul(weights).sum().backward();
    leaves.forEach((leaf, k) => {
      if (!leaf.requiresGrad) return;
      const analytic = leaf.grad ? Array.from(leaf.grad.data() as Float64Array) : new Array(leaf.numel()).fill(0);
      const base = Float64Array.from(leaf.data() as Float64Array);
      const numeric = base.map((_, i) => {
        const probe = (delta: number) => {
          const values = Float64Array.from(base);
          values[i] += delta;
          const xs = leaves.map((l, j) => (j === k ? torch.tensor(values, { shape: leaf.shape }) : l.detach()));
          return objective(...xs);
        };
        return (probe(eps) - probe(-eps)) / (2 * eps);
      });
      assertClose(
        torch.tensor(Float64Array.from(analytic), { shape: leaf.shape }),
        Array.from(numeric),
        { rtol: tol.rtol ?? 1e-4, atol: tol.atol ?? 1e-6 },
        `${what} (input ${k})`,
      );
    });
  });
}

/**
 * Parameter-group entries PyTorch 1.13's optimizers have for implementations senet does not (autograd through
 * the step, CUDA graphs, fused kernels): left out when comparing state dicts with PyTorch's.
 */
export const PYTORCH_ONLY_GROUP_KEYS: ReadonlySet<string> = new Set(['differentiable', 'capturable', 'fused']);
