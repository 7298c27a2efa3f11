// Shared pieces of the service tests: a small model written as senet writes one (SE-ResNet-20 with
// deterministic non-trivial weights, so that folding BatchNorm changes something), the same CIFAR-10
// test image as JPEG, PNG and WebP files, a service on a free loopback port, and `senet serve` as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as torch from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { loadTrainedModel, weightsMetadata, type ModelSpec } from '../../src/train/trained-model.js';
import {
  createService,
  libtorchPredictor,
  servedModelOf,
  type Predictor,
  type Service,
  type ServiceLimits,
} from '../../src/export/serve/index.js';
import { fill_ } from '../models/deterministic-fill.js';
import { CIFAR10_CLASSES, JPEG_FOLDER } from '../data/support.js';
import { SENET } from '../cli/support.js';
import { ROOT } from '../helpers.js';

export const SPEC: ModelSpec = {
  name: 'se-resnet20',
  options: { numClasses: 10, inChannels: 3, inputSize: [32, 32] },
};

/** Writes the model's weights file (with senet's metadata) into `dir`; returns its path. */
export function writeWeights(dir: string): string {
  const model = createModel('se-resnet20', SPEC.options);
  fill_(model);
  const file = join(dir, 'model.safetensors');
  torch.io.saveSafetensors(
    model.stateDict(),
    file,
    weightsMetadata(SPEC, { classes: CIFAR10_CLASSES, mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] }),
  );
  model.dispose();
  return file;
}

export const SOURCE_JPEG = join(JPEG_FOLDER, 'test', 'cat', '0000.jpg');

/** The CIFAR-10 test image as JPEG (the file itself), PNG and WebP (lossless) files in `dir`. */
export async function writeImages(dir: string): Promise<{ jpeg: string; png: string; webp: string }> {
  const jpeg = join(dir, 'cat.jpg');
  writeFileSync(jpeg, readFileSync(SOURCE_JPEG));
  const png = join(dir, 'ship.png');
  await sharp(join(JPEG_FOLDER, 'test', 'ship', '0001.jpg'))
    .png()
    .toFile(png);
  const webp = join(dir, 'frog.webp');
  await sharp(join(JPEG_FOLDER, 'test', 'frog', '0004.jpg'))
    .webp({ lossless: true })
    .toFile(webp);
  return { jpeg, png, webp };
}

/**
 * A service for the weights file on a free loopback port; `wrap` may put something around the libtorch
 * predictor (a gate, to hold batches back).
 */
export async function startService(
  weights: string,
  limits: Partial<ServiceLimits> = {},
  wrap: (p: Predictor) => Predictor = (p) => p,
): Promise<{ service: Service; url: string }> {
  const trained = loadTrainedModel({ weights });
  const service = await createService({
    model: servedModelOf(trained),
    predictor: wrap(libtorchPredictor(trained, { memoryFormat: 'contiguous' })),
    ...limits,
  });
  return { service, url: await service.listen(0, '127.0.0.1') };
}

/** A request's status and parsed JSON body. */
// biome-ignore lint/suspicious/noExplicitAny: the tests read the JSON answers field by field and assert each
export async function send(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) };
}

export function imageBody(bytes: Buffer, type: string): RequestInit {
  return { method: 'POST', headers: { 'content-type': type }, body: bytes };
}

/** `senet serve ARGS` as a child process, once it says where it listens; `stderr()` is all it wrote so far. */
export async function spawnServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, [SENET, 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (found) resolve(found[1]);
    });
    child.on('close', () => reject(new Error(`senet serve exited before listening: ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}
