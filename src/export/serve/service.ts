// The HTTP inference service on Fastify: POST /predict (an image as the body, or image files of a
// multipart form) answers the top-k classes; GET /health the batching counters; GET /model what is
// served. Images are decoded per request (sharp, off the event loop), then normalised and run in dynamic
// batches (batcher.ts) through a Predictor, which is all an engine has to provide. Fastify is imported
// here, when a service is made, so that `import 'senet'` does not load it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as torch from '../../torch/index.js';
import { BatchTransform } from '../../data/index.js';
import { topK } from '../../train/metrics.js';
import { DynamicBatcher, QueueFullError, type BatcherOptions } from './batcher.js';
import { ACCEPTED_TYPES, HttpError, httpErrorOf, megabytes } from './errors.js';
import { decodeRequestImage } from './images.js';
import type { Predictor, ServedModel } from './predictor.js';

export interface ServiceLimits extends BatcherOptions {
  /** The largest image accepted, in bytes (the body, or each file of a multipart body). */
  bodyLimit: number;
  /** The most pixels (width × height) of an image, checked from its header before decoding. */
  maxPixels: number;
  /** The most files of one multipart request. */
  maxFiles: number;
  /** Classes answered per image unless the request asks otherwise (?k=N); at most the model's classes. */
  topK: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  maxBatch: 16,
  maxWaitMs: 5,
  maxQueue: 256,
  bodyLimit: 10_000_000,
  maxPixels: 40_000_000,
  maxFiles: 16,
  topK: 5,
};

export interface ServiceOptions extends Partial<ServiceLimits> {
  model: ServedModel;
  predictor: Predictor;
}

export interface TopClass {
  class: string;
  index: number;
  probability: number;
}

export interface Service {
  app: FastifyInstance;
  batcher: DynamicBatcher<Uint8Array, Float32Array>;
  limits: ServiceLimits;
  /** Starts listening; resolves to the service's URL (port 0 picks a free port). */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting requests, answers those in flight, then frees the predictor. */
  close(): Promise<void>;
}

/** A service for `model` run by `predictor` (not yet listening). */
export async function createService(options: ServiceOptions): Promise<Service> {
  const { model, predictor } = options;
  const limits = checkLimits({ ...DEFAULT_LIMITS, ...definedOnly(options) }, model);
  const { default: Fastify } = await import('fastify');
  const { default: multipart } = await import('@fastify/multipart');
  const transform = new BatchTransform({ augment: 'none', mean: model.context.mean, std: model.context.std });
  const numClasses = model.context.classes.length;

  const runBatch = async (images: Uint8Array[]): Promise<Float32Array[]> => {
    const input = await normalise(images, model.inputShape, transform);
    const logits = await predictor.run(input, images.length);
    if (logits.length !== images.length * numClasses) {
      throw new Error(
        `${predictor.engine} gave ${logits.length} logits for ${images.length} images of ${numClasses} classes`,
      );
    }
    return images.map((_, i) => logits.subarray(i * numClasses, (i + 1) * numClasses));
  };
  const batcher = new DynamicBatcher(runBatch, limits);
  const started = Date.now();
  const requests = { answered: 0, failed: 0 };

  const app = Fastify({ bodyLimit: limits.bodyLimit });
  // Only images and multipart forms are parsed: anything else (JSON, text, no type) is a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...ACCEPTED_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  await app.register(multipart, {
    limits: { fileSize: limits.bodyLimit, files: limits.maxFiles, fields: 16, parts: limits.maxFiles + 16 },
    throwFileSizeLimit: true,
  });

  // Once closing, every answer closes its connection: a kept-alive one would hold the shutdown open
  // until its idle timeout.
  let closing = false;
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  app.setErrorHandler((error: Error, request: FastifyRequest, reply: FastifyReply) => {
    const answer = httpErrorOf(error, request.headers['content-type'], limits);
    if (answer.statusCode === 500)
      process.stderr.write(`senet serve: ${request.method} ${request.url}: ${error.stack}\n`);
    requests.failed++;
    return reply.code(answer.statusCode).send({ error: answer.message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: `there is no ${request.method} ${request.url.split('?')[0]}; the service answers POST /predict, GET /health and GET /model`,
    }),
  );

  app.get('/health', async () => ({
    status: 'ok',
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
    requests,
    batching: batcher.stats(),
  }));

  app.get('/model', async () => ({
    model: model.spec.name,
    options: model.spec.options,
    classes: model.context.classes,
    inputShape: model.inputShape,
    mean: model.context.mean,
    std: model.context.std,
    weightsFile: model.weightsFile,
    engine: predictor.engine,
    ...predictor.details,
    limits: { ...limits, bodyLimit: megabytes(limits.bodyLimit) },
  }));

  app.post('/predict', async (request, reply) => {
    const k = requestedTopK(request.query, limits.topK, numClasses);
    const multi = request.isMultipart();
    const files = multi ? await readFiles(request) : [{ name: null, bytes: bodyOf(request) }];
    const images = await Promise.all(
      files.map((f) =>
        decodeRequestImage(
          f.bytes,
          model.inputShape,
          f.name === null ? 'the request body' : `the file '${f.name}'`,
          limits.maxPixels,
        ),
      ),
    );
    let logits: Float32Array[];
    try {
      logits = await batcher.submit(images);
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      reply.header('retry-after', '1');
      throw new HttpError(503, error.message);
    }
    const top = topClasses(logits, k, model.context.classes);
    requests.answered++;
    return multi ? { predictions: files.map((f, i) => ({ file: f.name, top: top[i] })) } : { top: top[0] };
  });

  return {
    app,
    batcher,
    limits,
    async listen(port, host) {
      await app.listen({ port, host });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    },
    async close() {
      closing = true;
      await app.close(); // waits for the requests in flight, whose images are in the batcher
      await batcher.drain();
      await predictor.dispose();
    },
  };
}

function definedOnly(options: Partial<ServiceLimits>): Partial<ServiceLimits> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined && typeof v === 'number'));
}

function checkLimits(limits: ServiceLimits, model: ServedModel): ServiceLimits {
  for (const [key, value] of Object.entries(limits) as [keyof ServiceLimits, number][]) {
    const min = key === 'maxWaitMs' ? 0 : 1;
    if (!Number.isFinite(value) || value < min || (key !== 'maxWaitMs' && !Number.isSafeInteger(value)))
      throw new Error(
        `the service's ${key} must be ${key === 'maxWaitMs' ? 'a number' : 'an integer'} >= ${min}, got ${value}`,
      );
  }
  if (limits.maxFiles > limits.maxQueue) {
    throw new Error(
      `--max-files (${limits.maxFiles}) is more than --max-queue (${limits.maxQueue}): such a request could never be queued`,
    );
  }
  return { ...limits, topK: Math.min(limits.topK, model.context.classes.length) };
}

/** The k a request asks for with ?k=N, checked, else the service's. */
function requestedTopK(query: unknown, fallback: number, numClasses: number): number {
  const raw = (query as Record<string, unknown> | undefined)?.k;
  if (raw === undefined) return fallback;
  const k = Number(raw);
  if (typeof raw !== 'string' || !Number.isSafeInteger(k) || k < 1 || k > numClasses)
    throw new HttpError(400, `?k=${String(raw)} is not an integer in [1, ${numClasses}] (the model's classes)`);
  return k;
}

function bodyOf(request: FastifyRequest): Buffer {
  if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
    throw new HttpError(
      400,
      'the request has no body; send an image (JPEG, PNG or WebP) as the body, or as files of a multipart form',
    );
  }
  return request.body;
}

/** The files of a multipart body, read whole (each at most the body limit: @fastify/multipart enforces it). */
async function readFiles(request: FastifyRequest): Promise<{ name: string; bytes: Buffer }[]> {
  const files: { name: string; bytes: Buffer }[] = [];
  for await (const part of request.parts()) {
    if (part.type === 'file') files.push({ name: part.filename || part.fieldname, bytes: await part.toBuffer() });
  }
  if (files.length === 0) throw new HttpError(400, 'the multipart form holds no file; send the images as file fields');
  return files;
}

/** Normalised float32 images [N, C, H, W] for a batch of uint8 images, as `senet predict` prepares them. */
async function normalise(
  images: readonly Uint8Array[],
  shape: readonly number[],
  transform: BatchTransform,
): Promise<Float32Array> {
  const size = images[0].length;
  const pixels = new Uint8Array(images.length * size);
  images.forEach((image, i) => pixels.set(image, i * size));
  const batch = torch.tensor(pixels, { shape: [images.length, ...shape] });
  let x: torch.Tensor | null = null;
  try {
    x = await transform.apply(batch);
    return x.data() as Float32Array;
  } finally {
    torch.dispose([batch, x]);
  }
}

/** The k most probable classes of each row of logits (softmax as `senet predict` computes it). */
function topClasses(rows: readonly Float32Array[], k: number, classes: readonly string[]): TopClass[][] {
  const flat = new Float32Array(rows.length * classes.length);
  rows.forEach((row, i) => flat.set(row, i * classes.length));
  const { indices, probabilities } = torch.tidy(() =>
    topK(torch.tensor(flat, { shape: [rows.length, classes.length] }), k),
  );
  return indices.map((row, i) =>
    row.map((index, j) => ({ class: classes[index] ?? `class ${index}`, index, probability: probabilities[i][j] })),
  );
}
