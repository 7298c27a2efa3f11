// Training in channels-last memory order: the weights really are NHWC during training, the numbers match
// a contiguous run up to rounding, the saved files are the usual row-major ones, and a run interrupted and
// resumed ends bit for bit as the uninterrupted one.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { trainRun } from '../../src/train/trainer.js';
import { useMemoryFormat } from '../../src/models/memory-format.js';
import { loadTrainedModel } from '../../src/train/trained-model.js';
import { evaluateDataset } from '../../src/train/evaluate.js';
import { loadData } from '../../src/train/data.js';
import { tempDir } from '../data/support.js';
import { makeTinyCifar, metricsWithoutTimings } from '../cli/support.js';

let work: string;
let cacheDir: string;
before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-nhwc-');
  cacheDir = makeTinyCifar(join(work, 'data'));
});

const config = (values: Partial<TrainConfig>) =>
  resolveConfig({
    values: {
      threads: 1,
      batchSize: 50,
      epochs: 2,
      model: 'resnet20',
      optimizer: 'sgd',
      lr: 0.05,
      momentum: 0.9,
      ...values,
    },
    source: { describe: (k) => k },
  });

test('useMemoryFormat lays out the 4-d weights NHWC and leaves the values alone', () => {
  torch.manualSeed(0);
  const model = createModel('resnet20');
  const before = torch.tidy(() => model.stateDict()['conv1.weight'].clone());
  useMemoryFormat(model, 'channelsLast');
  const weight = model.stateDict()['conv1.weight'];
  assert.ok(weight.isContiguous('channelsLast') && !weight.isContiguous());
  assert.ok(weight.equal(before));
  assert.ok(model.stateDict()['fc.weight'].isContiguous(), '2-d weights stay as they are');
  before.dispose();
  model.dispose();
});

test('a channels-last run matches a contiguous one up to rounding, and resumes exactly', async () => {
  const nchw = join(work, 'nchw');
  const nhwc = join(work, 'nhwc');
  await trainRun({ config: config({}), runDir: nchw, cacheDir });
  await trainRun({ config: config({ memoryFormat: 'channelsLast' }), runDir: nhwc, cacheDir });
  const losses = (run: string) => metricsWithoutTimings(run).map((m) => m.train_loss as number);
  losses(nhwc).forEach((loss, i) =>
    assert.ok(
      Math.abs(loss - losses(nchw)[i]) < 1e-2 * losses(nchw)[i],
      `epoch ${i + 1}: ${loss} vs ${losses(nchw)[i]}`,
    ),
  );
  // The saved weights are ordinary row-major NCHW tensors: loaded into a contiguous model they evaluate as the run did.
  const trained = loadTrainedModel({ run: nhwc, checkpoint: 'last' });
  const data = await loadData('cifar10', { imageSize: null, cacheDir });
  const again = await evaluateDataset(trained.model, data.test, {
    batchSize: 50,
    transform: { augment: 'none', mean: trained.context.mean, std: trained.context.std },
  });
  assert.ok(trained.model.stateDict()['conv1.weight'].isContiguous());
  trained.model.dispose();
  const evalJson = JSON.parse(readFileSync(join(nhwc, 'eval.json'), 'utf8'));
  assert.equal(again.accuracy, evalJson.accuracy);
  assert.ok(Math.abs(again.loss - evalJson.loss) < 1e-4 * evalJson.loss);

  const split = join(work, 'split');
  const controller = new AbortController();
  const stopped = await trainRun({
    config: config({ memoryFormat: 'channelsLast' }),
    runDir: split,
    cacheDir,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'batch' && e.epoch === 2 && e.batch === 7) controller.abort();
    },
  });
  assert.equal(stopped.status, 'interrupted');
  await trainRun({ resume: split, cacheDir });
  const bytes = (run: string) => readFileSync(join(run, 'checkpoints', 'last', 'model.safetensors'));
  assert.ok(bytes(split).equals(bytes(nhwc)), 'resumed: byte-identical weights');
  assert.deepEqual(metricsWithoutTimings(split), metricsWithoutTimings(nhwc));
});
