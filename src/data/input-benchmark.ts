// The input pipeline alone, timed: every batch of an epoch of a streaming loader is made and thrown away,
// the clock starting after the first batch (as ../shared/reference/pytorch_loader_bench.py counts), with
// the process's peak resident memory at the end. `senet bench --data` prints it.
import * as torch from '../torch/index.js';
import type { StreamingLoader } from './streaming-loader.js';

export interface InputBenchmark {
  engine: 'senet-streaming';
  images: number;
  images_per_s: number;
  batch: number;
  size: number;
  augment: string;
  strategy: string;
  prefetch: number;
  threads: number;
  skipped: number;
  peak_rss_mb: number;
}

/** Runs `epochs` epochs of `loader` and measures them. */
export async function benchmarkInput(loader: StreamingLoader, epochs = 1): Promise<InputBenchmark> {
  let images = 0;
  let started: number | null = null;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for await (const batch of loader.epoch(epoch)) {
      if (started === null) started = performance.now();
      else images += batch.y.size(0);
      torch.dispose(batch);
    }
  }
  const seconds = (performance.now() - (started ?? performance.now())) / 1000;
  return {
    engine: 'senet-streaming',
    images,
    images_per_s: Math.round((images / Math.max(seconds, 1e-9)) * 10) / 10,
    batch: loader.batchSize,
    size: loader.view.size,
    augment: loader.view.augment,
    strategy: loader.strategy,
    prefetch: loader.prefetch,
    threads: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    skipped: loader.unreadable.size,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
  };
}
