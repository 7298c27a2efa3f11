// `senet serve`: a trained model behind an HTTP service (POST /predict, GET /health, GET /model) until
// SIGTERM or Ctrl-C, which stop it gracefully: no new connections, the requests in flight answered, exit 0.
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import * as torch from '../../torch/index.js';
import { createService, DEFAULT_LIMITS, libtorchPredictor, servedModelOf } from '../../export/serve/index.js';
import { choiceOption, intOption, numberOption, threadsOption } from '../options.js';
import { withInterrupt } from '../interrupt.js';
import { int8Option, loadModelSource, modelSourceOptions, type ModelSourceOptions } from './model-source.js';

interface ServeOptions extends ModelSourceOptions {
  port: number;
  host: string;
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  maxFiles: number;
  bodyLimit: number;
  maxPixels: number;
  topK: number;
  threads?: number;
  memoryFormat: 'auto' | 'contiguous' | 'channels-last';
}

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .summary('serve a trained model over HTTP (POST /predict → top-k classes as JSON)')
    .description(
      'serve a trained model over HTTP: POST /predict with an image body (image/jpeg, image/png, image/webp) or ' +
        'image files in a multipart/form-data body answers the top-k classes as JSON (?k=N for another k); ' +
        'GET /health gives batching counters, GET /model what is served. Concurrent requests are run in ' +
        'dynamic batches. SIGTERM or Ctrl-C stops it after answering the requests in flight.',
    );
  int8Option(modelSourceOptions(command))
    .option('-p, --port <n>', 'TCP port (0: any free port)', intOption('--port', 0, 65535), 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .option(
      '--max-batch <n>',
      'most images per forward pass',
      intOption('--max-batch', 1, 1024),
      DEFAULT_LIMITS.maxBatch,
    )
    .option(
      '--max-wait-ms <ms>',
      'how long an image waits for others to share its batch',
      numberOption('--max-wait-ms', 0),
      DEFAULT_LIMITS.maxWaitMs,
    )
    .option(
      '--max-queue <n>',
      'most images waiting; more are refused with 503',
      intOption('--max-queue', 1, 100_000),
      DEFAULT_LIMITS.maxQueue,
    )
    .option(
      '--max-files <n>',
      'most files in one multipart request',
      intOption('--max-files', 1, 1024),
      DEFAULT_LIMITS.maxFiles,
    )
    .option(
      '--body-limit <MB>',
      'largest image accepted (the body, or each file), in MB; larger ones get 413',
      numberOption('--body-limit', 0.001),
      DEFAULT_LIMITS.bodyLimit / 1e6,
    )
    .option(
      '--max-pixels <n>',
      'largest image accepted, in pixels (width × height); larger ones get 400 before decoding',
      intOption('--max-pixels', 1, 1_000_000_000),
      DEFAULT_LIMITS.maxPixels,
    )
    .option('-k, --top-k <n>', 'classes answered per image (a request may ask ?k=N)', intOption('--top-k', 1, 1000), 5)
    .option('--threads <n>', 'libtorch threads (default: every core)', threadsOption())
    .option(
      '--memory-format <format>',
      'auto (time both at start-up), contiguous (NCHW) or channels-last (NHWC)',
      choiceOption('--memory-format', ['auto', 'contiguous', 'channels-last'] as const),
      'auto',
    )
    .action(async (o: ServeOptions) => {
      torch.setNumThreads(o.threads ?? availableParallelism());
      const trained = loadModelSource(o);
      const model = servedModelOf(trained);
      // An int8 model has its BatchNorms folded already and its own (quantized) weight layout.
      const predictor = libtorchPredictor(
        trained,
        o.int8
          ? { foldBatchNorm: false, memoryFormat: 'contiguous' }
          : {
              memoryFormat: o.memoryFormat === 'channels-last' ? 'channelsLast' : o.memoryFormat,
              sampleBatch: Math.min(o.maxBatch, 8),
            },
      );
      const service = await createService({
        model,
        predictor,
        maxBatch: o.maxBatch,
        maxWaitMs: o.maxWaitMs,
        maxQueue: o.maxQueue,
        maxFiles: o.maxFiles,
        bodyLimit: Math.round(o.bodyLimit * 1e6),
        maxPixels: o.maxPixels,
        topK: o.topK,
      }).catch(async (error) => {
        await predictor.dispose();
        throw error;
      });
      let url: string;
      try {
        url = await service.listen(o.port, o.host);
      } catch (error) {
        await service.close();
        throw new Error(`cannot listen on ${o.host}:${o.port}: ${(error as Error).message}; choose another --port`);
      }
      const [c, h, w] = model.inputShape;
      process.stderr.write(
        `senet serve: ${model.spec.name} (${c}×${h}×${w}, ${model.context.classes.length} classes, ` +
          `${predictor.engine} ${predictor.details.memoryFormat}) listening on ${url}: ` +
          'POST /predict, GET /health, GET /model\n',
      );
      await withInterrupt(
        {
          stopping: 'senet serve: stopping: answering the requests in flight',
          quit: 'stopped before the requests in flight were answered',
        },
        (signal) =>
          new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })).then(() =>
            service.close(),
          ),
      );
      process.stderr.write('senet serve: stopped\n');
    });
}
