// Which samples each rank of a data-parallel group reads, with PyTorch's DistributedSampler semantics: one
// permutation for all ranks (seeded seed + epoch, so every rank draws the same one), padded by repeating its
// start so that it divides evenly (or cut, with dropLast), and rank r takes positions r, r + W, r + 2W, ...
// The shards are disjoint and together are the whole (padded) epoch.
import * as torch from '../torch/index.js';

export interface DistributedSamplerOptions {
  /** The number of ranks (default: the process group's world size). */
  numReplicas?: number;
  /** This rank (default: the process group's rank). */
  rank?: number;
  /** A new order every epoch (default true, as PyTorch's). */
  shuffle?: boolean;
  /** Seeds the shuffle; must be the same on every rank (default 0). */
  seed?: number;
  /** Cut the tail that does not divide evenly instead of padding (default false). */
  dropLast?: boolean;
}

/** Samples per rank: ceil(n / W), or floor(n / W) when dropLast cuts the uneven tail (PyTorch's num_samples). */
export function samplesPerRank(n: number, numReplicas: number, dropLast: boolean): number {
  return dropLast && n % numReplicas !== 0 ? Math.ceil((n - numReplicas) / numReplicas) : Math.ceil(n / numReplicas);
}

/** Rank `rank`'s share of `order` (one epoch's order of all samples): padded or cut to divide, then strided. */
export function shardOf(order: readonly number[], rank: number, numReplicas: number, dropLast: boolean): number[] {
  const perRank = samplesPerRank(order.length, numReplicas, dropLast);
  const total = perRank * numReplicas;
  const out: number[] = [];
  // Position i of the padded order is order[i mod n]: padding repeats the order from its start.
  for (let i = rank; i < total; i += numReplicas) out.push(order[i % order.length]);
  return out;
}

/**
 * A loader's share of every epoch in data-parallel work: rank `rank` of `worldSize`. Training shards are padded
 * (the sampler's default, so every rank takes the same number of steps); `padded: false` leaves each sample
 * read once, the ranks' counts differing by at most one (evaluation, whose sums are combined over the ranks).
 */
export interface Shard {
  rank: number;
  worldSize: number;
  /** Repeat the epoch's first samples so that it divides evenly (default true). */
  padded?: boolean;
}

/** How many samples of an epoch of `n` the shard reads (without listing them: loaders ask for it per batch). */
export function shardLength(n: number, shard: Shard): number {
  return shard.padded === false
    ? Math.ceil(Math.max(0, n - shard.rank) / shard.worldSize)
    : samplesPerRank(n, shard.worldSize, false);
}

/** The epoch positions (indices into one epoch's order, modulo its length) that `shard` reads, in order. */
export function shardPositions(n: number, shard: Shard): number[] {
  return Array.from({ length: shardLength(n, shard) }, (_, k) => shard.rank + k * shard.worldSize);
}

/** Checks a loader's `shard` option; `owner` names the loader in the error. */
export function checkShard(shard: Shard, owner: string): void {
  const { rank, worldSize } = shard;
  if (!Number.isInteger(worldSize) || worldSize < 1 || !Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new Error(
      `${owner}: shard must be { rank in 0..worldSize-1, worldSize >= 1 }, got rank ${rank} of ${worldSize}`,
    );
  }
}

function checkRanks(numReplicas: number, rank: number): void {
  if (!Number.isInteger(numReplicas) || numReplicas < 1) {
    throw new Error(`DistributedSampler: numReplicas must be a positive integer, got ${numReplicas}`);
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= numReplicas) {
    throw new Error(`DistributedSampler: rank must be an integer in 0..${numReplicas - 1}, got ${rank}`);
  }
}

/** torch.utils.data.DistributedSampler over a dataset of `length` samples. */
export class DistributedSampler implements Iterable<number> {
  readonly length: number;
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  private epoch = 0;

  constructor(
    readonly datasetLength: number,
    options: DistributedSamplerOptions = {},
  ) {
    const dist = torch.distributed;
    const group = dist.isInitialized();
    if ((options.numReplicas === undefined || options.rank === undefined) && !group) {
      throw new Error('DistributedSampler: pass numReplicas and rank, or call distributed.initProcessGroup() first');
    }
    this.numReplicas = options.numReplicas ?? dist.getWorldSize();
    this.rank = options.rank ?? dist.getRank();
    checkRanks(this.numReplicas, this.rank);
    if (!Number.isInteger(datasetLength) || datasetLength < 1) {
      throw new Error(`DistributedSampler: the dataset must have at least one sample, got ${datasetLength}`);
    }
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed))
      throw new Error(`DistributedSampler: seed must be an integer, got ${this.seed}`);
    this.dropLast = options.dropLast ?? false;
    this.length = samplesPerRank(datasetLength, this.numReplicas, this.dropLast);
  }

  /** Makes the next iteration use epoch `epoch`'s order (call it at the start of every epoch, on every rank). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new Error(`DistributedSampler.setEpoch: epoch must be a non-negative integer, got ${epoch}`);
    }
    this.epoch = epoch;
  }

  /** This rank's sample indices for the current epoch. */
  indices(): number[] {
    const n = this.datasetLength;
    const order = this.shuffle
      ? torch.tidy(
          () => torch.randperm(n, { generator: new torch.Generator(this.seed + this.epoch) }).toArray() as number[],
        )
      : Array.from({ length: n }, (_, i) => i);
    return shardOf(order, this.rank, this.numReplicas, this.dropLast);
  }

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}
