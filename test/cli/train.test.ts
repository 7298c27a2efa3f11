// `senet train` for real, in child processes, on 800 + 200 images of the official CIFAR-10 binary sample:
// a run that completes, one killed with SIGKILL and resumed, one stopped with Ctrl-C (SIGINT) and
// resumed — both must end with exactly the weights and metrics of the uninterrupted run — and one that
// diverges. One thread everywhere, so that results are deterministic.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPipeline } from '../../src/train/stages.js';
import { findCheckpoint, readCheckpoint } from '../../src/train/checkpoint.js';
import { tempDir } from '../data/support.js';
import {
  errorLine,
  makeTinyCifar,
  metricsWithoutTimings,
  runCli,
  SAMPLE_TEST,
  SAMPLE_TRAIN,
  senetInProcess,
  type CliResult,
} from './support.js';

// A recipe with state everywhere a resume could lose it: momentum buffers, a warmup + cosine schedule
// stepped every batch, random crops and flips, label smoothing, parameter groups.
const RECIPE = [
  '--epochs',
  '3',
  '--batch-size',
  '16',
  '--threads',
  '1',
  '--optimizer',
  'sgd',
  '--lr',
  '0.05',
  '--nesterov',
  '--weight-decay',
  '5e-4',
  '--no-decay-bn-bias',
  '--schedule',
  'cosine',
  '--warmup-epochs',
  '1',
  '--augment',
  'crop-flip',
  '--label-smoothing',
  '0.1',
];
const BATCHES = SAMPLE_TRAIN / 16;
const EPOCH_LINE =
  /^Epoch \[(\d)\/3\], Loss: (\d+\.\d{4}), Test accuracy: (\d+\.\d{2})% {2}\(\d+\.\d s, \d+ images\/s\)$/;
/** The plain progress line at 10% of epoch 2: the moment to interrupt a run mid-epoch. */
const EPOCH_2_UNDERWAY = `Epoch 2/3  ${BATCHES / 10}/${BATCHES}`;

let work: string;
let env: Record<string, string>;
let runA: string;
let resultA: CliResult;

before(async () => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-cli-train-');
  env = { SENET_DATA: makeTinyCifar(join(work, 'data')) };
  runA = join(work, 'A');
  resultA = await runCli(['train', ...RECIPE, '--out', runA], { env });
});

const bytes = (run: string, checkpoint: string, file = 'model.safetensors') =>
  readFileSync(join(run, 'checkpoints', checkpoint, file));

function assertSameAsA(run: string): void {
  assert.ok(
    bytes(runA, 'last').equals(bytes(run, 'last')),
    'the final weights are byte-identical to the uninterrupted run',
  );
  assert.ok(bytes(runA, 'best').equals(bytes(run, 'best')), 'the best weights are byte-identical too');
  assert.deepEqual(metricsWithoutTimings(run), metricsWithoutTimings(runA));
  assert.deepEqual(
    JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')),
    JSON.parse(readFileSync(join(runA, 'eval.json'), 'utf8')),
  );
}

test("a tiny run trains, prints the seed program's epoch lines, and leaves a complete run directory", () => {
  assert.equal(resultA.code, 0, resultA.stderr);
  const lines = resultA.stdout.split('\n').filter((l) => l.startsWith('Epoch ['));
  assert.equal(lines.length, 3, resultA.stdout);
  const parsed = lines.map((l) => {
    const m = EPOCH_LINE.exec(l);
    assert.ok(m, `epoch line format: ${l}`);
    return { epoch: Number(m[1]), loss: Number(m[2]), accuracy: Number(m[3]) };
  });
  assert.deepEqual(
    parsed.map((p) => p.epoch),
    [1, 2, 3],
  );
  assert.ok(parsed[2].loss < parsed[0].loss, `the loss falls: ${parsed.map((p) => p.loss).join(' → ')}`);
  assert.match(resultA.stdout, /Final test accuracy: \d+\.\d{2}% \(best \d+\.\d{2}%\); run directory: /);
  assert.match(
    resultA.stderr,
    new RegExp(`${SAMPLE_TRAIN} train / ${SAMPLE_TEST} test images, ${BATCHES} batches of 16 per epoch, 1 thread`),
  );

  assert.deepEqual(readdirSync(runA).sort(), [
    'augmentation-samples.png',
    'checkpoints',
    'config.json',
    'environment.json',
    'eval.json',
    'metrics.jsonl',
    'pipeline.json',
    'steps.jsonl',
  ]);
  for (const checkpoint of ['last', 'best']) {
    assert.deepEqual(readdirSync(join(runA, 'checkpoints', checkpoint)).sort(), [
      'checkpoint.json',
      'model.safetensors',
      'trainer.pt',
    ]);
  }
  const config = JSON.parse(readFileSync(join(runA, 'config.json'), 'utf8'));
  assert.equal(config.optimizer, 'sgd');
  assert.equal(config.out, runA);
  const metrics = readFileSync(join(runA, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    metrics.map((m) => Object.keys(m)),
    Array(3).fill(['epoch', 'train_loss', 'train_acc', 'test_loss', 'test_acc', 'lr', 'seconds', 'images_per_s']),
  );
  metrics.forEach((m, i) => {
    assert.equal(
      m.train_loss.toFixed(4),
      parsed[i].loss.toFixed(4),
      "the printed loss is the epoch's mean training loss",
    );
    assert.equal((100 * m.test_acc).toFixed(2), parsed[i].accuracy.toFixed(2));
  });
  assert.ok(metrics[2].lr < metrics[1].lr && metrics[1].lr < metrics[0].lr, 'the cosine schedule lowers the lr');
  const evaluation = JSON.parse(readFileSync(join(runA, 'eval.json'), 'utf8'));
  assert.equal(evaluation.accuracy, metrics[2].test_acc);
  assert.equal(evaluation.count, SAMPLE_TEST);
  assert.equal(
    evaluation.confusion.flat().reduce((a: number, b: number) => a + b, 0),
    SAMPLE_TEST,
  );
  assert.equal(evaluation.classes.length, 10);
  assert.equal(evaluation.bestAccuracy, Math.max(...metrics.map((m) => m.test_acc)));

  const pipeline = readPipeline(join(runA, 'pipeline.json'));
  assert.deepEqual(
    pipeline.stages.map((s) => s.status),
    ['done', 'done', 'done', 'done', 'skipped', 'done', 'done'],
  );
  const [data, , se, cnn, , training] = pipeline.stages.map((s) => s.summary as Record<string, unknown>);
  assert.equal(data.train, SAMPLE_TRAIN);
  assert.equal(data.test, SAMPLE_TEST);
  assert.equal(se.units, 1);
  assert.ok((se.params as number) > 0 && (se.params as number) < (cnn.params as number));
  assert.ok((cnn.macs as number) > 0);
  assert.equal(training.epochs, 3);
  assert.equal(training.finalAccuracy, metrics[2].test_acc);
});

test('SIGKILL mid-epoch, then --resume: the same final weights and metrics as the uninterrupted run', async () => {
  const runB = join(work, 'B');
  let killed = false;
  const killedRun = await runCli(['train', ...RECIPE, '--out', runB], {
    env,
    onStderr: (stderr, child) => {
      if (!killed && stderr.includes(EPOCH_2_UNDERWAY)) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  });
  assert.equal(killedRun.signal, 'SIGKILL', 'the run was killed before it finished');
  assert.ok(!existsSync(join(runB, 'eval.json')));
  // The kill lands early in epoch 2 (on a very slow machine possibly later): the last checkpoint is an
  // end-of-epoch one, and the epochs after it are trained again.
  // (Found as the resume will find it, even if the kill interrupted a checkpoint write.)
  const manifest = readCheckpoint(findCheckpoint(join(runB, 'checkpoints', 'last'))!);
  assert.ok(
    manifest.epoch >= 1 && manifest.epoch < 3 && manifest.batch === 0,
    `checkpoint at epoch ${manifest.epoch}, batch ${manifest.batch}`,
  );

  const resumed = await runCli(['train', '--resume', runB], { env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming at epoch ${manifest.epoch + 1} batch 0`));
  const redone = resumed.stdout
    .split('\n')
    .filter((l) => l.startsWith('Epoch ['))
    .map((l) => l.slice(0, 11));
  assert.deepEqual(
    redone,
    [2, 3].slice(manifest.epoch - 1).map((e) => `Epoch [${e}/3]`),
  );
  assertSameAsA(runB);
});

test('Ctrl-C mid-epoch: exit code 130 with a resumable mid-epoch checkpoint; resuming matches the uninterrupted run', async () => {
  const runC = join(work, 'C');
  let interrupted = false;
  const stopped = await runCli(['train', ...RECIPE, '--out', runC], {
    env,
    onStderr: (stderr, child) => {
      if (!interrupted && stderr.includes(EPOCH_2_UNDERWAY)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stdout, /Interrupted after batch \d+ of epoch \d; checkpoint saved in .*checkpoints\/last\./);
  assert.match(
    stopped.stdout,
    new RegExp(`Resume with: senet train --resume ${runC.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  const manifest = JSON.parse(readFileSync(join(runC, 'checkpoints', 'last', 'checkpoint.json'), 'utf8'));
  assert.ok(
    manifest.epoch >= 1 && manifest.batch > 0 && manifest.batch < BATCHES,
    `a mid-epoch checkpoint (epoch ${manifest.epoch}, batch ${manifest.batch})`,
  );
  const training = readPipeline(join(runC, 'pipeline.json')).stages[5];
  assert.equal(training.status, 'failed');
  assert.match(
    String(training.summary?.error),
    new RegExp(
      `interrupted at epoch ${manifest.epoch + 1}, batch ${manifest.batch} of 50; resume with senet train --resume`,
    ),
  );
  assert.equal(metricsWithoutTimings(runC).length, manifest.epoch, 'the completed epochs are recorded, nothing more');

  const resumed = await runCli(['train', '--resume', runC], { env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming at epoch ${manifest.epoch + 1} batch ${manifest.batch}`));
  assertSameAsA(runC);
  assert.deepEqual(
    readPipeline(join(runC, 'pipeline.json')).stages.map((s) => s.status),
    ['done', 'done', 'done', 'done', 'skipped', 'done', 'done'],
  );
});

test('a diverging run stops with one clear error naming the epoch and batch, and records the failure', async () => {
  const run = join(work, 'diverged');
  const result = await runCli(
    [
      'train',
      '--epochs',
      '1',
      '--batch-size',
      '16',
      '--threads',
      '1',
      '--optimizer',
      'sgd',
      '--lr',
      '1e12',
      '--out',
      run,
    ],
    { env },
  );
  assert.equal(result.code, 1);
  assert.match(
    errorLine(result.stderr),
    /^senet: training diverged: the loss is (NaN|Infinity) at epoch 1\/1, batch \d+\/50; no checkpoint had been written yet\. Try a lower learning rate \(--lr, now 1000000000000\)/,
  );
  const stages = readPipeline(join(run, 'pipeline.json')).stages;
  assert.equal(stages[5].status, 'failed');
  assert.match(String(stages[5].summary?.error), /training diverged/);
  assert.equal(stages[0].status, 'done', 'earlier stages keep their records');
  assert.equal(stages[6].status, 'pending');
});

test('--resume refuses flags that would change the run, and a run directory that does not exist', async () => {
  const changed = await senetInProcess('train', '--resume', runA, '--lr', '0.1', '--epochs', '5');
  const missing = await senetInProcess('train', '--resume', join(work, 'nope'));
  const again = await senetInProcess('train', '--out', runA);
  assert.equal(changed.code, 1);
  assert.match(
    errorLine(changed.stderr),
    /--resume continues .* with the config it was started with; --lr, --epochs cannot be changed mid-run/,
  );
  assert.equal(missing.code, 1);
  assert.match(errorLine(missing.stderr), /^senet: the run directory .*nope does not exist$/);
  assert.match(errorLine(again.stderr), /already holds a run \(it has a config\.json\); continue it with --resume/);
});

test("the command line resolves defaults < --config file < flags into the run's config.json", async () => {
  const file = join(work, 'recipe.json');
  writeFileSync(
    file,
    JSON.stringify({ optimizer: 'sgd', lr: 0.1, epochs: 7, attention: { type: 'se', gate: 'hardsigmoid' } }),
  );
  const run = join(work, 'layers');
  // The data folder does not exist: the run stops at data preparation, after writing its config.
  const result = await senetInProcess(
    'train',
    '--config',
    file,
    '--lr',
    '0.5',
    '--se-reduction',
    '4',
    '--normalize',
    'cifar10',
    '--no-shuffle',
    '--data',
    join(work, 'no-data'),
    '--out',
    run,
  );
  assert.equal(result.code, 1);
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.equal(config.lr, 0.5); // flag over file
  assert.equal(config.optimizer, 'sgd'); // file over default
  assert.equal(config.epochs, 7);
  assert.equal(config.batchSize, 64); // default
  assert.equal(config.shuffle, false);
  assert.deepEqual(config.attention, { type: 'se', gate: 'hardsigmoid', reduction: 4 }); // --se-reduction merges onto the file's
  assert.deepEqual(config.mean, [0.4914, 0.4822, 0.4465]);
  assert.deepEqual(config.std, [0.247, 0.2435, 0.2616]);
});
