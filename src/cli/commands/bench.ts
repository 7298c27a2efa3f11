// `senet bench`: synthetic train/inference throughput of one model, as one JSON line with the keys of
// ../shared/reference/pytorch_bench.py (or a short table without --json); with --data instead, the input
// pipeline alone (streaming decode + transforms of the training split), with the keys of
// ../shared/reference/pytorch_loader_bench.py.
import type { Command } from 'commander';
import * as torch from '../../torch/index.js';
import { benchmarkModel } from '../../train/benchmark.js';
import { benchmarkInput } from '../../data/input-benchmark.js';
import { CROP_STRATEGIES, type CropStrategy } from '../../data/image-decode.js';
import { openStreamingSource } from '../../data/sources.js';
import { StreamingLoader, STREAMING_AUGMENTATIONS, STREAMING_PREFETCH } from '../../data/streaming-loader.js';
import { NORMALIZATIONS } from '../../data/transforms.js';
import { choiceOption, intOption, numberOption, threadsOption } from '../options.js';
import { MAX_BATCH_SIZE, MAX_EPOCHS, MAX_IMAGE_SIZE } from '../../train/config-schema.js';

interface BenchOptions {
  model?: string;
  data?: string;
  batch: number;
  size: number;
  threads: number;
  steps: number;
  json?: boolean;
  augment: 'none' | 'random-resized-crop';
  colorJitter: number;
  epochs: number;
  prefetch: number;
  strategy: CropStrategy;
  int8?: boolean;
  engine?: string;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'measure training and inference images/s of a model on random data (same workload as pytorch_bench.py), ' +
        'or with --data the input pipeline alone (as pytorch_loader_bench.py)',
    )
    .option('-m, --model <name>', 'model name (see `senet models`)')
    .option('--data <dir>', 'time the input pipeline on this data (as for senet train; the training split is read)')
    .option('-b, --batch <n>', 'batch size (default 128; 64 with --data)', intOption('--batch', 1, MAX_BATCH_SIZE))
    .option(
      '-s, --size <n>',
      'input height and width (the crop size with --data)',
      intOption('--size', 8, MAX_IMAGE_SIZE),
      32,
    )
    .option('-t, --threads <n>', 'libtorch threads', threadsOption(), 2)
    .option('--steps <n>', 'timed steps (after 2 warm-up steps)', intOption('--steps', 1, 100_000), 5)
    .option(
      '--augment <kind>',
      'with --data: the training view',
      choiceOption('--augment', STREAMING_AUGMENTATIONS),
      'random-resized-crop',
    )
    .option(
      '--color-jitter <s>',
      'with --data: ColorJitter strength (brightness, contrast, saturation)',
      numberOption('--color-jitter', 0),
      0,
    )
    .option('--epochs <n>', 'with --data: epochs timed', intOption('--epochs', 1, MAX_EPOCHS), 1)
    .option('--prefetch <n>', 'with --data: batches decoded ahead', intOption('--prefetch', 1, 64), STREAMING_PREFETCH)
    .option(
      '--strategy <s>',
      'with --data: crop decoding (decode-region: libjpeg-turbo decodes only the crop box of a JPEG; ' +
        'resize-first and extract-first: sharp)',
      choiceOption('--strategy', CROP_STRATEGIES),
      'decode-region',
    )
    .option('--int8', 'infer_img_s times the int8 model (calibrated on random batches; CIFAR (SE-)ResNets)')
    .option(
      '--engine <name>',
      `with --int8: the quantized engine, ${torch.quantization.supportedEngines().join(' or ')} (default onednn)`,
      choiceOption('--engine', torch.quantization.supportedEngines()),
    )
    .option('--json', 'print one JSON line')
    .action(async (o: BenchOptions & { batch?: number }) => {
      if (o.data !== undefined) {
        if (o.model !== undefined)
          throw new Error('senet bench: give --model (model speed) or --data (input pipeline), not both');
        const source = await openStreamingSource(o.data, 'train');
        const loader = new StreamingLoader(source, {
          batchSize: o.batch ?? 64,
          shuffle: true,
          prefetch: o.prefetch,
          strategy: o.strategy,
          seed: 0,
          view: { size: o.size, augment: o.augment, colorJitter: o.colorJitter, ...NORMALIZATIONS.imagenet },
        });
        const result = await benchmarkInput(loader, o.epochs);
        if (o.json) console.log(JSON.stringify(result));
        else
          console.log(
            `${source.name}: ${result.images} images, ${result.images_per_s} images/s, peak RSS ${result.peak_rss_mb} MB`,
          );
        return;
      }
      if (o.model === undefined)
        throw new Error('senet bench: give --model <name> (model speed) or --data <dir> (input pipeline)');
      const result = benchmarkModel(o.model, { ...o, batch: o.batch ?? 128 });
      if (o.json) {
        console.log(JSON.stringify(result));
      } else {
        console.log(
          `${result.model}  batch ${result.batch}  ${result.size}×${result.size}  ${result.threads} thread(s)`,
        );
        console.log(`  train      ${result.train_img_s.toFixed(1)} images/s`);
        console.log(
          `  inference  ${result.infer_img_s.toFixed(1)} images/s${o.int8 ? ` (int8, ${result.int8_engine})` : ''}`,
        );
        if (result.infer_float32_img_s !== undefined)
          console.log(`  float32    ${result.infer_float32_img_s.toFixed(1)} images/s`);
      }
    });
}
