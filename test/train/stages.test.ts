import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pipeline, STAGES, readPipeline, type PipelineFile } from '../../src/train/stages.js';
import { tempDir } from '../data/support.js';

const NAMES = [
  'data-preparation',
  'data-augmentation',
  'se-module-design',
  'cnn-model-design',
  'hyperparameter-tuning',
  'model-training',
  'evaluation',
];

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as PipelineFile;

test('a new pipeline lists the seven stages in order, all pending, in exactly the documented shape', (t) => {
  const path = join(tempDir(t, 'senet-pipe-'), 'pipeline.json');
  new Pipeline(path);
  const file = read(path);
  assert.deepEqual(Object.keys(file), ['stages']);
  assert.deepEqual(
    file.stages.map((s) => s.name),
    NAMES,
  );
  assert.deepEqual(
    STAGES.map((s) => s.name),
    NAMES,
  );
  for (const stage of file.stages) {
    assert.deepEqual(Object.keys(stage), ['name', 'title', 'status', 'startedAt', 'endedAt', 'summary']);
    assert.equal(stage.status, 'pending');
    assert.equal(stage.startedAt, null);
    assert.equal(stage.endedAt, null);
    assert.equal(stage.summary, null);
  }
});

test('stages are recorded as they start and end; a failure keeps earlier outputs and leaves later stages pending', async (t) => {
  const path = join(tempDir(t, 'senet-pipe-'), 'pipeline.json');
  const pipeline = new Pipeline(path);
  let seenWhileRunning: string | undefined;
  const value = await pipeline.run(
    'data-preparation',
    async () => {
      seenWhileRunning = read(path).stages[0].status; // written when the stage starts
      return 42;
    },
    (n) => ({ train: n }),
  );
  assert.equal(value, 42);
  assert.equal(seenWhileRunning, 'running');
  pipeline.skip('hyperparameter-tuning', 'not asked for');
  await assert.rejects(
    pipeline.run(
      'data-augmentation',
      () => {
        throw new Error("unknown augmentation 'mixup'");
      },
      () => ({}),
    ),
    /unknown augmentation/,
  );
  const stages = read(path).stages;
  assert.equal(stages[0].status, 'done');
  assert.deepEqual(stages[0].summary, { train: 42 });
  assert.ok(Date.parse(stages[0].startedAt!) <= Date.parse(stages[0].endedAt!));
  assert.equal(stages[1].status, 'failed');
  assert.deepEqual(stages[1].summary, { error: "unknown augmentation 'mixup'" });
  assert.ok(stages[1].endedAt);
  assert.equal(stages[4].status, 'skipped');
  assert.deepEqual(stages[4].summary, { reason: 'not asked for' });
  for (const later of [2, 3, 5, 6]) assert.equal(stages[later].status, 'pending');
  assert.deepEqual(readPipeline(path), { stages });
});

test('a resumed run keeps the records of the stages it does not run again', (t) => {
  const path = join(tempDir(t, 'senet-pipe-'), 'pipeline.json');
  const first = new Pipeline(path);
  first.done('data-preparation', { train: 1 });
  const resumed = new Pipeline(path);
  assert.equal(resumed.records[0].status, 'done');
  assert.equal(new Pipeline(path, { fresh: true }).records[0].status, 'pending');
});

test('a damaged pipeline.json is reported, not trusted', (t) => {
  const path = join(tempDir(t, 'senet-pipe-'), 'pipeline.json');
  writeFileSync(path, JSON.stringify({ stages: [{ name: 'training', status: 'done' }] }));
  assert.throws(
    () => readPipeline(path),
    /is not a senet pipeline record: expected \{ "stages": \[\.\.\.\] \} with the stages data-preparation, /,
  );
  assert.throws(
    () => new Pipeline(join(path, '..', 'nope.json')).done('training' as never, {}),
    /unknown pipeline stage 'training'/,
  );
});
