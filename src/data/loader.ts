// Batches for training and evaluation. An epoch's sample order and every batch's augmentation come from
// generators seeded by (seed, epoch[, batch]) alone, so epoch e is the same sequence of batches whatever
// ran before, and a killed run resumes exactly with `epoch(e, { startBatch })`. The loader reads uint8 image
// datasets (dataset.ts: copied into libtorch once, gathered and augmented in batches as background
// libtorch ops while the caller works on earlier batches) and any map-style dataset (map-dataset.ts: its
// getBatch, or get per sample, called for the batches prepared ahead), with the same order and positions.
import { setImmediate as nextTurn } from 'node:timers/promises';
import * as torch from '../torch/index.js';
import { datasetTensors, type ImageDataset } from './dataset.js';
import { checkDataset, readSampleBatch, type Dataset } from './map-dataset.js';
import { deriveSeed, STREAM } from './seeds.js';
import { checkShard, shardLength, shardPositions, type Shard } from './distributed-sampler.js';
import { alternatingFlips, BatchTransform, FLIP_PROBABILITY, type TransformConfig } from './transforms.js';

/**
 * Batches prepared ahead by default. A batch goes through up to six background ops (gather, pad, crop
 * and flip, to float, minus mean, over std), and each hands on to the next only when the event loop
 * turns, which a synchronous training loop allows once per batch (in next()): six batches in flight
 * let every batch finish in the background before it is asked for.
 */
export const DEFAULT_PREFETCH = 6;

export interface DataLoaderOptions {
  batchSize: number;
  /** A new random order every epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Leave out the last batch when it would be smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Image datasets: what turns a uint8 batch into x (default: scaling to [0, 1] only). */
  transform?: BatchTransform | TransformConfig;
  /** Seeds the shuffle and the augmentation (default 0). */
  seed?: number | bigint;
  /** How many batches are prepared ahead (default DEFAULT_PREFETCH). */
  prefetch?: number;
  /** Where x and y are delivered (default 'cpu'). */
  device?: string;
  /**
   * Data-parallel work: this rank reads only its shard of each epoch's order (DistributedSampler's padding
   * and striding), so the ranks' batches b together are the single-process batch b of batchSize × worldSize
   * samples. batchSize is then the per-rank batch. Ranks other than 0 draw their own augmentation streams.
   */
  shard?: Shard;
}

export interface Batch {
  /** The inputs: float32 [B, C, H, W], transformed, for image datasets. */
  x: torch.Tensor;
  /** The targets: int64 [B] class indices for image datasets. */
  y: torch.Tensor;
  /** The batch's position in its epoch, from 0. */
  index: number;
}

/** What a training loop needs of a loader: the batches of any epoch from any position. */
export interface BatchLoader {
  readonly dataset: { readonly length: number };
  readonly batchSize: number;
  /** Batches per epoch. */
  readonly length: number;
  epoch(epoch: number, options?: { startBatch?: number }): AsyncGenerator<Batch, void, undefined>;
  dispose(): void;
}

/** What a DataLoader reads: a uint8 image dataset, or any map-style dataset. */
export type LoaderDataset = ImageDataset | Dataset;

/** Whether a dataset is a uint8 image dataset (read through the loader's libtorch copy and transform). */
export function isImageDataset(dataset: LoaderDataset): dataset is ImageDataset {
  return (dataset as Partial<ImageDataset>).images instanceof Uint8Array;
}

/**
 * Iterates a dataset in batches, PyTorch DataLoader-style. An image dataset is copied into libtorch once,
 * here; `dispose()` frees that copy (a map-style dataset is the caller's to free).
 *
 * Ownership: every Batch handed out belongs to the caller, who must dispose its x and y
 * (`torch.dispose(batch)` does both); they are marked kept, so no tidy scope of the caller frees them
 * early. Everything else the loader makes is freed by the loader, also when an epoch is left early
 * with `break`.
 */
export class DataLoader<D extends LoaderDataset = ImageDataset> implements BatchLoader {
  readonly dataset: D;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly transform: BatchTransform;
  readonly seed: number | bigint;
  readonly prefetch: number;
  readonly device: string;
  readonly shard: Shard | null;
  private tensors: { images: torch.Tensor; labels: torch.Tensor } | null = null;
  /** 'translate-altflip': each image's coin, drawn once from (seed, STREAM.altflip) (alternatingFlips). */
  private flipCoins: torch.Tensor | null = null;
  private disposed = false;

  constructor(dataset: D, options: DataLoaderOptions) {
    const { batchSize, prefetch = DEFAULT_PREFETCH } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(prefetch) || prefetch < 1)
      throw new Error(`DataLoader: prefetch must be a positive integer, got ${prefetch}`);
    const image = isImageDataset(dataset);
    if (!image) checkDataset(dataset);
    if (dataset.length === 0) throw new Error(`DataLoader: the dataset '${dataset.name ?? 'unnamed'}' is empty`);
    if (!image && options.transform !== undefined) {
      throw new Error(
        "DataLoader: transform applies to uint8 image datasets; transform the samples in your dataset's get or getBatch",
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.transform =
      options.transform instanceof BatchTransform
        ? options.transform
        : new BatchTransform(options.transform ?? { augment: 'none' });
    this.seed = options.seed ?? 0;
    deriveSeed(this.seed); // rejects a bad seed now rather than at the first epoch
    this.prefetch = prefetch;
    this.device = options.device ?? 'cpu';
    this.shard = options.shard ?? null;
    if (this.shard) checkShard(this.shard, 'DataLoader');
    if (image) this.tensors = datasetTensors(dataset);
  }

  /** Batches per epoch (len(loader) in PyTorch). */
  get length(): number {
    return batchCount(this.samples, this.batchSize, this.dropLast);
  }

  /** Samples per epoch this loader reads: the dataset, or this rank's shard of it. */
  get samples(): number {
    const n = this.dataset.length;
    return this.shard ? shardLength(n, this.shard) : n;
  }

  /**
   * The batches of epoch `epoch` (any non-negative integer), from batch `startBatch` on: exactly the
   * batches that a full pass over that epoch yields from that position.
   */
  async *epoch(
    epoch: number,
    { startBatch = 0 }: { startBatch?: number } = {},
  ): AsyncGenerator<Batch, void, undefined> {
    checkEpochPosition('DataLoader', epoch, startBatch, this.length);
    if (this.disposed) throw new Error('DataLoader: used after dispose()');
    const order = this.order(epoch);
    const pending: Promise<Batch>[] = [];
    let next = startBatch;
    const prepare = (index: number) =>
      this.tensors ? this.prepareImages(this.tensors, order, epoch, index) : this.prepareSamples(order, epoch, index);
    const refill = () => {
      while (pending.length < this.prefetch && next < this.length) {
        const batch = prepare(next++);
        batch.catch(() => undefined); // failures surface when the batch is awaited, not as unhandled rejections
        pending.push(batch);
      }
    };
    try {
      refill();
      while (pending.length > 0) {
        // One turn of the event loop lets finished background ops hand their results on, so batches
        // in flight keep moving even when the caller's work between batches is all synchronous.
        await nextTurn();
        const batch = await pending.shift()!;
        refill();
        yield batch;
      }
    } finally {
      // Left early (break, or an error): free what was prepared but never handed out.
      const leftovers = await Promise.allSettled(pending);
      for (const r of leftovers) if (r.status === 'fulfilled') torch.dispose(r.value);
      order.dispose();
    }
  }

  /** Frees the loader's copy of an image dataset; later epochs throw. */
  dispose(): void {
    torch.dispose([this.tensors, this.flipCoins]);
    this.tensors = null;
    this.flipCoins = null;
    this.disposed = true;
  }

  /**
   * The epoch's sample order: torch.randperm(N, generator seeded deriveSeed(seed, epoch, 0)) or 0..N-1; with a
   * shard, this rank's part of that order (the same permutation on every rank, as the seed is).
   */
  private order(epoch: number): torch.Tensor {
    const n = this.dataset.length;
    return torch.tidy(() => {
      const order = this.shuffle
        ? torch.randperm(n, { generator: new torch.Generator(deriveSeed(this.seed, epoch, STREAM.shuffle)) })
        : torch.arange(n);
      if (!this.shard) return torch.keep(order);
      const all = order.toArray() as number[];
      const mine = shardPositions(n, this.shard).map((p) => all[p % n]);
      return torch.keep(torch.tensor(mine, { dtype: 'int64' }));
    });
  }

  private async toDevice(t: torch.Tensor): Promise<torch.Tensor> {
    return this.device === 'cpu' ? t : torch.async.to(t, this.device);
  }

  /**
   * The generator of batch `index`'s random draws: seeded by (seed, epoch, index) alone, and on a shard of rank
   * r > 0 by r too, so that the ranks' batches b are not augmented alike (rank 0 draws as one process does).
   */
  private batchGenerator(epoch: number, index: number): torch.Generator {
    const rank = this.shard?.rank ?? 0;
    return new torch.Generator(deriveSeed(this.seed, epoch, STREAM.augment, index, ...(rank > 0 ? [rank] : [])));
  }

  /** Reads batch `index` of the order from a map-style dataset (getBatch, or get per sample). */
  private async prepareSamples(order: torch.Tensor, epoch: number, index: number): Promise<Batch> {
    const start = index * this.batchSize;
    const size = Math.min(this.batchSize, this.samples - start);
    return torch.tidy(() => {
      const indices = order.narrow(0, start, size).toArray() as number[];
      const [x, y] = readSampleBatch(this.dataset as Dataset, indices, this.batchGenerator(epoch, index));
      // A tensor the dataset keeps (one it stores) is copied: the batch handed out is the caller's to free.
      const own = (t: torch.Tensor) => {
        const moved = this.device === 'cpu' ? t : t.to(this.device);
        return moved.kept ? moved.clone() : moved;
      };
      return torch.keep({ x: own(x), y: own(y), index });
    });
  }

  /** The per-image coins of the alternating flip (made on first use, kept until dispose). */
  private coins(): torch.Tensor {
    if (!this.flipCoins) {
      const generator = new torch.Generator(deriveSeed(this.seed, STREAM.altflip));
      this.flipCoins = torch.keep(
        torch.tidy(() => torch.rand([this.dataset.length], { generator }).lt(FLIP_PROBABILITY)),
      );
    }
    return this.flipCoins;
  }

  /** Gathers batch `index` of the order and transforms it; its augmentation is seeded by (seed, epoch, index). */
  private prepareImages(
    { images, labels }: { images: torch.Tensor; labels: torch.Tensor },
    order: torch.Tensor,
    epoch: number,
    index: number,
  ): Promise<Batch> {
    return torch.tidy(async () => {
      const start = index * this.batchSize;
      const picked = order.narrow(0, start, Math.min(this.batchSize, this.samples - start));
      const generator = this.transform.isRandom ? this.batchGenerator(epoch, index) : undefined;
      const [pixels, labelsPicked] = await Promise.all([
        torch.async.indexSelect(images, 0, picked),
        torch.async.indexSelect(labels, 0, picked),
      ]);
      const flips =
        this.transform.config.augment === 'translate-altflip'
          ? torch.keep(alternatingFlips(this.coins().indexSelect(0, picked), epoch)) // cropAndFlip frees it
          : undefined;
      const x = await this.toDevice(await this.transform.apply(pixels, generator, flips));
      const y = await this.toDevice(labelsPicked);
      return torch.keep({ x, y, index }); // intermediates are freed as the scope closes
    });
  }
}

/** Batches in an epoch of `n` samples (len(loader) in PyTorch): a last short batch counts unless dropped. */
export function batchCount(n: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** Checks where a loader is asked to start: epoch ≥ 0 and a batch position within the epoch's `length`. */
export function checkEpochPosition(loader: string, epoch: number, startBatch: number, length: number): void {
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new Error(`${loader}.epoch(): epoch must be a non-negative integer, got ${epoch}`);
  }
  if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > length) {
    throw new Error(`${loader}.epoch(): startBatch must be an integer in 0..${length}, got ${startBatch}`);
  }
}
