// int8 inference end to end on a se-resnet20 run trained here (1 epoch on the tiny CIFAR-10 sample):
// `senet quantize` writes the run's int8 model, `senet eval --int8`, `senet infer --int8` and
// `senet serve --int8` use it, its accuracy and predictions stay close to float32's, the file round-trips
// exactly, and misuse gets one clear error.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { loadTrainedModel } from '../../src/train/trained-model.js';
import { loadInt8Model, loadRunInt8Model, saveInt8Model } from '../../src/train/int8-model.js';
import type { Int8CifarResNet } from '../../src/models/int8-cifar-resnet.js';
import { evaluationLoader } from '../../src/train/data.js';
import { tempDir } from '../data/support.js';
import { errorLine, makeTinyCifar, runCli, SAMPLE_TEST } from './support.js';
import { createService, libtorchPredictor, servedModelOf } from '../../src/export/serve/index.js';
import { imageBody, send, SOURCE_JPEG, spawnServe } from '../export/serve-support.js';

let work: string;
let env: Record<string, string>;
let run: string;

before(async () => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-cli-int8-');
  env = { SENET_DATA: makeTinyCifar(join(work, 'data')) };
  run = join(work, 'run');
  const args = ['--model', 'se-resnet20', '--epochs', '1', '--batch-size', '32', '--threads', '1', '--out', run];
  const trained = await runCli(['train', ...args], { env });
  assert.equal(trained.code, 0, trained.stderr);
});

test('quantize writes the int8 model; eval --int8 stays within 2 points of float32 and agrees on 95% of images', async () => {
  const before = await runCli(['eval', '--run', run, '--int8', '--threads', '1'], { env });
  assert.equal(before.code, 1);
  assert.match(errorLine(before.stderr), /has no int8 model yet: make one with `senet quantize --run /);

  const made = await runCli(['quantize', '--run', run, '--calibration', '96', '--threads', '1', '--json'], { env });
  assert.equal(made.code, 0, made.stderr);
  const result = JSON.parse(made.stdout);
  assert.equal(result.calibrationImages, 96);
  assert.equal(result.engine, 'onednn');
  assert.ok(existsSync(join(run, 'model-int8.safetensors')));

  const [float, int8] = await Promise.all(
    [[], ['--int8']].map((extra) => runCli(['eval', '--run', run, '--threads', '1', '--json', ...extra], { env })),
  );
  assert.equal(float.code, 0, float.stderr);
  assert.equal(int8.code, 0, int8.stderr);
  const f = JSON.parse(float.stdout);
  const q = JSON.parse(int8.stdout);
  assert.equal(q.int8, true);
  assert.equal(q.count, SAMPLE_TEST);
  assert.ok(Math.abs(f.accuracy - q.accuracy) <= 0.02, `float32 ${f.accuracy}, int8 ${q.accuracy}`);

  // Prediction by prediction, on the same test images.
  const floatModel = loadTrainedModel({ run });
  const int8Model = loadRunInt8Model(run);
  process.env.SENET_DATA = env.SENET_DATA;
  const { mean, std } = floatModel.context;
  const loader = await evaluationLoader('cifar10', { split: 'test', batchSize: SAMPLE_TEST, mean, std });
  try {
    for await (const batch of loader.epoch(0)) {
      const x = batch.x;
      const a = torch.noGrad(() => floatModel.model.call(x));
      const b = torch.noGrad(() => int8Model.model.call(x));
      const agree = a.argmax(1).eq(b.argmax(1)).float().mean().item();
      assert.ok(agree >= 0.95, `int8 and float32 agree on ${agree} of the images`);
      const spread = a.std().item();
      const gap = a.sub(b).abs().mean().item();
      assert.ok(gap < 0.1 * spread, `int8 logits differ from float32 by ${gap} on average (spread ${spread})`);
      torch.dispose([batch, a, b]);
    }
  } finally {
    loader.dispose();
    floatModel.model.dispose();
    int8Model.model.dispose();
  }
});

test('the int8 file round-trips exactly; infer --int8 writes its logits; misuse is refused by name', async () => {
  const file = join(run, 'model-int8.safetensors');
  if (!existsSync(file)) {
    const made = await runCli(['quantize', '--run', run, '--calibration', '64', '--threads', '1'], { env });
    assert.equal(made.code, 0, made.stderr);
  }
  const first = loadInt8Model(file);
  const again = join(work, 'again.safetensors');
  saveInt8Model(again, first.model as unknown as Int8CifarResNet, first, first.info);
  assert.deepEqual(readFileSync(again), readFileSync(file), 'saving a loaded int8 model gives the same bytes');
  const second = loadInt8Model(again);
  const input = join(work, 'x.npy');
  const output = join(work, 'logits.npy');
  try {
    torch.tidy(() => {
      const x = torch.randn(5, 3, 32, 32);
      torch.io.saveNpy(x, input);
      const a = torch.noGrad(() => first.model.call(x));
      const b = torch.noGrad(() => second.model.call(x));
      assert.deepEqual(Array.from(a.data() as Float32Array), Array.from(b.data() as Float32Array));
    });
    const inferred = await runCli(['infer', '--run', run, '--int8', '-i', input, '-o', output, '--threads', '1'], {
      env,
    });
    assert.equal(inferred.code, 0, inferred.stderr);
    torch.tidy(() => {
      const logits = torch.io.loadNpy(output);
      const expected = torch.noGrad(() => first.model.call(torch.io.loadNpy(input)));
      assert.deepEqual(Array.from(logits.data() as Float32Array), Array.from(expected.data() as Float32Array));
    });
  } finally {
    first.model.dispose();
    second.model.dispose();
  }

  const checkpoint = await runCli(['eval', '--run', run, '--int8', '--checkpoint', 'last'], { env });
  assert.match(errorLine(checkpoint.stderr), /--checkpoint does not apply with --int8/);
  const bf16 = await runCli(['eval', '--run', run, '--int8', '--bf16', '--threads', '1'], { env });
  assert.match(errorLine(bf16.stderr), /--int8 and --bf16 are two precisions: choose one/);
  const notInt8 = await runCli(['eval', '--weights', join(run, 'checkpoints', 'last', 'model.safetensors'), '--int8'], {
    env,
  });
  assert.match(
    errorLine(notInt8.stderr),
    /is not an int8 model \(no senet\.int8 metadata\): write one with `senet quantize`/,
  );
  const simple = join(work, 'simple');
  const trained = await runCli(['train', '--epochs', '1', '--batch-size', '64', '--threads', '1', '--out', simple], {
    env,
  });
  assert.equal(trained.code, 0, trained.stderr);
  const refused = await runCli(['quantize', '--run', simple, '--threads', '1'], { env });
  assert.equal(refused.code, 1);
  assert.match(
    errorLine(refused.stderr),
    /int8 quantization covers the CIFAR ResNets and SE-ResNets .* simple-cnn is not one of them/,
  );
});

test('serve --int8 answers with the int8 model: the same top-k as a service of the loaded int8 model in process', async () => {
  const file = join(run, 'model-int8.safetensors');
  if (!existsSync(file)) {
    const made = await runCli(['quantize', '--run', run, '--calibration', '64', '--threads', '1'], { env });
    assert.equal(made.code, 0, made.stderr);
  }
  const image = imageBody(readFileSync(SOURCE_JPEG), 'image/jpeg');
  const int8 = loadRunInt8Model(run);
  const local = await createService({
    model: servedModelOf(int8),
    predictor: libtorchPredictor(int8, { foldBatchNorm: false, memoryFormat: 'contiguous' }),
  });
  let expected: { status: number; body: { top: { class: string; probability: number }[] } };
  try {
    expected = await send(`${await local.listen(0, '127.0.0.1')}/predict`, image);
  } finally {
    await local.close();
  }
  assert.equal(expected.status, 200, JSON.stringify(expected.body));

  const { child, url, exited, stderr } = await spawnServe(
    ['--run', run, '--int8', '--port', '0', '--threads', '1'],
    env,
  );
  try {
    const served = await send(`${url}/predict`, image);
    assert.equal(served.status, 200, JSON.stringify(served.body));
    assert.deepEqual(served.body.top, expected.body.top);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr());
});
