// Shared by the report tests: a real (tiny) training run to report on, and the pictures SVG figures carry. Its data is a small CIFAR-10 cache
// cut from the 1,000-image official-format sample: five training batch files and a test batch, so that
// the trainer reads it as it reads the real dataset (no download).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { join } from 'node:path';
import { resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { trainRun } from '../../src/train/trainer.js';
import { BIN_SAMPLE } from '../data/support.js';

const SAMPLE = join(BIN_SAMPLE, 'cifar-10-batches-bin');
const RECORD = 1 + 3 * 32 * 32;

/** A CIFAR-10 data cache in `dir` with 5 × `perBatch` training images and `test` test images. */
export function tinyCifarCache(dir: string, perBatch = 80, test = 200): string {
  const sample = readFileSync(join(SAMPLE, 'test_batch.bin'));
  const folder = join(dir, 'cifar-10-batches-bin');
  mkdirSync(folder, { recursive: true });
  copyFileSync(join(SAMPLE, 'batches.meta.txt'), join(folder, 'batches.meta.txt'));
  const records = (from: number, count: number) => sample.subarray(from * RECORD, (from + count) * RECORD);
  for (let i = 0; i < 5; i++) writeFileSync(join(folder, `data_batch_${i + 1}.bin`), records(i * perBatch, perBatch));
  writeFileSync(join(folder, 'test_batch.bin'), records(5 * perBatch, test));
  return dir;
}

/** Trains `model` for a few epochs on the tiny cache into `runDir` with the real trainer. */
export async function tinyRun(
  runDir: string,
  cacheDir: string,
  values: Partial<TrainConfig> = {},
): Promise<TrainConfig> {
  const config = resolveConfig({
    values: { model: 'se-resnet20', data: 'cifar10', epochs: 2, batchSize: 50, seed: 1, threads: 2, ...values },
    source: { describe: (key) => `the test's ${key}` },
  });
  await trainRun({ config, runDir, cacheDir });
  return config;
}

/** The PNGs an SVG figure carries, decoded: width, height, channels and interleaved pixels. */
export async function embeddedImages(svg: string) {
  const uris = [...svg.matchAll(/href="data:image\/png;base64,([A-Za-z0-9+/=]+)"/g)].map((m) => m[1]);
  return Promise.all(
    uris.map(async (b64) => {
      const { data, info } = await sharp(Buffer.from(b64, 'base64')).raw().toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, channels: info.channels, data };
    }),
  );
}
