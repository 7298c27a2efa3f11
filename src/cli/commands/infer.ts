// `senet infer`: raw logits for a NumPy array of images, for scripts and other languages: NCHW float32 in
// (normalised as the model expects), [N, classes] float32 out, batch by batch without autograd.
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import * as torch from '../../torch/index.js';
import { intOption, threadsOption } from '../options.js';
import { prepareOutputFile } from '../writable.js';
import { int8Option, loadModelSource, modelSourceOptions, type ModelSourceOptions } from './model-source.js';
import { MAX_BATCH_SIZE } from '../../train/config-schema.js';

interface InferOptions extends ModelSourceOptions {
  input: string;
  output: string;
  batchSize: number;
  threads?: number;
}

/** The logits of `model` for images x [N, C, H, W], computed in batches. */
export function inferLogits(
  model: torch.nn.Module & { forward(x: torch.Tensor): torch.Tensor; inputShape: number[] },
  x: torch.Tensor,
  batchSize: number,
  source: string,
): torch.Tensor {
  const [channels, height, width] = model.inputShape;
  if (x.ndim !== 4) {
    throw new Error(
      `${source} holds an array of shape [${x.shape.join(', ')}]; expected images [N, ${channels}, ${height}, ${width}] (NCHW)`,
    );
  }
  if (!x.isFloatingPoint())
    throw new Error(`${source} holds ${x.dtype} values; expected float32 images (normalised as in training)`);
  if (x.size(1) !== channels) {
    throw new Error(
      `${source} holds images with ${x.size(1)} channels [${x.shape.join(', ')}]; the model expects ${channels} (NCHW)`,
    );
  }
  if (x.size(0) === 0) {
    throw new Error(
      `${source} holds no images (shape [${x.shape.join(', ')}], N = 0); ` +
        `give an array of at least one image [N, ${channels}, ${height}, ${width}]`,
    );
  }
  return torch.noGrad(() =>
    torch.tidy(() => {
      const input = x.to('float32');
      const parts: torch.Tensor[] = [];
      for (let start = 0; start < input.size(0); start += batchSize) {
        parts.push(model.call(input.narrow(0, start, Math.min(batchSize, input.size(0) - start))));
      }
      return torch.cat(parts, 0);
    }),
  );
}

export function registerInfer(program: Command): void {
  const command = program
    .command('infer')
    .summary('raw logits of a .npy array of images, as .npy')
    .description(
      'write the raw logits [N, classes] (float32 .npy) of a NumPy array of images [N, C, H, W] (float32 .npy, normalised)',
    );
  int8Option(modelSourceOptions(command))
    .requiredOption('-i, --input <file>', 'images as a .npy array [N, C, H, W]')
    .requiredOption('-o, --output <file>', 'where to write the logits (.npy)')
    .option('-b, --batch-size <n>', 'images per forward pass', intOption('--batch-size', 1, MAX_BATCH_SIZE), 256)
    .option('--threads <n>', 'libtorch threads (default: every core)', threadsOption())
    .action((o: InferOptions) => {
      torch.setNumThreads(o.threads ?? availableParallelism());
      prepareOutputFile(o.output, '--output');
      const trained = loadModelSource(o);
      try {
        const x = torch.io.loadNpy(o.input);
        try {
          const logits = inferLogits(trained.model, x, o.batchSize, o.input);
          try {
            torch.io.saveNpy(logits, o.output);
          } finally {
            logits.dispose();
          }
        } finally {
          x.dispose();
        }
      } finally {
        trained.model.dispose();
      }
    });
}
