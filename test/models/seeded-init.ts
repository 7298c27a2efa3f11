// The check that a model's initialisation (its layers' defaults, then timm's for the ResNets) draws PyTorch's
// numbers, shared by the model tests.
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { createModel, modelName } from '../../src/models/index.js';

/**
 * Builds each named model right after manualSeed(0) and checks every floating-point state entry's sum
 * against the sums PyTorch's script recorded for the same construction (same names, same order).
 */
export function assertSeededInitialisation(seeded: Record<string, Record<string, number>>): void {
  for (const [name, sums] of Object.entries(seeded)) {
    torch.manualSeed(0);
    const model = createModel(modelName(name));
    const state = model.stateDict();
    assert.deepEqual(
      Object.keys(state).filter((k) => state[k].isFloatingPoint()),
      Object.keys(sums),
      name,
    );
    for (const [key, sum] of Object.entries(sums)) {
      const actual = torch.tidy(() => state[key].double().sum().item());
      assert.ok(Math.abs(actual - sum) <= 1e-9 * Math.max(1, Math.abs(sum)), `${name} ${key}: ${actual} vs ${sum}`);
    }
    model.dispose();
  }
}
