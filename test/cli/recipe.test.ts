// `senet train --recipe fast` for real in a child process, on the CIFAR-10 sample (one epoch): the recipe's
// fields land in config.json with the flags' overrides on top, the FastNet stem is whitened from the data
// and stays frozen, the saved weights are the EMA's, and `senet eval` evaluates them with the run's TTA.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { createModel, type FastNet } from '../../src/models/index.js';
import { loadData } from '../../src/train/data.js';
import { whitenFirstLayer } from '../../src/train/whitening.js';
import { tempDir } from '../data/support.js';
import { errorLine, makeTinyCifar, runCli } from './support.js';

let work: string;
let env: Record<string, string>;

before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-cli-recipe-');
  env = { SENET_DATA: makeTinyCifar(join(work, 'data')) };
});

test("--recipe fast with overrides: config.json, a whitened frozen stem, EMA weights, and eval with the run's TTA", async () => {
  const run = join(work, 'fast');
  const result = await runCli(
    [
      'train',
      '--recipe',
      'fast',
      '--model',
      'fastnet',
      '--epochs',
      '1',
      '--warmup-epochs',
      '0',
      '--batch-size',
      '100',
      '--threads',
      '2',
      '--whiten',
      '--out',
      run,
    ],
    { env },
  );
  assert.equal(result.code, 0, result.stderr);
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.equal(config.recipe, 'fast');
  assert.equal(config.model, 'fastnet'); // flag over recipe
  assert.equal(config.batchSize, 100);
  assert.equal(config.whiten, true);
  assert.equal(config.augment, 'translate-flip'); // from the recipe
  assert.equal(config.tta, 'flip');
  assert.ok(config.ema > 0);

  // The stem is exactly the whitening of an evenly spaced sample of the training images (frozen: neither trained nor moved by the average).
  const saved = torch.io.loadSafetensors(join(run, 'checkpoints', 'last', 'model.safetensors')).tensors;
  const fresh = createModel('fastnet') as FastNet;
  const data = await loadData('cifar10', { imageSize: null, cacheDir: env.SENET_DATA });
  await whitenFirstLayer(fresh, data.train, { augment: 'none', mean: config.mean, std: config.std });
  assert.ok(
    saved['stem.weight'].equal(fresh.stem.weight),
    'the stem weight is the whitening transform, untouched by training',
  );
  assert.ok(!saved['stem.bias'].equal(fresh.stem.bias!), 'the stem bias trains');
  // The recipe's BatchNorms learn a shift only: every scale is still exactly 1 after training.
  const scales = Object.keys(saved).filter((k) => /bn\d\.weight$/.test(k));
  assert.equal(scales.length, 6);
  assert.ok(
    scales.every((k) => saved[k].eq(1).all().item()),
    'BatchNorm scales frozen at 1',
  );
  assert.ok(
    Object.keys(saved)
      .filter((k) => /bn\d\.bias$/.test(k))
      .some((k) => !saved[k].eq(0).all().item()),
    'BatchNorm shifts trained',
  );
  torch.dispose(saved);
  fresh.dispose();

  const evalJson = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8'));
  const evaluated = await runCli(['eval', '--run', run, '--checkpoint', 'last', '--json', '--threads', '2'], { env });
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const report = JSON.parse(evaluated.stdout.trim().split('\n').at(-1)!);
  assert.equal(report.tta, 'flip');
  assert.equal(report.mixedPrecision, 'none');
  assert.equal(report.accuracy, evalJson.accuracy, "senet eval reproduces the run's final evaluation");
  assert.ok(Math.abs(report.loss - evalJson.loss) < 1e-6);
});

test('recipe errors name the flag and the recipe', async () => {
  const bad = await runCli(['train', '--recipe', 'turbo'], { env });
  assert.notEqual(bad.code, 0);
  assert.match(errorLine(bad.stderr), /--recipe expects one of seed, resnet, fast, airbench, airbench-se, got 'turbo'/);
  const short = await runCli(['train', '--recipe', 'fast', '--epochs', '1', '--out', join(work, 'short')], { env });
  assert.match(errorLine(short.stderr), /warmupEpochs \(\d+\) must be less than epochs \(1\)/);
  const whiten = await runCli(['train', '--whiten', '--out', join(work, 'w')], { env });
  assert.match(errorLine(whiten.stderr), /whiten applies to the FastNets \(fastnet, se-fastnet\).*not to 'simple-cnn'/);
});
