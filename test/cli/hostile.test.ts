// Hostile input to the command line: stop signals at any phase (SIGTERM is handled as Ctrl-C is, with exit
// code 143), the --max-loss divergence guard, and inputs that used to fail with a message from deep inside
// (an allocator, a temporary file name, JSON's Infinity read back as null). Each gives exit code 1 and one
// line "senet: ..." that says what was wrong, where, and what to do.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { buildModel, weightsMetadata, type ModelContext, type ModelSpec } from '../../src/train/trained-model.js';
import { readCheckpoint, findCheckpoint } from '../../src/train/checkpoint.js';
import { readPipeline } from '../../src/train/stages.js';
import { TrainPhase } from '../../src/cli/phase.js';
import { tempDir } from '../data/support.js';
import { errorLine, makeTinyCifar, runCli, SAMPLE_TRAIN, senetInProcess as senet } from './support.js';

const SPEC: ModelSpec = { name: 'simple-cnn', options: { numClasses: 10, inChannels: 3, inputSize: [32, 32] } };
const CONTEXT: ModelContext = {
  classes: Array.from({ length: 10 }, (_, i) => `c${i}`),
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};

let work: string;
let env: Record<string, string>;
/** A senet weights file of SPEC, and a .npy of one image for it. */
let weights: string;
let image: string;

/** Writes a float32 .npy of zeros of this shape. */
function npyOf(path: string, shape: number[]): string {
  const x = torch.zeros(shape);
  torch.io.saveNpy(x, path);
  x.dispose();
  return path;
}

/** Saves SPEC's fresh weights to `path`, with the metadata given (senet's own by default). */
function saveWeights(path: string, metadata = weightsMetadata(SPEC, CONTEXT)): string {
  const model = buildModel(SPEC);
  const state = model.stateDict();
  torch.io.save(state, path, { metadata });
  torch.dispose(state);
  model.dispose();
  return path;
}

before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-cli-hostile-');
  env = { SENET_DATA: makeTinyCifar(join(work, 'data')) };
  // For the runs in this process too.
  const saved = process.env.SENET_DATA;
  process.env.SENET_DATA = env.SENET_DATA;
  process.on('exit', () => {
    if (saved === undefined) delete process.env.SENET_DATA;
    else process.env.SENET_DATA = saved;
  });
  weights = saveWeights(join(work, 'model.safetensors'));
  image = npyOf(join(work, 'one.npy'), [1, 3, 32, 32]);
});

/** Runs senet in this process and returns the one error line, asserting exit code 1. */
async function failure(...args: string[]): Promise<string> {
  const { code, stderr } = await senet(...args);
  assert.equal(code, 1, `${args.join(' ')}: ${stderr}`);
  assert.equal(stderr.trim().split('\n').length, 1, `one line only: ${stderr}`);
  return errorLine(stderr);
}

test('weights files: damaged metadata is named with its file; a safetensors file named .bin loads', async () => {
  const options = JSON.parse(weightsMetadata(SPEC, CONTEXT)['senet.model_options']) as Record<string, unknown>;
  const damaged = saveWeights(join(work, 'damaged.safetensors'), {
    ...weightsMetadata(SPEC, CONTEXT),
    'senet.model_options': JSON.stringify({ ...options, numClasses: 1e9 }),
  });
  assert.match(
    await failure('infer', '--weights', damaged, '--input', image, '--output', join(work, 'a.npy')),
    /^senet: .*damaged\.safetensors: its metadata names 10 classes but its model has 1000000000 outputs; the file is corrupt or its metadata was edited/,
  );

  const renamed = join(work, 'model.bin');
  writeFileSync(renamed, readFileSync(weights));
  const { code, stderr } = await senet(
    'infer',
    '--weights',
    renamed,
    '--input',
    image,
    '--output',
    join(work, 'b.npy'),
  );
  assert.equal(code, 0, stderr);
  const logits = torch.io.loadNpy(join(work, 'b.npy'));
  assert.deepEqual(logits.shape, [1, 10]);
  logits.dispose();
});

test('infer: an empty array, and an --output that is a folder or lies under a file', async () => {
  const empty = npyOf(join(work, 'empty.npy'), [0, 3, 32, 32]);
  assert.match(
    await failure('infer', '--weights', weights, '--input', empty, '--output', join(work, 'c.npy')),
    /^senet: .*empty\.npy holds no images \(shape \[0, 3, 32, 32\], N = 0\); give an array of at least one image \[N, 3, 32, 32\]$/,
  );
  assert.match(
    await failure('infer', '--weights', weights, '--input', image, '--output', work),
    /^senet: --output .* is a folder; give the path of a file to write, e.g. --output .*\/logits\.npy$/,
  );
  const file = join(work, 'a-file');
  writeFileSync(file, '');
  assert.match(
    await failure('infer', '--weights', weights, '--input', image, '--output', join(file, 'x.npy')),
    /^senet: cannot write --output .*a-file\/x\.npy: .*a-file is a file, not a folder; give --output a path in a folder you can write$/,
  );
  // A missing folder is created, as `senet convert` does.
  const { code, stderr } = await senet(
    'infer',
    '--weights',
    weights,
    '--input',
    image,
    '--output',
    join(work, 'new', 'deep', 'd.npy'),
  );
  assert.equal(code, 0, stderr);
  assert.deepEqual(torch.io.loadNpy(join(work, 'new', 'deep', 'd.npy')).shape, [1, 10]);
});

test('image sizes are bounded before anything is allocated', async () => {
  assert.match(
    await failure(
      'infer',
      '--weights',
      weights,
      '--model',
      'simple-cnn',
      '--image-size',
      '100000',
      '--input',
      image,
      '--output',
      join(work, 'e.npy'),
    ),
    /--image-size expects an integer in \[1, 4096\], got '100000'$/,
  );
  assert.match(
    await failure('train', '--image-size', '100000', '--out', join(work, 'big-image')),
    /^senet: --image-size is 100000; expected an integer in \[1, 4096\], or null$/,
  );
});

test('train, report and run: an output folder that is a file or under one, and a data cache that cannot be made, fail before any work', async () => {
  const file = join(work, 'not-a-folder');
  writeFileSync(file, '');
  assert.match(
    await failure('train', '--out', file),
    /^senet: cannot create the run directory .*not-a-folder \(--out\): .*not-a-folder is a file, not a folder; give --out a new folder you can write$/,
  );
  assert.match(
    await failure('train', '--out', join(file, 'run')),
    /^senet: cannot create the run directory .*not-a-folder\/run \(--out\): .*not-a-folder is a file, so no folder can be made under it/,
  );
  assert.match(
    await failure('report', work, '--out', file),
    /^senet: cannot write into --out .*not-a-folder: .*not-a-folder is a file, not a folder; give --out a folder you can write$/,
  );
  assert.match(
    await failure('report', work, '--tensorboard', join(file, 'tb')),
    /^senet: cannot write into --tensorboard .*not-a-folder\/tb: .*not-a-folder is a file, so no folder can be made under it/,
  );
  const spec = join(work, 'run-spec.json');
  writeFileSync(spec, JSON.stringify({ out: file, train: { epochs: 1 } }));
  assert.match(
    await failure('run', '--config', spec),
    /^senet: cannot write into "out" of .*run-spec\.json: .*not-a-folder is a file, not a folder/,
  );
  const saved = process.env.SENET_DATA;
  process.env.SENET_DATA = join(file, 'cache');
  try {
    assert.match(
      await failure('train', '--out', join(work, 'no-cache')),
      /^senet: cannot create the data cache folder .*not-a-folder\/cache: .*; set SENET_DATA to a writable folder/,
    );
  } finally {
    process.env.SENET_DATA = saved;
  }
});

test('config and study files: 1e400 is named as too large, a garbage study.db by its path; --workers-note needs no study', async () => {
  const config = join(work, 'huge.json');
  writeFileSync(config, '{"epochs": 1e400}');
  assert.match(
    await failure('train', '--config', config),
    /^senet: the config file .*huge\.json: 'epochs' is a number too large to represent \(JSON reads it as Infinity\); give a finite number$/,
  );

  const study = join(work, 'study');
  mkdirSync(study);
  writeFileSync(join(study, 'study.db'), 'not a database, just text\n'.repeat(100));
  assert.match(
    await failure('tune', '--study', study, '--show'),
    /^senet: .*study\/study\.db is not a study database \(SQLite says: file is not a database\); move it away to start a new study there/,
  );

  const note = await senet('tune', '--workers-note');
  assert.equal(note.code, 0, note.stderr);
  assert.match(note.stdout, /Several workers can share one study: start `senet tune --study DIR`/);
  assert.match(await failure('tune', '--space', config), /^senet: tune needs --study DIR, the study's folder/);
});

test('a stop signal is answered with what happens in the phase the run is in', () => {
  const phase = new TrainPhase();
  assert.match(phase.stopping(), /^Stopping before training starts/);
  phase.handle({ type: 'stage', stage: 'data-preparation', status: 'running' });
  assert.equal(
    phase.stopping(),
    'Stopping after data preparation (training has not started: nothing to checkpoint yet)',
  );
  phase.handle({ type: 'stage', stage: 'model-training', status: 'running' });
  phase.handle({ type: 'epoch-start', epoch: 1, epochs: 2, batches: 5, startBatch: 0 });
  phase.handle({ type: 'batch', epoch: 1, epochs: 2, batch: 5, batches: 5, loss: 1, imagesPerSecond: 1 });
  assert.equal(phase.stopping(), 'Stopping after the current step to save a checkpoint');
  phase.handle({ type: 'eval-progress', epoch: 1, done: 1, total: 2 });
  assert.equal(phase.stopping(), "Stopping after this epoch's evaluation to save a checkpoint");
  phase.handle({ type: 'epoch-start', epoch: 2, epochs: 2, batches: 5, startBatch: 0 });
  phase.handle({ type: 'batch', epoch: 2, epochs: 2, batch: 5, batches: 5, loss: 1, imagesPerSecond: 1 });
  assert.match(phase.stopping(), /^Training is complete; letting the final evaluation finish/);
  phase.reporting();
  assert.match(phase.stopping(), /^The run is complete; letting the report finish/);
});

test('SIGTERM mid-epoch: a resumable mid-epoch checkpoint and exit code 143', async () => {
  const run = join(work, 'terminated');
  const batches = SAMPLE_TRAIN / 16;
  let sent = false;
  const result = await runCli(['train', '--epochs', '2', '--batch-size', '16', '--threads', '1', '--out', run], {
    env,
    onStderr: (stderr, child) => {
      if (!sent && stderr.includes(`Epoch 1/2  ${batches / 10}/${batches}`)) {
        sent = true;
        child.kill('SIGTERM');
      }
    },
  });
  assert.equal(result.code, 143, result.stderr);
  assert.match(
    result.stderr,
    /Stopping after the current step to save a checkpoint \(SIGTERM received; send it again to quit at once\)\.\.\./,
  );
  assert.match(result.stdout, /Interrupted after batch \d+ of epoch 1; checkpoint saved in .*checkpoints\/last\./);
  const manifest = readCheckpoint(findCheckpoint(join(run, 'checkpoints', 'last'))!);
  assert.ok(
    manifest.epoch === 0 && manifest.batch > 0 && manifest.batch < batches,
    `mid-epoch: ${manifest.epoch}, ${manifest.batch}`,
  );
  assert.equal(readPipeline(join(run, 'pipeline.json')).stages[5].status, 'failed');
});

test('--max-loss stops a diverging run with the epoch, batch and loss, keeping the last good checkpoint', async () => {
  const run = join(work, 'max-loss');
  // A warmup towards a learning rate too large: the loss climbs past 3 early in epoch 2 (one thread: deterministic).
  const line = await failure(
    'train',
    '--epochs',
    '6',
    '--batch-size',
    '16',
    '--threads',
    '1',
    '--optimizer',
    'sgd',
    '--lr',
    '0.6',
    '--warmup-epochs',
    '6',
    '--max-loss',
    '3',
    '--out',
    run,
  );
  const match =
    /^senet: training diverged: the loss is (\d+\.\d+) \(above the limit maxLoss, --max-loss 3\) at epoch 2\/6, batch \d+\/50; the last good checkpoint is kept in .*checkpoints\/last\. Try a lower learning rate/.exec(
      line,
    );
  assert.ok(match, line);
  assert.ok(Number(match[1]) > 3);
  const manifest = readCheckpoint(findCheckpoint(join(run, 'checkpoints', 'last'))!);
  assert.deepEqual([manifest.epoch, manifest.batch], [1, 0], 'the end-of-epoch-1 checkpoint is kept');
  assert.equal(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).maxLoss, 3);
});
