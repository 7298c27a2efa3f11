// Named recipes as a config layer: defaults < recipe < config file < flags; every recipe field can be
// overridden; the recipe is named in config.json and in messages about its values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkCompleteConfig,
  fileSource,
  readConfigFile,
  resolveConfig,
  type ConfigSource,
  type TrainConfig,
} from '../../src/train/config.js';
import { RECIPES, RECIPE_FIELDS, recipeLayer } from '../../src/train/recipes.js';
import { NORMALIZATIONS } from '../../src/data/index.js';
import { tempDir } from '../data/support.js';

const flags: ConfigSource = { describe: (key) => `--${key}` };

test('the seed recipe is exactly the defaults', () => {
  assert.deepEqual(RECIPE_FIELDS.seed, {});
  assert.deepEqual(resolveConfig({ values: { recipe: 'seed' }, source: flags }), resolveConfig());
  assert.equal(resolveConfig().recipe, 'seed');
});

test("the resnet recipe is the papers' CIFAR setting", () => {
  const c = resolveConfig({ values: { recipe: 'resnet' }, source: flags });
  assert.equal(c.recipe, 'resnet');
  assert.equal(c.model, 'se-resnet20');
  assert.equal(c.optimizer, 'sgd');
  assert.equal(c.lr, 0.1);
  assert.equal(c.momentum, 0.9);
  assert.equal(c.nesterov, true);
  assert.equal(c.weightDecay, 5e-4);
  assert.equal(c.decayBnAndBias, false);
  assert.equal(c.batchSize, 128);
  assert.equal(c.augment, 'crop-flip');
  assert.deepEqual(c.mean, [...NORMALIZATIONS.cifar10.mean]);
  assert.deepEqual(c.std, [...NORMALIZATIONS.cifar10.std]);
  assert.equal(c.schedule, 'cosine');
  assert.equal(c.epochs, 200);
  // Step decays at 50% and 75% instead: only the schedule changes.
  const step = resolveConfig({ values: { recipe: 'resnet', schedule: 'multistep' }, source: flags });
  assert.equal(step.schedule, 'multistep');
  assert.equal(step.milestones, null);
  assert.equal(step.lr, 0.1);
});

test('the fast recipe: SE-FastNet with EMA, flip TTA, translate + flip, label smoothing, Nesterov SGD, warmup + linear decay', () => {
  const c = resolveConfig({ values: { recipe: 'fast' }, source: flags });
  assert.equal(c.model, 'se-fastnet');
  assert.ok(c.ema !== null && c.ema > 0.9 && c.ema < 1);
  assert.equal(c.tta, 'flip');
  assert.equal(c.augment, 'translate-flip');
  assert.ok(c.labelSmoothing > 0);
  assert.equal(c.optimizer, 'sgd');
  assert.equal(c.nesterov, true);
  assert.equal(c.schedule, 'linear');
  assert.ok(c.warmupEpochs > 0 && c.warmupEpochs < c.epochs);
  assert.ok(c.batchSize >= 256);
  // airbench's BatchNorm and initialisation.
  assert.equal(c.freezeBnScale, true);
  assert.equal(c.biasLrScale, 64);
  assert.equal(c.identityInit, true);
});

test('precedence: defaults < recipe < config file < flags, whichever layer names the recipe', (t) => {
  const dir = tempDir(t, 'senet-recipes-');
  const file = join(dir, 'run.json');
  writeFileSync(file, JSON.stringify({ recipe: 'resnet', lr: 0.05, epochs: 30 }));
  const fromFile = readConfigFile(file);
  const c = resolveConfig(
    { values: fromFile, source: fileSource(file) },
    { values: { epochs: 15, model: 'resnet20' }, source: flags },
  );
  assert.equal(c.recipe, 'resnet');
  assert.equal(c.lr, 0.05); // file beats recipe
  assert.equal(c.epochs, 15); // flag beats file
  assert.equal(c.model, 'resnet20'); // flag beats recipe
  assert.equal(c.batchSize, 128); // recipe beats default
  assert.equal(c.shuffle, true); // default
  // A flag naming another recipe replaces the file's; the file's own fields still apply on top of it.
  const fast = resolveConfig(
    { values: fromFile, source: fileSource(file) },
    { values: { recipe: 'fast' }, source: flags },
  );
  assert.equal(fast.recipe, 'fast');
  assert.equal(fast.model, 'se-fastnet');
  assert.equal(fast.lr, 0.05);
  assert.equal(fast.epochs, 30);
});

test('every field of every recipe can be overridden, and recipe layers are not shared or mutated', () => {
  const other: Partial<TrainConfig> = {
    model: 'resnet20',
    epochs: 3,
    batchSize: 32,
    optimizer: 'adamw',
    lr: 0.003,
    momentum: 0.5,
    nesterov: false,
    weightDecay: 0.1,
    decayBnAndBias: true,
    schedule: 'step',
    warmupEpochs: 1,
    labelSmoothing: 0.05,
    augment: 'none',
    mean: [0.1, 0.2, 0.3],
    std: [0.4, 0.5, 0.6],
    ema: null,
    tta: 'flip-translate',
    mixedPrecision: 'none',
    memoryFormat: 'contiguous',
    whiten: false,
    biasLrScale: 2,
    freezeBnScale: false,
    identityInit: false,
    // The airbench recipe's: on a ResNet with the step schedule, their neutral values.
    dropLast: false,
    lossReduction: 'mean',
    bnMomentum: null,
    bnEps: null,
    logitScale: 1,
    whitenBiasEpochs: null,
    lrStartFactor: 0.2,
    lrPeakFraction: 0.23,
    lrEndFactor: 0.07,
    lookahead: null,
    ttaMean: 'probabilities',
  };
  for (const recipe of RECIPES) {
    const fields = Object.keys(RECIPE_FIELDS[recipe]) as (keyof TrainConfig)[];
    const overrides = Object.fromEntries(fields.map((k) => [k, other[k]]));
    assert.ok(
      fields.every((k) => k in other),
      `${recipe}: the test overrides all of ${fields.join(', ')}`,
    );
    const c = resolveConfig({ values: { recipe, ...overrides }, source: flags });
    for (const k of fields) assert.deepEqual(c[k], other[k], `${recipe}.${k}`);
    const layer = recipeLayer(recipe);
    (layer.values.mean ?? []).push(99);
    assert.ok(!(RECIPE_FIELDS[recipe].mean ?? []).includes(99), 'a layer is a copy');
  }
});

test('a bad recipe, and bad values set on top of one, are reported with their source', () => {
  assert.throws(
    () => resolveConfig({ values: { recipe: 'turbo' } as never, source: flags }),
    /--recipe is "turbo"; expected one of 'seed', 'resnet', 'fast', 'airbench', 'airbench-se'/,
  );
  assert.throws(
    () => resolveConfig({ values: { recipe: 'fast', ema: 1 }, source: flags }),
    /--ema is 1; expected a decay in \(0, 1\)/,
  );
  assert.throws(
    () => resolveConfig({ values: { recipe: 'fast', tta: 'ten-crop' } as never, source: flags }),
    /--tta is "ten-crop"; expected one of 'none', 'flip', 'flip-translate'/,
  );
  assert.throws(
    () => resolveConfig({ values: { mixedPrecision: 'fp16' } as never, source: flags }),
    /--mixedPrecision is "fp16"; expected one of 'none', 'bf16'/,
  );
  // The recipe's own fields are checked like any layer's and named as the recipe's.
  assert.equal(recipeLayer('fast').source.describe('lr'), "the 'fast' recipe's lr");
});

test('config.json records the recipe and the resolved values; it reads back as the same config', () => {
  const c = resolveConfig({ values: { recipe: 'fast', epochs: 4 }, source: flags });
  const written = JSON.parse(JSON.stringify(c));
  assert.equal(written.recipe, 'fast');
  assert.equal(written.ema, c.ema);
  assert.deepEqual(checkCompleteConfig(written, 'run/config.json'), c);
});
