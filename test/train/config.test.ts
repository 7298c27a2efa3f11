import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  checkCompleteConfig,
  configHash,
  effectiveWeightDecay,
  fileSource,
  readConfigFile,
  resolveConfig,
  type ConfigSource,
} from '../../src/train/config.js';
import { tempDir } from '../data/support.js';

const flags: ConfigSource = { describe: (key) => `--${key}` };

test('the defaults are the seed recipe', () => {
  const c = resolveConfig();
  assert.equal(c.model, 'simple-cnn');
  assert.equal(c.data, 'cifar10');
  assert.equal(c.optimizer, 'adam');
  assert.equal(c.lr, 0.001);
  assert.equal(c.batchSize, 64);
  assert.equal(c.epochs, 10);
  assert.equal(c.shuffle, true);
  assert.equal(c.augment, 'none');
  assert.deepEqual(c.mean, [0.5, 0.5, 0.5]);
  assert.deepEqual(c.std, [0.5, 0.5, 0.5]);
  assert.equal(c.labelSmoothing, 0);
  assert.equal(c.schedule, 'none');
  assert.equal(effectiveWeightDecay(c), 0);
  // A plain JSON-able object: a JSON round trip changes nothing.
  assert.deepEqual(JSON.parse(JSON.stringify(c)), c);
});

test('precedence: defaults < config file < flags', (t) => {
  const dir = tempDir(t, 'senet-config-');
  const file = join(dir, 'recipe.json');
  writeFileSync(file, JSON.stringify({ lr: 0.1, optimizer: 'sgd', epochs: 30, attention: { type: 'eca' } }));
  const fromFile = readConfigFile(file);
  const c = resolveConfig(
    { values: fromFile, source: fileSource(file) },
    { values: { lr: 0.05, batchSize: 128 }, source: flags },
  );
  assert.equal(c.lr, 0.05); // flag beats file
  assert.equal(c.optimizer, 'sgd'); // file beats default
  assert.equal(c.epochs, 30);
  assert.equal(c.batchSize, 128); // flag beats default
  assert.equal(c.augment, 'none'); // default
  assert.deepEqual(c.attention, { type: 'eca' });
  // The layers are not modified, and the result does not share their arrays.
  assert.equal(fromFile.lr, 0.1);
  assert.notEqual(c.mean, DEFAULT_CONFIG.mean);
});

test('each bad field gives one error naming the field, its source, the value and what is expected', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ lr: -1 }, /Error: --lr is -1; expected a number > 0$/],
    [{ lr: 'fast' }, /--lr is "fast"; expected a number > 0/],
    [{ epochs: 2.5 }, /--epochs is 2\.5; expected an integer in \[1, 10000\]/],
    [{ epochs: 10_001 }, /--epochs is 10001; expected an integer in \[1, 10000\]/],
    [{ batchSize: 0 }, /--batchSize is 0; expected an integer in \[1, 65536\]/],
    [{ batchSize: 1e6 }, /--batchSize is 1000000; expected an integer in \[1, 65536\]/],
    [{ warmupEpochs: 1e9 }, /--warmupEpochs is 1000000000; expected an integer in \[0, 10000\]/],
    [{ freezeBackboneEpochs: 1e5 }, /--freezeBackboneEpochs is 100000; expected an integer in \[0, 10000\]/],
    [{ evalEvery: 2 ** 40 }, /--evalEvery is 1099511627776; expected an integer in \[1, 10000\]/],
    [{ stepSize: 1e5 }, /--stepSize is 100000; expected an integer in \[1, 10000\], or null/],
    [
      { batchSize: 8192, imageSize: 224 },
      /a batch of 8192 images of 3×224×224 needs 4\.6 GiB for its input alone \(at most 4 GiB\); lower batchSize or imageSize/,
    ],
    [{ optimizer: 'rmsprop' }, /--optimizer is "rmsprop"; expected one of 'adam', 'sgd', 'adamw'/],
    [{ schedule: 'exp' }, /--schedule is "exp"; expected one of 'none', 'step'/],
    [{ model: 'resnet9000' }, /--model is "resnet9000"; expected a model name \(one of simple-cnn, /],
    [{ augment: 'mixup' }, /--augment is "mixup"; expected one of 'none', 'crop-flip'/],
    [{ std: [0.5, 0, 0.5] }, /--std is \[0\.5,0,0\.5\]; expected a list of numbers > 0/],
    [{ labelSmoothing: 1 }, /--labelSmoothing is 1; expected a number in \[0, 1\)/],
    [{ momentum: 1.5 }, /--momentum is 1\.5; expected a number in \[0, 1\)/],
    [{ milestones: [5, 3] }, /--milestones is \[5,3\]; expected a list of increasing epochs/],
    [{ seed: -3 }, /--seed is -3; expected an integer >= 0/],
    [{ threads: 0 }, /--threads is 0; expected an integer >= 1, or null/],
    [{ attention: { type: 'cbam' } }, /--attention: type/],
    [{ attention: { reductoin: 8 } }, /unknown option 'reductoin'/],
    [{ nesterov: 'yes' }, /--nesterov is "yes"; expected true or false/],
  ];
  for (const [values, pattern] of cases) {
    assert.throws(() => resolveConfig({ values: values as never, source: flags }), pattern, JSON.stringify(values));
  }
});

test('unknown fields are refused with the list of known ones', () => {
  assert.throws(
    () => resolveConfig({ values: { learningRate: 0.1 } as never, source: flags }),
    /unknown field 'learningRate'; expected some of model, attention, /,
  );
});

test('fields that do not fit together are refused', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ warmupEpochs: 10, epochs: 10, schedule: 'cosine' }, /warmupEpochs \(10\) must be less than epochs \(10\)/],
    [{ nesterov: true }, /nesterov needs the sgd optimizer with momentum > 0/],
    [{ nesterov: true, optimizer: 'sgd', momentum: 0 }, /nesterov needs the sgd optimizer/],
    [{ mean: [0.5], std: [0.5, 0.5] }, /one value per channel/],
    [
      { schedule: 'multistep', milestones: [12] },
      /milestones \[12\] must lie after the warmup .* and before the last epoch \(10\)/,
    ],
    [{ sePlacement: 'pre' }, /sePlacement applies to the CIFAR ResNets/],
  ];
  for (const [values, pattern] of bad)
    assert.throws(() => resolveConfig({ values: values as never, source: flags }), pattern);
  assert.equal(
    resolveConfig({ values: { model: 'se-resnet20', sePlacement: 'pre' }, source: flags }).sePlacement,
    'pre',
  );
  assert.equal(resolveConfig({ values: { optimizer: 'sgd', nesterov: true }, source: flags }).nesterov, true);
});

test('config files: missing, not JSON, not an object, bad field', (t) => {
  const dir = tempDir(t, 'senet-config-');
  assert.throws(
    () => readConfigFile(join(dir, 'nope.json')),
    /cannot read the config file .*nope\.json: it does not exist/,
  );
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  assert.throws(() => readConfigFile(write('a.json', '{ lr: 1 }')), /a\.json is not valid JSON/);
  assert.throws(() => readConfigFile(write('b.json', '[1, 2]')), /must be a JSON object of training settings/);
  const c = write('c.json', '{ "epochs": 0 }');
  assert.throws(
    () => readConfigFile(c),
    new RegExp(
      `^Error: 'epochs' in ${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is 0; expected an integer in \\[1, 10000\\]$`,
    ),
  );
});

test('a complete config (config.json) must have every field', (t) => {
  const full = resolveConfig();
  assert.deepEqual(checkCompleteConfig(JSON.parse(JSON.stringify(full)), 'run/config.json'), full);
  const { lr: _lr, ...partial } = full;
  assert.throws(() => checkCompleteConfig(partial, 'run/config.json'), /run\/config\.json lacks the field lr/);
  assert.equal(CONFIG_KEYS.length, Object.keys(full).length);
  void t;
});

test('the config hash follows what determines the weights, not where they are written', () => {
  const base = resolveConfig();
  assert.equal(configHash(base), configHash(resolveConfig()));
  assert.equal(configHash(base), configHash({ ...base, out: 'elsewhere', threads: 7 }));
  assert.notEqual(configHash(base), configHash({ ...base, lr: 0.002 }));
  assert.notEqual(configHash(base), configHash({ ...base, seed: 1 }));
  assert.notEqual(configHash(base), configHash({ ...base, attention: { reduction: 8 } }));
  // Key order inside nested objects does not matter.
  assert.equal(
    configHash({ ...base, attention: { type: 'se', reduction: 8 } }),
    configHash({ ...base, attention: { reduction: 8, type: 'se' } }),
  );
});

test('AdamW decays by 0.01 unless told otherwise', () => {
  assert.equal(effectiveWeightDecay(resolveConfig({ values: { optimizer: 'adamw' }, source: flags })), 0.01);
  assert.equal(
    effectiveWeightDecay(resolveConfig({ values: { optimizer: 'adamw', weightDecay: 0 }, source: flags })),
    0,
  );
  assert.equal(
    effectiveWeightDecay(resolveConfig({ values: { optimizer: 'sgd', weightDecay: 5e-4 }, source: flags })),
    5e-4,
  );
});
