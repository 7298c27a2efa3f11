// Throughput of the data layer on the real CIFAR-10 JPEG training set (50,000 images):
//  1. loading the image folder (decoding on the first run, the pixel cache after that);
//  2. the DataLoader alone, one epoch of batch 128, without and with augmentation, against the same
//     batch pipeline written in PyTorch (Debian's python3-torch) and run in the same session;
//  3. how much of the loader's work hides behind a synchronous "training step" run between batches: one
//     that blocks the main thread with the CPU free (as a GPU step would), and one that computes (matmuls).
// Usage: npx tsc -p . && node dist/bench/loader-bench.js [--batches N]   (cache: $SENET_DATA or ~/.cache/senet)
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/torch/index.js';
import {
  DataLoader,
  DEFAULT_PREFETCH,
  loadImageFolder,
  NORMALIZATIONS,
  type TransformConfig,
  type ImageDataset,
} from '../src/data/index.js';

/** The package root: this file runs as dist/bench/loader-bench.js. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const BATCH = 128;
const argIndex = process.argv.indexOf('--batches');
const OVERLAP_BATCHES = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 60;
/** This machine's speed drifts (other work, page faults): each number is the best of a few runs. */
const EPOCHS = 3;
const ROUNDS = 3;

const CONFIGS: Record<string, TransformConfig> = {
  none: { augment: 'none', ...NORMALIZATIONS.cifar10 },
  'crop-flip': { augment: 'crop-flip', ...NORMALIZATIONS.cifar10 },
};

/** The same pipeline in PyTorch: gather, zero-pad + per-image crop/flip gather, /255, normalise. */
const PYTORCH_PIPELINE = String.raw`
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
n, b, EPOCHS = 50000, 128, int(sys.argv[2])
data = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8)
mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
std = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
g = torch.Generator().manual_seed(0)
def epoch(augment):
    order = torch.randperm(n, generator=g)
    for s in range(0, n, b):
        x = data.index_select(0, order[s:s + b])
        if augment:
            k = x.shape[0]
            rows = torch.randint(0, 9, (k,), generator=g).view(k, 1, 1, 1) + torch.arange(32).view(1, 1, 32, 1)
            flip = torch.rand(k, generator=g).lt(0.5).view(k, 1, 1, 1)
            cols = torch.where(flip, torch.arange(31, -1, -1), torch.arange(32)).view(k, 1, 1, 32) \
                + torch.randint(0, 9, (k,), generator=g).view(k, 1, 1, 1)
            x = torch.nn.functional.pad(x, (4, 4, 4, 4))[torch.arange(k).view(k, 1, 1, 1), torch.arange(3).view(1, 3, 1, 1), rows, cols]
        x = x.div(255).sub(mean).div(std)
out = {}
for name, augment in [('none', False), ('crop-flip', True)]:
    best = 0
    for _ in range(EPOCHS):
        t = time.perf_counter(); epoch(augment); best = max(best, n / (time.perf_counter() - t))
    out[name] = best
print(json.dumps(out))
`;

function pytorchReference(threads: number): Record<string, number> | null {
  try {
    return JSON.parse(
      execFileSync('/usr/bin/python3', ['-c', PYTORCH_PIPELINE, String(threads), String(EPOCHS)], { encoding: 'utf8' }),
    ) as Record<string, number>;
  } catch (error) {
    console.log(`(no PyTorch reference: ${(error as Error).message.split('\n')[0]})`);
    return null;
  }
}

async function loaderAlone(dataset: ImageDataset, config: TransformConfig): Promise<number> {
  const loader = new DataLoader(dataset, { batchSize: BATCH, shuffle: true, transform: config, seed: 1 });
  let best = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const start = performance.now();
    for await (const batch of loader.epoch(epoch)) torch.dispose(batch);
    best = Math.max(best, dataset.length / ((performance.now() - start) / 1000));
  }
  loader.dispose();
  return best;
}

/** A stand-in for a training step that keeps the main thread busy: computing, or blocked with the CPU free. */
function makeSteps(): { compute: () => void; sleep: () => void; free: () => void } {
  const a = torch.randn(384, 384);
  const blocker = new Int32Array(new SharedArrayBuffer(4));
  return {
    compute: () =>
      torch.tidy(() => {
        let x = a;
        for (let i = 0; i < 12; i++) x = x.matmul(a).tanh();
        x.sum().item();
      }),
    sleep: () => {
      Atomics.wait(blocker, 0, 0, 20);
    },
    free: () => a.dispose(),
  };
}

/**
 * Milliseconds per batch: the loader alone, and the time a synchronous caller waits in next() when a
 * step runs between batches (medians of ROUNDS). A wait near zero means the batch was prepared while
 * the step ran.
 */
async function overlap(dataset: ImageDataset, config: TransformConfig, prefetch: number, batches: number) {
  const steps = makeSteps();
  const loader = new DataLoader(dataset, { batchSize: BATCH, shuffle: true, transform: config, seed: 2, prefetch });
  const run = async (step: (() => void) | null, epoch: number) => {
    const batchesOfEpoch = loader.epoch(epoch);
    let waiting = 0;
    const start = performance.now();
    for (let i = 0; i < batches; i++) {
      const asked = performance.now();
      const { value: batch, done } = await batchesOfEpoch.next();
      waiting += performance.now() - asked;
      if (done) break;
      step?.();
      torch.dispose(batch);
    }
    await batchesOfEpoch.return();
    return { total: (performance.now() - start) / batches, waiting: waiting / batches };
  };
  const samples = { alone: [] as number[], sleeping: [] as number[], computing: [] as number[] };
  for (let round = 0, epoch = 0; round < ROUNDS; round++) {
    samples.alone.push((await run(null, epoch++)).total);
    samples.sleeping.push((await run(steps.sleep, epoch++)).waiting);
    samples.computing.push((await run(steps.compute, epoch++)).waiting);
  }
  loader.dispose();
  steps.free();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { alone: median(samples.alone), sleeping: median(samples.sleeping), computing: median(samples.computing) };
}

async function main(): Promise<void> {
  const threads = torch.getNumThreads();
  const train = await loadImageFolder(join(ROOT, '..', 'shared', 'datasets', 'cifar10-jpeg'), 'train', {
    onProgress: (done, total) => {
      if (done % 10_000 === 0) process.stdout.write(`  decoded ${done}/${total}\n`);
    },
  });
  console.log(
    `image folder: ${train.length} images ${train.load.fromCache ? 'from the cache' : 'decoded'} in ` +
      `${train.load.seconds.toFixed(1)} s (${Math.round(train.load.imagesPerSecond)} images/s); cache ${train.load.cacheFile}`,
  );

  const reference = pytorchReference(threads);
  console.log(`\nloader alone, batch ${BATCH}, libtorch threads ${threads} (best of ${EPOCHS} epochs):`);
  console.log('augment     senet img/s   pytorch img/s   ratio');
  for (const [name, config] of Object.entries(CONFIGS)) {
    const rate = await loaderAlone(train, config);
    const ref = reference?.[name];
    console.log(
      `${name.padEnd(10)}  ${rate.toFixed(0).padStart(11)}   ${ref ? ref.toFixed(0).padStart(13) : '            -'}   ${ref ? (rate / ref).toFixed(2) : '-'}`,
    );
  }

  console.log(
    `\noverlap with a synchronous step between batches, ${OVERLAP_BATCHES} batches, ms per batch (medians of ${ROUNDS}):`,
  );
  console.log('augment     prefetch   loader alone   wait, step sleeping   wait, step computing');
  for (const [name, config] of Object.entries(CONFIGS)) {
    for (const prefetch of [1, DEFAULT_PREFETCH]) {
      const r = await overlap(train, config, prefetch, OVERLAP_BATCHES);
      console.log(
        `${name.padEnd(10)}  ${String(prefetch).padStart(8)}   ${r.alone.toFixed(2).padStart(12)}   ` +
          `${r.sleeping.toFixed(2).padStart(19)}   ${r.computing.toFixed(2).padStart(20)}`,
      );
    }
  }
}

await main();
