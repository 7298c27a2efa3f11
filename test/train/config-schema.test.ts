// The config table (config-schema.ts) is the one declaration of each training field: the defaults, the
// field checks and the tunable space derived from it must agree with it, entry by entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONFIG_FIELDS,
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  checkConfigLayer,
  fieldSpec,
  resolveConfig,
  type ConfigSource,
  type TrainConfig,
} from '../../src/train/config.js';
import { RECIPES } from '../../src/train/recipes.js';
import { TUNABLE_KEYS, checkSpaceFitsConfig, exampleParam, fieldChoices, parseSpace } from '../../src/tune/space.js';

const source: ConfigSource = { describe: (key) => `--${key}` };

test('the defaults, the keys and their order come from the table, and every default passes its own check', () => {
  assert.deepEqual(CONFIG_KEYS, Object.keys(CONFIG_FIELDS));
  assert.deepEqual(Object.keys(DEFAULT_CONFIG), CONFIG_KEYS);
  for (const key of CONFIG_KEYS) {
    const spec = fieldSpec(key);
    assert.deepEqual(DEFAULT_CONFIG[key], spec.default, key);
    assert.ok(
      spec.rule.ok(spec.default),
      `the default ${key} ${JSON.stringify(spec.default)} is ${spec.rule.expected}`,
    );
    assert.equal(spec.rule.ok(undefined), false, `${key}: a missing value is never valid`);
    // A field that may be null says so in its error, and one that may not refuses null.
    assert.equal(spec.rule.ok(null), spec.rule.nullable, key);
    assert.equal(spec.rule.expected.includes('or null'), spec.rule.nullable, `${key}: ${spec.rule.expected}`);
  }
  // The defaults are a copy: changing a resolved config's list leaves the table alone.
  const c = resolveConfig();
  c.mean.push(9);
  assert.deepEqual(fieldSpec('mean').default, [0.5, 0.5, 0.5]);
});

test("a layer is checked by the table's rules, with their words in the error", () => {
  for (const key of CONFIG_KEYS) {
    const { rule } = fieldSpec(key);
    // A value of the wrong shape for every field: a nested array is no field's value.
    assert.throws(
      () => checkConfigLayer({ [key]: [[1]] }, source),
      (e: Error) => e.message === `--${key} is [[1]]; expected ${rule.expected}`,
      key,
    );
  }
});

test('choice fields refuse a value outside their list and accept each one in it', () => {
  for (const key of CONFIG_KEYS) {
    const { kind } = fieldSpec(key).rule;
    if (kind.type !== 'choice') continue;
    for (const choice of kind.choices) assert.deepEqual(checkConfigLayer({ [key]: choice }, source), { [key]: choice });
    assert.throws(
      () => checkConfigLayer({ [key]: 'no-such-choice' }, source),
      new RegExp(`--${key} is "no-such-choice"; expected one of`),
    );
  }
});

/** The configs of the recipes: a search range must work on at least one of them. */
const recipeBases = (): TrainConfig[] =>
  RECIPES.map((recipe) => ({ ...resolveConfig({ values: { recipe }, source }), out: null }));

function fitsSomeRecipe(space: ReturnType<typeof parseSpace>): string[] {
  const errors: string[] = [];
  for (const base of recipeBases()) {
    try {
      checkSpaceFitsConfig(space, base);
      return [];
    } catch (error) {
      errors.push(`${base.recipe}: ${(error as Error).message}`);
    }
  }
  return errors;
}

test("every tunable field's search-space entry in the table parses and fits a recipe's config", () => {
  assert.ok(TUNABLE_KEYS.length >= 20, `${TUNABLE_KEYS.length} tunable fields`);
  for (const key of TUNABLE_KEYS) {
    const { tune } = fieldSpec(key);
    const names = tune.how === 'options' ? Object.keys(tune.example) : [key];
    assert.ok(names.length > 0, key);
    for (const name of names) {
      const example = exampleParam(name);
      assert.ok(example, `${name} has an example`);
      const space = parseSpace({ [name]: example }, `the table's ${name}`);
      assert.deepEqual(fitsSomeRecipe(space), [], name);
    }
  }
  // Choices-only fields offer every value their check allows.
  assert.deepEqual(fieldChoices('optimizer'), ['adam', 'sgd', 'adamw']);
  assert.deepEqual(fieldChoices('nesterov'), [false, true]);
  assert.deepEqual(fieldChoices('sePlacement'), [null, 'standard', 'pre', 'post', 'identity']);
});

test('a search space may not tune a fixed field, nor give a range to a field of choices', () => {
  const fixed = CONFIG_KEYS.filter((key) => !TUNABLE_KEYS.includes(key));
  assert.deepEqual(fixed, [
    'data',
    'dataMode',
    'milestones',
    'mean',
    'std',
    'maxLoss',
    'threads',
    'out',
    'evalEvery',
    'recipe',
    'pretrained',
    'pretrainedSha256',
    'pretrainedClassifier',
    'pretrainedKeyMap',
    'pretrainedAllowNonfinite',
  ]);
  for (const key of fixed) {
    const { tune } = fieldSpec(key);
    assert.equal(tune.how, 'fixed');
    if (tune.how === 'fixed') {
      assert.throws(
        () => parseSpace({ [key]: { choices: [1, 2] } }),
        (e: Error) => e.message.endsWith(`'${key}' cannot be tuned: ${tune.why}`),
        key,
      );
    }
  }
  assert.throws(
    () => parseSpace({ optimizer: { type: 'float', low: 0, high: 1 } }),
    /parameter 'optimizer': 'optimizer' takes a list of choices \(e\.g\. \{"choices":\["adam","sgd","adamw"\]\}\), not a float range/,
  );
  assert.throws(
    () => parseSpace({ attention: { type: 'int', low: 4, high: 16 } }),
    /'attention' takes a list of choices, not a int range; vary its fields with dotted names such as 'attention\.reduction'/,
  );
  // A parameter without a type shows a working entry for that field.
  assert.throws(
    () => parseSpace({ lr: { low: 1e-3, high: 1e-1 } }),
    /'type' is missing; expected 'float', 'int' or 'categorical' \(e\.g\. \{"type":"float",/,
  );
  // Dotted options of an object field take ranges.
  assert.deepEqual(parseSpace({ 'attention.reduction': { type: 'int', low: 4, high: 16, step: 4 } })[0], {
    type: 'int',
    name: 'attention.reduction',
    low: 4,
    high: 16,
    log: false,
    step: 4,
  });
});
