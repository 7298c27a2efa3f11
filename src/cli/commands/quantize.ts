// `senet quantize`: post-training static int8 quantization of a run's trained model. BatchNorm is folded,
// the activation ranges are calibrated on a seeded random sample of the training split, and the int8
// model is written to the run directory (model-int8.safetensors) for `senet eval/infer --int8` and
// `senet bench --int8`.
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import * as torch from '../../torch/index.js';
import { NAMED_DATASETS } from '../../train/config.js';
import { evaluationLoader } from '../../train/data.js';
import { loadTrainedModel } from '../../train/trained-model.js';
import { RunDir } from '../../train/run-dir.js';
import { calibrate, defaultEngine, prepareInt8, saveInt8Model } from '../../train/int8-model.js';
import { choiceOption, intOption, threadsOption } from '../options.js';
import { MAX_BATCH_SIZE } from '../../train/config-schema.js';

interface QuantizeOptions {
  run: string;
  calibration: number;
  data?: string;
  batchSize: number;
  engine?: string;
  threads?: number;
  json?: boolean;
}

/** The first batches of a loader holding `images` images in all (the last batch cut to size). */
async function* firstImages(loader: Awaited<ReturnType<typeof evaluationLoader>>, images: number) {
  let left = images;
  for await (const batch of loader.epoch(0)) {
    try {
      if (left <= 0) break;
      const take = Math.min(left, batch.x.size(0));
      left -= take;
      yield batch.x.narrow(0, 0, take);
    } finally {
      torch.dispose(batch);
    }
  }
}

export function registerQuantize(program: Command): void {
  program
    .command('quantize')
    .description(
      "int8 post-training quantization of a run's model (BatchNorm folded, calibrated on training images): " +
        'writes model-int8.safetensors into the run, used by eval/infer --int8 and bench --int8',
    )
    .requiredOption('-r, --run <dir>', 'a run directory of `senet train` (its best checkpoint, else its last)')
    .option(
      '--calibration <n>',
      'training images that calibrate the activation ranges (a seeded random sample)',
      intOption('--calibration', 1, 1_000_000),
      512,
    )
    .option('-d, --data <name|dir>', "the training data (default: the run's)")
    .option('-b, --batch-size <n>', 'calibration batch size', intOption('--batch-size', 1, MAX_BATCH_SIZE), 128)
    .option(
      '--engine <name>',
      `libtorch's quantized engine: ${torch.quantization.supportedEngines().join(', ')} (default onednn)`,
      choiceOption('--engine', torch.quantization.supportedEngines()),
    )
    .option('--threads <n>', 'libtorch threads (default: every core)', threadsOption())
    .option('--json', 'print the result as JSON')
    .action(async (o: QuantizeOptions) => {
      torch.setNumThreads(o.threads ?? availableParallelism());
      const trained = loadTrainedModel({ run: o.run });
      const model = prepareInt8(trained, o.engine ?? defaultEngine());
      try {
        const data = o.data ?? trained.config?.data;
        if (!data) throw new Error('name the training data with --data (cifar10, cifar100 or an image folder)');
        const [, height] = trained.model.inputShape;
        const isFolder = !(NAMED_DATASETS as readonly string[]).includes(data);
        const loader = await evaluationLoader(data, {
          split: 'train',
          shuffle: true,
          imageSize: trained.config?.imageSize ?? (isFolder ? height : null),
          // Streamed from a folder: only the sampled images are decoded.
          dataMode: isFolder ? 'stream' : 'memory',
          batchSize: o.batchSize,
          mean: trained.context.mean,
          std: trained.context.std,
        });
        const start = process.hrtime.bigint();
        let images = 0;
        try {
          const batches: torch.Tensor[] = [];
          for await (const x of firstImages(loader, o.calibration)) batches.push(torch.keep(x.clone()));
          images = calibrate(model, batches);
          torch.dispose(batches);
        } finally {
          loader.dispose();
        }
        model.convert();
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const file = RunDir.open(o.run).file('int8');
        const info = { engine: torch.quantization.engine(), calibrationImages: images, source: trained.weightsFile };
        saveInt8Model(file, model, trained, info);
        if (o.json) console.log(JSON.stringify({ file, model: trained.spec.name, ...info, seconds }));
        else
          console.log(
            `${trained.spec.name}: int8 model (${info.engine}, calibrated on ${images} training images) written to ${file}`,
          );
      } finally {
        model.dispose();
        trained.model.dispose();
      }
    });
}
