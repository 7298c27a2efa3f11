// DistributedSampler against PyTorch's (fixture: scripts/fixtures/make_distributed_sampler.py), and the loader's
// shard option: the ranks' batches b together are the single-process batch b.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as torch from '../../src/torch/index.js';
import { DataLoader, DistributedSampler, makeDataset, TensorDataset } from '../../src/data/index.js';
import { loadFixture } from '../helpers.js';

interface SamplerCase {
  n: number;
  numReplicas: number;
  shuffle: boolean;
  seed: number;
  epoch: number;
  dropLast: boolean;
  ranks: number[][];
}

describe('DistributedSampler', () => {
  const cases = loadFixture<SamplerCase[]>('distributed_sampler');

  for (const c of cases) {
    it(`n=${c.n} W=${c.numReplicas} shuffle=${c.shuffle} seed=${c.seed} epoch=${c.epoch} dropLast=${c.dropLast}`, () => {
      for (let rank = 0; rank < c.numReplicas; ++rank) {
        const sampler = new DistributedSampler(c.n, { ...c, rank });
        sampler.setEpoch(c.epoch);
        assert.deepEqual([...sampler], c.ranks[rank], `rank ${rank}`);
        assert.equal(sampler.length, c.ranks[rank].length);
      }
    });
  }

  it('epochs differ, shards are disjoint and cover the dataset', () => {
    const shards = [0, 1, 2].map((rank) => new DistributedSampler(12, { numReplicas: 3, rank, seed: 3 }));
    const epoch0 = shards.map((s) => s.indices());
    for (const s of shards) s.setEpoch(1);
    assert.notDeepEqual(
      shards.map((s) => s.indices()),
      epoch0,
    );
    assert.deepEqual(
      epoch0.flat().sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, i) => i),
    );
  });

  it('rejects bad ranks and epochs with one clear error', () => {
    assert.throws(() => new DistributedSampler(10), /pass numReplicas and rank, or call distributed.initProcessGroup/);
    assert.throws(() => new DistributedSampler(10, { numReplicas: 2, rank: 2 }), /rank must be an integer in 0..1/);
    assert.throws(() => new DistributedSampler(0, { numReplicas: 2, rank: 0 }), /at least one sample/);
    assert.throws(() => new DistributedSampler(5, { numReplicas: 1, rank: 0 }).setEpoch(-1), /non-negative/);
  });
});

describe('DataLoader shard', () => {
  const n = 20;
  const dataset = new TensorDataset(torch.arange(n).reshape([n, 1]).float(), torch.arange(n));

  it("the ranks' batches b together are the single-process batch b (shuffled, same seed)", async () => {
    const whole = new DataLoader(dataset, { batchSize: 8, shuffle: true, seed: 5 });
    const ranks = [0, 1].map(
      (rank) => new DataLoader(dataset, { batchSize: 4, shuffle: true, seed: 5, shard: { rank, worldSize: 2 } }),
    );
    assert.equal(ranks[0].length, whole.length);
    const labels = async (loader: DataLoader<TensorDataset>) => {
      const out: number[][] = [];
      for await (const b of loader.epoch(2)) out.push(b.y.toArray() as number[]);
      return out;
    };
    const [w, r0, r1] = await Promise.all([labels(whole), labels(ranks[0]), labels(ranks[1])]);
    for (let b = 0; b < w.length - 1; ++b) {
      assert.deepEqual(
        [...r0[b], ...r1[b]].sort((x, y) => x - y),
        [...w[b]].sort((x, y) => x - y),
        `batch ${b}`,
      );
    }
    // 20 samples over 2 ranks divide: the last batch (4 samples) is split 2 + 2.
    assert.deepEqual(
      [...r0.at(-1)!, ...r1.at(-1)!].sort((x, y) => x - y),
      [...w.at(-1)!].sort((x, y) => x - y),
    );
  });

  it('an unpadded shard (evaluation) reads every sample once, the ranks differing by at most one', async () => {
    const ranks = [0, 1, 2].map(
      (rank) => new DataLoader(dataset, { batchSize: 4, shard: { rank, worldSize: 3, padded: false } }),
    );
    assert.deepEqual(
      ranks.map((r) => r.samples),
      [7, 7, 6],
    );
    const seen: number[] = [];
    for (const loader of ranks) for await (const b of loader.epoch(0)) seen.push(...(b.y.toArray() as number[]));
    assert.deepEqual(
      seen.sort((x, y) => x - y),
      Array.from({ length: n }, (_, i) => i),
    );
    // Padded, 20 over 3 ranks is 7 each: the epoch's first sample is read twice.
    assert.equal(new DataLoader(dataset, { batchSize: 4, shard: { rank: 2, worldSize: 3 } }).samples, 7);
  });

  it('ranks draw their own augmentation; rank 0 draws as one process does', async () => {
    // 16 copies of one noise image: batches can differ only by their augmentation draws.
    const image = Uint8Array.from({ length: 3 * 8 * 8 }, (_, i) => (i * 97 + 13) % 256);
    const same = makeDataset({
      name: 'one-image',
      images: Uint8Array.from({ length: 16 * image.length }, (_, i) => image[i % image.length]),
      labels: new Int32Array(16),
      classes: ['a'],
      channels: 3,
      height: 8,
      width: 8,
    });
    const draws = async (shard?: { rank: number; worldSize: number }) => {
      const loader = new DataLoader(same, { batchSize: 4, transform: { augment: 'crop-flip' }, seed: 2, shard });
      const out: number[][] = [];
      for await (const b of loader.epoch(0)) out.push((b.x.toArray() as number[][][][]).flat(3));
      loader.dispose();
      return out;
    };
    const alone = await draws();
    const [rank0, rank1] = [await draws({ rank: 0, worldSize: 2 }), await draws({ rank: 1, worldSize: 2 })];
    assert.deepEqual(rank0, alone.slice(0, rank0.length));
    for (let b = 0; b < rank1.length; ++b) assert.notDeepEqual(rank1[b], rank0[b], `batch ${b}`);
  });

  it('rejects a bad shard', () => {
    assert.throws(
      () => new DataLoader(dataset, { batchSize: 4, shard: { rank: 2, worldSize: 2 } }),
      /shard must be \{ rank in 0..worldSize-1/,
    );
  });
});
