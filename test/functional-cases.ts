// The two checks every functional fixture case gets (test/torch/functional.test.ts for F, extras.test.ts
// for the later additions): the output, in-place effects and gradients against PyTorch's, and the
// gradients against finite differences in float64.
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import type { Tensor } from '../src/torch/index.js';
import { assertClose, fromFixture, gradCheck, type FixtureTensor } from './helpers.js';

/** One call made by a fixture script: its inputs, PyTorch's output and the gradients of the inputs it differentiates. */
export interface FunctionalCase {
  inputs: Record<string, FixtureTensor>;
  expected: FixtureTensor;
  grad_output?: FixtureTensor;
  grads?: Record<string, FixtureTensor>;
  /** Inputs as the call left them (in-place updates, such as BatchNorm's running statistics). */
  expected_inputs?: Record<string, FixtureTensor>;
}

export type Inputs = Record<string, Tensor>;
export type Call = (inputs: Inputs) => Tensor;

const TOL = { rtol: 1e-5, atol: 1e-5 };

/** senet's call gives PyTorch's dtype, output, in-place effects and gradients, and frees what it made. */
export function checkAgainstPyTorch(name: string, c: FunctionalCase, call: Call): void {
  const before = torch.memory().tensors;
  torch.tidy(() => {
    const inputs: Inputs = {};
    for (const [k, v] of Object.entries(c.inputs)) {
      inputs[k] = fromFixture(v).requiresGrad_(c.grads !== undefined && k in c.grads);
    }
    const out = call(inputs);
    assert.equal(out.dtype, c.expected.dtype, `${name}: dtype`);
    assertClose(out, c.expected, TOL, `${name}: output`);
    for (const [k, v] of Object.entries(c.expected_inputs ?? {}))
      assertClose(inputs[k], v, TOL, `${name}: ${k} after the call`);
    if (c.grad_output) {
      out.backward(fromFixture(c.grad_output));
      for (const [k, g] of Object.entries(c.grads ?? {})) {
        assert.ok(inputs[k].grad, `${name}: ${k} got no gradient`);
        assertClose(inputs[k].grad!, g, TOL, `${name}: gradient of ${k}`);
      }
    }
  });
  assert.equal(torch.memory().tensors, before, 'every tensor the case made is freed');
}

/**
 * Finite differences in float64 over the inputs PyTorch differentiates (the others, such as targets and
 * running statistics, stay fixed). Returns false for a case with no gradients to check.
 */
export function gradCheckCase(name: string, c: FunctionalCase, call: Call): boolean {
  if (!c.grads || Object.keys(c.grads).length === 0) return false;
  torch.tidy(() => {
    const fixed: Inputs = {};
    for (const [k, v] of Object.entries(c.inputs)) {
      const t = fromFixture(v);
      fixed[k] = t.isFloatingPoint() ? t.double() : t;
    }
    const names = Object.keys(c.grads!);
    gradCheck(
      (...xs) => call({ ...fixed, ...Object.fromEntries(names.map((k, i) => [k, xs[i]])) }),
      names.map((k) => fixed[k]),
      {},
      name,
    );
  });
  return true;
}
