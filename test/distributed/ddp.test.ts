// DistributedDataParallel: simple-cnn trained one epoch on a small image folder with 2 processes × batch 32
// ends with the same weights (float rounding) as 1 process × batch 64; noSync accumulates locally and the next
// synchronised backward averages the accumulated gradients.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SHARED } from '../helpers.js';
import { lastJson, runRanks } from './spawn.js';

const WORKER = join(import.meta.dirname, 'ddp-worker.js');
const SOURCE = join(SHARED, 'datasets', 'cifar10-jpeg', 'test');

/** 2 classes × 64 images: 128 images, 2 batches of 64, which divide evenly over 2 ranks. */
function makeFolder(root: string): void {
  for (const cls of ['cat', 'ship']) {
    const dir = join(root, 'train', cls);
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(join(SOURCE, cls)).sort().slice(0, 64))
      copyFileSync(join(SOURCE, cls, file), join(dir, file));
  }
}

async function train(
  dir: string,
  world: number,
  model = 'simple-cnn',
  reduction = 'reducer',
): Promise<{ weights: Float32Array[]; outs: Record<string, unknown>[] }> {
  const out = mkdtempSync(join(dir, `out${world}-`));
  const results = await runRanks(WORKER, world, () => ({
    SENET_TEST_FOLDER: join(dir, 'folder'),
    SENET_TEST_OUT: out,
    SENET_TEST_MODEL: model,
    SENET_TEST_REDUCTION: reduction,
  }));
  const outs = results.map(lastJson);
  const weights = results.map((r) => {
    const b = readFileSync(join(out, `rank${r.rank}.bin`));
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  });
  return { weights, outs };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; ++i) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('DistributedDataParallel', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'senet-ddp-'));
    makeFolder(join(dir, 'folder'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('2 processes × batch 32 end with the weights of 1 process × batch 64; noSync accumulates locally', async () => {
    const [one, two] = [await train(dir, 1), await train(dir, 2)];
    for (const o of [...one.outs, ...two.outs]) {
      assert.equal(o.batches, 2);
      assert.ok((o.noSyncMaxDiff as number) < 1e-4, `noSync: synced grad vs expected ${o.noSyncMaxDiff}`);
    }
    assert.equal(two.outs[0].noSyncLocalsDiffer, true, 'inside noSync the ranks keep their own gradients');
    assert.equal(maxDiff(two.weights[0], two.weights[1]), 0, 'both ranks hold the same weights');
    const d = maxDiff(one.weights[0], two.weights[0]);
    assert.ok(d < 1e-5, `1 process vs 2 processes: max |Δw| = ${d}`);
    // Training moved the weights far more than the difference allowed above.
    assert.ok((one.outs[0].moved as number) > 1e-3, `weights moved by ${one.outs[0].moved}`);
  });

  it("gradientReduction 'hooks' (senet's own bucket hooks): the same weights, noSync too", async () => {
    const [one, two] = [await train(dir, 1), await train(dir, 2, 'simple-cnn', 'hooks')];
    for (const o of two.outs) assert.ok((o.noSyncMaxDiff as number) < 1e-4, `noSync ${o.noSyncMaxDiff}`);
    assert.equal(maxDiff(two.weights[0], two.weights[1]), 0, 'both ranks hold the same weights');
    const d = maxDiff(one.weights[0], two.weights[0]);
    assert.ok(d < 1e-5, `1 process vs 2 processes: max |Δw| = ${d}`);
  });

  it('SyncBatchNorm: 2 processes × batch 32 end with the weights and running statistics of 1 process × 64', async () => {
    const [one, two] = [await train(dir, 1, 'bn'), await train(dir, 2, 'bn')];
    assert.equal(maxDiff(two.weights[0], two.weights[1]), 0, 'both ranks hold the same weights and statistics');
    const d = maxDiff(one.weights[0], two.weights[0]);
    assert.ok(d < 1e-4, `1 process vs 2 processes: max |Δw| = ${d}`);
    assert.ok((one.outs[0].moved as number) > 1e-3, `weights moved by ${one.outs[0].moved}`);
    for (const o of two.outs) {
      assert.ok((o.noSyncMaxDiff as number) < 1e-4, `noSync ${o.noSyncMaxDiff}`);
      // Inputs around 1000: the statistics stay those of the global batch (float32 E[x²] − E[x]² is off by ~1).
      assert.ok((o.farFromZero as number) < 2e-3, `SyncBatchNorm far from zero: max |Δ| = ${o.farFromZero}`);
    }
  });
});
