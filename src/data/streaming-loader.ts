// Batches decoded from image files as they are asked for, so memory stays flat however large the data:
// a source lists the samples of an epoch (an image folder's paths in a seeded random order, or a tar
// shard stream through a shuffle buffer), and each batch's images are decoded in parallel on libuv's
// thread pool (libjpeg-turbo or sharp) while earlier batches are used (`prefetch` batches in flight). Every image's view (crop box, mirror, jitter)
// is drawn from a generator seeded by (seed, epoch, position in the epoch), so an epoch is the same
// whatever the timing, and `epoch(e, { startBatch })` resumes it. An image that cannot be decoded is
// skipped (its batch is one smaller), named and counted, and reported once at the end of the epoch.
import * as torch from '../torch/index.js';
import { CROP_RATIO, CROP_SCALE, randomResizedCropBox } from './crop-geometry.js';
import { decodeView, type CropStrategy, type ImagePlan, type JitterFactors } from './image-decode.js';
import { batchCount, checkEpochPosition, type Batch, type BatchLoader } from './loader.js';
import { deriveSeed, seededUniform, STREAM } from './seeds.js';
import { checkShard, shardLength, shardPositions, type Shard } from './distributed-sampler.js';
import { normalizeInPlace } from './transforms.js';

/** Batches decoded ahead by default: enough to keep libuv's threads busy while one batch is consumed. */
export const STREAMING_PREFETCH = 3;

/** One sample: what sharp reads (a path or the file's bytes), its label, and its name for reports. */
export interface StreamingSample {
  input: string | Buffer;
  label: number;
  name: string;
}

/** Where samples come from. `samples(epoch)` yields the epoch's samples in order (shuffled if asked). */
export interface SampleSource {
  readonly name: string;
  readonly classes: readonly string[];
  readonly length: number;
  /** Every sample's class, in listing order (for class counts). */
  readonly labels: Int32Array;
  samples(
    epoch: number,
    shuffle: boolean,
    seed: number | bigint,
  ): AsyncIterable<StreamingSample> | Iterable<StreamingSample>;
}

/**
 * What `senet train` and evaluation need of a loader: batches of a named classification dataset.
 * A DataLoader over an image dataset and a StreamingLoader both are one.
 */
export interface BatchSource extends BatchLoader {
  readonly dataset: { readonly name: string; readonly classes: readonly string[]; readonly length: number };
}

export type StreamingAugmentation = 'none' | 'random-resized-crop';
export const STREAMING_AUGMENTATIONS: readonly StreamingAugmentation[] = ['none', 'random-resized-crop'];

/** How each image becomes a size×size view, as JSON (recorded with a run). */
export interface ImageViewConfig {
  /** The side of the square view (the crop size). */
  size: number;
  /** 'random-resized-crop' (+ mirror) for training; 'none': the evaluation view (resize, centre crop). */
  augment: StreamingAugmentation;
  /** ColorJitter strength for brightness, contrast and saturation alike (0 or absent: none). */
  colorJitter?: number;
  mean?: readonly number[];
  std?: readonly number[];
}

export interface UnreadableReport {
  epoch: number;
  /** The source's name for each skipped image, with libvips' reason. */
  images: { name: string; reason: string }[];
}

export interface StreamingLoaderOptions {
  batchSize: number;
  view: ImageViewConfig;
  shuffle?: boolean;
  dropLast?: boolean;
  seed?: number | bigint;
  prefetch?: number;
  device?: string;
  /** How crops are decoded (default 'decode-region': libjpeg-turbo decodes only a JPEG's crop box). */
  strategy?: CropStrategy;
  /** Called once after each epoch that skipped images (default: one warning line on stderr). */
  onUnreadable?: (report: UnreadableReport) => void;
  /**
   * Data-parallel work: this rank reads every worldSize-th sample of each epoch's order from `rank` on (the
   * DistributedSampler's striding and padding; the other samples are passed over, not decoded). Each image's
   * view is drawn from its position in the whole epoch, so the ranks together see the single-process views.
   */
  shard?: Shard;
}

/** Streams a SampleSource in decoded, transformed batches; the same contract as DataLoader. */
export class StreamingLoader implements BatchSource {
  readonly dataset: SampleSource;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly view: Readonly<ImageViewConfig>;
  readonly seed: number | bigint;
  readonly prefetch: number;
  readonly device: string;
  readonly strategy: CropStrategy;
  readonly shard: Shard | null;
  /** Every image skipped so far (name → reason), over all epochs. */
  readonly unreadable = new Map<string, string>();
  private readonly onUnreadable: (report: UnreadableReport) => void;

  constructor(source: SampleSource, options: StreamingLoaderOptions) {
    const { batchSize, prefetch = STREAMING_PREFETCH, view } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`StreamingLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(prefetch) || prefetch < 1)
      throw new Error(`StreamingLoader: prefetch must be a positive integer, got ${prefetch}`);
    if (source.length === 0) throw new Error(`StreamingLoader: the dataset '${source.name}' is empty`);
    checkView(view);
    this.dataset = source;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.view = Object.freeze({ ...view });
    this.seed = options.seed ?? 0;
    deriveSeed(this.seed);
    this.prefetch = prefetch;
    this.device = options.device ?? 'cpu';
    this.strategy = options.strategy ?? 'decode-region';
    this.shard = options.shard ?? null;
    if (this.shard) checkShard(this.shard, 'StreamingLoader');
    this.onUnreadable =
      options.onUnreadable ??
      ((report) => {
        const shown = report.images
          .slice(0, 5)
          .map((i) => `${i.name} (${i.reason})`)
          .join(', ');
        console.warn(
          `senet: skipped ${report.images.length} unreadable image(s) of ${source.name} in epoch ${report.epoch}: ` +
            `${shown}${report.images.length > 5 ? ', ...' : ''}`,
        );
      });
  }

  /** Batches per epoch, counting every listed image (skipped images make batches smaller, not fewer). */
  get length(): number {
    return batchCount(this.samplesPerEpoch, this.batchSize, this.dropLast);
  }

  /** Samples this loader reads per epoch: the source's, or this rank's shard of them. */
  get samplesPerEpoch(): number {
    const n = this.dataset.length;
    return this.shard ? shardLength(n, this.shard) : n;
  }

  async *epoch(
    epoch: number,
    { startBatch = 0 }: { startBatch?: number } = {},
  ): AsyncGenerator<Batch, void, undefined> {
    checkEpochPosition('StreamingLoader', epoch, startBatch, this.length);
    const samples = positioned(
      iterate(this.dataset.samples(epoch, this.shuffle, this.seed)),
      this.dataset.length,
      this.shard,
    );
    const skipped: { name: string; reason: string }[] = [];
    const pending: Promise<Batch | null>[] = [];
    let next = 0;
    let exhausted = false;
    const take = async (): Promise<PositionedSample[]> => {
      const chunk: PositionedSample[] = [];
      while (chunk.length < this.batchSize) {
        const item = await samples.next();
        if (item.done) break;
        chunk.push(item.value);
      }
      return chunk;
    };
    const refill = async () => {
      while (!exhausted && pending.length < this.prefetch && next < this.length) {
        const chunk = await take();
        if (chunk.length === 0 || (this.dropLast && chunk.length < this.batchSize)) {
          exhausted = true;
          break;
        }
        const index = next++;
        if (index < startBatch) continue; // resuming: the samples are passed over, not decoded
        const batch = this.prepare(chunk, epoch, index, skipped);
        batch.catch(() => undefined); // a failure surfaces when the batch is awaited
        pending.push(batch);
      }
    };
    try {
      await refill();
      while (pending.length > 0) {
        const batch = await pending.shift()!;
        await refill();
        if (batch) yield batch;
      }
      if (skipped.length > 0) this.onUnreadable({ epoch, images: skipped });
    } finally {
      const leftovers = await Promise.allSettled(pending);
      for (const r of leftovers) if (r.status === 'fulfilled' && r.value) torch.dispose(r.value);
      await samples.return?.();
    }
  }

  /** Nothing is held between epochs; kept for the DataLoader contract. */
  dispose(): void {}

  /** Decodes a batch's images at once; null when none of them could be read. */
  private async prepare(
    chunk: PositionedSample[],
    epoch: number,
    index: number,
    skipped: { name: string; reason: string }[],
  ): Promise<Batch | null> {
    const { size } = this.view;
    const decoded = await Promise.allSettled(
      chunk.map(({ sample, position }) =>
        decodeView(sample.input, (w, h) => this.plan(w, h, epoch, position), this.strategy),
      ),
    );
    const good: { pixels: Buffer; label: number }[] = [];
    decoded.forEach((result, j) => {
      const { sample } = chunk[j];
      if (result.status === 'fulfilled') {
        good.push({ pixels: result.value.pixels, label: sample.label });
      } else {
        const reason = String((result.reason as Error)?.message ?? result.reason).split('\n')[0];
        skipped.push({ name: sample.name, reason });
        this.unreadable.set(sample.name, reason);
      }
    });
    if (good.length === 0) return null;
    const imageBytes = size * size * 3;
    const pixels = new Uint8Array(good.length * imageBytes);
    good.forEach((g, j) => pixels.set(g.pixels, j * imageBytes));
    return this.toBatch(
      pixels,
      Int32Array.from(good, (g) => g.label),
      index,
    );
  }

  /** uint8 N×H×W×3 → float32 [N, 3, H, W] in [0, 1], normalised; the copy and the arithmetic run in the background. */
  private async toBatch(pixels: Uint8Array, labels: Int32Array, index: number): Promise<Batch> {
    const { size, mean, std } = this.view;
    const count = labels.length;
    const [channelsLast, y8] = torch.tidy(() =>
      torch.keep([torch.tensor(pixels, { shape: [count, size, size, 3] }).permute(0, 3, 1, 2), torch.tensor(labels)]),
    );
    let x: torch.Tensor | null = null;
    let y: torch.Tensor | null = null;
    try {
      x = await torch.async.to(channelsLast, { dtype: 'float32', memoryFormat: 'contiguous' });
      await torch.async.div_(x, 255);
      if (mean && std) await normalizeInPlace(x, mean, std);
      y = await torch.async.to(y8, 'int64');
      if (this.device !== 'cpu') {
        const [xd, yd] = [await torch.async.to(x, this.device), await torch.async.to(y, this.device)];
        torch.dispose([x, y]);
        [x, y] = [xd, yd];
      }
      return torch.keep({ x, y, index });
    } catch (error) {
      torch.dispose([x, y]);
      throw error;
    } finally {
      torch.dispose([channelsLast, y8]);
    }
  }

  /** The view of sample `position` of the epoch: its own generator, so timing never changes it. */
  private plan(width: number, height: number, epoch: number, position: number): ImagePlan {
    const { size, augment, colorJitter = 0 } = this.view;
    if (augment === 'none') return { size, box: null, flip: false, jitter: null };
    const uniform = seededUniform(deriveSeed(this.seed, epoch, STREAM.augment, position));
    const box = randomResizedCropBox(width, height, uniform, CROP_SCALE, CROP_RATIO);
    const flip = uniform() < 0.5;
    return { size, box, flip, jitter: colorJitter > 0 ? jitterFactors(colorJitter, uniform) : null };
  }
}

/** ColorJitter(b, b, b)'s draws: an order of the three adjustments, then each factor uniform in [max(0, 1 − b), 1 + b]. */
function jitterFactors(strength: number, uniform: () => number): JitterFactors {
  const order = [0, 1, 2];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const factor = () => Math.max(0, 1 - strength) + (1 + strength - Math.max(0, 1 - strength)) * uniform();
  return { brightness: factor(), contrast: factor(), saturation: factor(), order };
}

function checkView(view: ImageViewConfig): void {
  if (!Number.isInteger(view.size) || view.size < 1)
    throw new Error(`image view: size must be a positive integer, got ${view.size}`);
  if (!STREAMING_AUGMENTATIONS.includes(view.augment)) {
    throw new Error(
      `image view: augment must be ${STREAMING_AUGMENTATIONS.map((a) => `'${a}'`).join(' or ')}, got '${view.augment}'`,
    );
  }
  const jitter = view.colorJitter ?? 0;
  if (!(jitter >= 0 && jitter <= 1))
    throw new Error(`image view: colorJitter must be in [0, 1], got ${view.colorJitter}`);
  if ((view.mean === undefined) !== (view.std === undefined))
    throw new Error('image view: give both mean and std, or neither');
}

/** A sample and its position in the epoch's (padded) order, from which its view is drawn. */
interface PositionedSample {
  sample: StreamingSample;
  position: number;
}

/**
 * The epoch's samples this loader reads, with their positions: all of them, or a shard's (positions
 * rank, rank + W, ...; a padded shard's positions past the end repeat the epoch's first samples, fewer than W,
 * which are held back as they pass).
 */
async function* positioned(
  samples: AsyncIterator<StreamingSample> | Iterator<StreamingSample>,
  n: number,
  shard: Shard | null,
): AsyncGenerator<PositionedSample, void, undefined> {
  const repeats = shard ? shardPositions(n, shard).filter((p) => p >= n) : [];
  const held = new Map<number, StreamingSample>(); // position p − n of each repeat → its sample
  try {
    for (let p = 0; ; p++) {
      const item = await samples.next();
      if (item.done) break;
      if (repeats.includes(p + n)) held.set(p, item.value);
      if (!shard || p % shard.worldSize === shard.rank) yield { sample: item.value, position: p };
    }
    for (const p of repeats) {
      const sample = held.get(p - n);
      if (sample) yield { sample, position: p };
    }
  } finally {
    await samples.return?.();
  }
}

function iterate<T>(items: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
}
