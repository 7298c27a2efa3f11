import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../../src/train/config.js';
import { RunDir, defaultRunPath, type EpochMetrics } from '../../src/train/run-dir.js';
import { tempDir } from '../data/support.js';

const line = (epoch: number): EpochMetrics => ({
  epoch,
  train_loss: 2 / epoch,
  train_acc: 0.1 * epoch,
  test_loss: null,
  test_acc: null,
  lr: 0.001,
  seconds: 1.5,
  images_per_s: 1000,
});

test('a new run writes its config; a second run in the same folder is refused once the first has trained', (t) => {
  const dir = join(tempDir(t, 'senet-run-'), 'run');
  const config = resolveConfig();
  const run = RunDir.create(dir, config);
  assert.deepEqual(run.readConfig(), config);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), config);
  run.appendMetrics(line(1));
  assert.throws(() => RunDir.create(dir, config), /already holds a run .*continue it with --resume/);
  assert.deepEqual(RunDir.open(dir).readConfig(), config);

  // A checkpoint alone (Ctrl-C in the first epoch) also counts as trained.
  const interrupted = join(tempDir(t, 'senet-run-'), 'run');
  mkdirSync(RunDir.create(interrupted, config).checkpoint('last'), { recursive: true });
  assert.throws(() => RunDir.create(interrupted, config), /already holds a run/);
});

test('a run that stopped before training is replaced by the next one; files not its own are kept', (t) => {
  const dir = join(tempDir(t, 'senet-run-'), 'run');
  const first = RunDir.create(dir, resolveConfig({ values: { lr: 0.5 }, source: { describe: (k) => k } }));
  writeFileSync(first.file('pipeline'), '{"stages": []}');
  writeFileSync(first.file('samples'), 'png');
  const second = RunDir.create(dir, resolveConfig({ values: { lr: 0.25 }, source: { describe: (k) => k } }));
  assert.equal(second.readConfig().lr, 0.25);
  assert.deepEqual(readdirSync(dir).sort(), ['checkpoints', 'config.json']);

  writeFileSync(join(dir, 'notes.txt'), 'mine');
  assert.throws(() => RunDir.create(dir, resolveConfig()), /exists and is not empty/);
  assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
});

test('opening something that is not a run says what was expected', (t) => {
  const dir = tempDir(t, 'senet-run-');
  assert.throws(() => RunDir.open(join(dir, 'missing')), /the run directory .*missing does not exist/);
  assert.throws(() => RunDir.open(dir), /is not a senet run directory: it has no config\.json/);
  mkdirSync(join(dir, 'busy'));
  writeFileSync(join(dir, 'busy', 'notes.txt'), 'mine');
  assert.throws(() => RunDir.create(join(dir, 'busy'), resolveConfig()), /exists and is not empty/);
  writeFileSync(join(dir, 'config.json'), '{"lr": 0.1}');
  assert.throws(() => RunDir.open(dir).readConfig(), /config\.json lacks the fields model, attention/);
});

test('metrics: appended line by line; a line cut short by a kill is dropped', (t) => {
  const run = RunDir.create(join(tempDir(t, 'senet-run-'), 'run'), resolveConfig());
  run.appendMetrics(line(1));
  run.appendMetrics(line(2));
  assert.deepEqual(run.readMetrics(), [line(1), line(2)]);
  appendFileSync(run.file('metrics'), '{"epoch":3,"train_loss":0.6'); // killed mid-write
  assert.deepEqual(run.readMetrics(), [line(1), line(2)]);
  // Resuming after epoch 1 drops what is being redone, the cut line included, and appends cleanly.
  run.keepMetricsOfEpochs(1);
  assert.equal(readFileSync(run.file('metrics'), 'utf8'), `${JSON.stringify(line(1))}\n`);
  run.appendMetrics(line(2));
  assert.deepEqual(run.readMetrics(), [line(1), line(2)]);
});

test('metrics: a damaged line in the middle is an error, not silently skipped', (t) => {
  const run = RunDir.create(join(tempDir(t, 'senet-run-'), 'run'), resolveConfig());
  writeFileSync(run.file('metrics'), `${JSON.stringify(line(1))}\ngarbage\n${JSON.stringify(line(3))}\n`);
  assert.throws(() => run.readMetrics(), /metrics\.jsonl: line 2 is not JSON: garbage/);
});

test('the default run folder is runs/<model>-<timestamp>', () => {
  assert.equal(
    defaultRunPath('se-resnet20', new Date(2025, 0, 2, 3, 4, 5)),
    join('runs', 'se-resnet20-20250102-030405'),
  );
});
