import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.js';
import { applyParams, checkSpaceFitsConfig, parseSpace, snapToStep, spaceToJson } from '../../src/tune/space.js';

const base = (): TrainConfig => structuredClone(DEFAULT_CONFIG) as TrainConfig;

test('a search space reads floats, ints and categoricals, with defaults filled in', () => {
  const space = parseSpace({
    lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
    weightDecay: { type: 'float', low: 0, high: 1e-3, step: 2.5e-4 },
    epochs: { type: 'int', low: 1, high: 3 },
    batchSize: { type: 'categorical', choices: [64, 128] },
    'attention.type': { choices: ['se', 'eca', 'none'] },
  });
  assert.deepEqual(
    space.map((p) => p.name),
    ['lr', 'weightDecay', 'epochs', 'batchSize', 'attention.type'],
  );
  assert.deepEqual(space[0], { type: 'float', name: 'lr', low: 1e-4, high: 1e-1, log: true, step: null });
  assert.deepEqual(space[2], { type: 'int', name: 'epochs', low: 1, high: 3, log: false, step: 1 });
  assert.deepEqual(space[4], { type: 'categorical', name: 'attention.type', choices: ['se', 'eca', 'none'] });
  // What the study stores reads back to the same space.
  assert.deepEqual(parseSpace(spaceToJson(space)), space);
});

test('bad search spaces give one error naming the parameter and what was expected', () => {
  const cases: [unknown, RegExp][] = [
    [[], /must be a JSON object/],
    [{}, /names no parameters/],
    [{ learningRate: { type: 'float', low: 0.1, high: 1 } }, /'learningRate' is not a training config field/],
    [
      { 'lr.x': { type: 'float', low: 0.1, high: 1 } },
      /only 'attention.<option>', 'lookahead.<option>' may be dotted, got 'lr.x'/,
    ],
    [
      { lr: { type: 'double', low: 0.1, high: 1 } },
      /parameter 'lr': 'type' is "double"; expected 'float', 'int' or 'categorical'/,
    ],
    [{ lr: { low: 0.1, high: 1 } }, /parameter 'lr': 'type' is missing/],
    [{ lr: { type: 'float', low: 1, high: 0.1 } }, /'low' \(1\) must be less than 'high' \(0.1\)/],
    [{ lr: { type: 'float', low: 0, high: 0.1, log: true } }, /a log scale needs 'low' > 0, got 0/],
    [{ lr: { type: 'float', low: 0.1, high: 1, lg: true } }, /unknown key 'lg' for a float parameter/],
    [{ epochs: { type: 'int', low: 1.5, high: 3 } }, /'low' is 1.5; expected an integer/],
    [{ epochs: { type: 'int', low: 1, high: 8, step: 2 } }, /whole number of steps of 2/],
    [{ lr: { type: 'float', low: 0.1, high: 1, log: true, step: 0.1 } }, /'step' and 'log' cannot be combined/],
    [{ batchSize: { type: 'categorical', choices: [] } }, /'choices' is \[\]; expected a non-empty list/],
    [{ batchSize: { choices: [64, 64] } }, /lists a value twice/],
    [{ batchSize: { choices: [[64]] } }, /choice \[64\] is not a number, string, boolean or null/],
    [
      { attention: { choices: [null] }, 'attention.reduction': { choices: [4] } },
      /sets both 'attention' and 'attention.reduction'/,
    ],
  ];
  for (const [raw, message] of cases) assert.throws(() => parseSpace(raw), message, JSON.stringify(raw));
});

test('applyParams sets fields, dotted names inside their object, and checks the result', () => {
  const config = applyParams(
    { ...base(), attention: { type: 'se' } },
    { lr: 0.01, batchSize: 128, 'attention.reduction': 8 },
  );
  assert.equal(config.lr, 0.01);
  assert.equal(config.batchSize, 128);
  assert.deepEqual(config.attention, { type: 'se', reduction: 8 });
  // A dotted name creates the object when the base has none.
  assert.deepEqual(applyParams(base(), { 'attention.type': 'eca' }).attention, { type: 'eca' });
  assert.throws(
    () => applyParams(base(), { epochs: 2.5 }),
    /the tuned 'epochs' is 2.5; expected an integer in \[1, 10000\]/,
  );
});

test('checkSpaceFitsConfig rejects ranges the config cannot take, before any trial runs', () => {
  checkSpaceFitsConfig(
    parseSpace({ lr: { type: 'float', low: 1e-4, high: 0.1, log: true }, epochs: { type: 'int', low: 1, high: 4 } }),
    base(),
  );
  assert.throws(
    () => checkSpaceFitsConfig(parseSpace({ epochs: { type: 'float', low: 1, high: 3 } }), base()),
    /parameter 'epochs' cannot take the value 1\.6\d+: the tuned 'epochs' is 1\.6\d+; expected an integer in \[1, 10000\]/,
  );
  assert.throws(
    () => checkSpaceFitsConfig(parseSpace({ labelSmoothing: { type: 'float', low: 0, high: 1 } }), base()),
    /parameter 'labelSmoothing' cannot take the value 1: the tuned 'labelSmoothing' is 1; expected a number in \[0, 1\)/,
  );
  assert.throws(
    () => checkSpaceFitsConfig(parseSpace({ 'attention.type': { choices: ['se', 'fancy'] } }), base()),
    /parameter 'attention.type' cannot take the value "fancy"/,
  );
});

test('snapToStep puts values on the grid of steps without binary noise', () => {
  const [wd, n] = parseSpace({
    weightDecay: { type: 'float', low: 0.1, high: 0.5, step: 0.1 },
    epochs: { type: 'int', low: 2, high: 10, step: 2 },
  });
  assert.equal(snapToStep(wd as never, 0.31), 0.3);
  assert.equal(snapToStep(wd as never, 0.7), 0.5);
  assert.equal(snapToStep(n as never, 5.1), 6);
  assert.equal(snapToStep(n as never, -3), 2);
});
