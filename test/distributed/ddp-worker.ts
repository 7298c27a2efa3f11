// One rank of the DDP equal-weights test (ddp.test.ts): simple-cnn for one epoch on a small image folder, global
// batch 64 split over WORLD_SIZE ranks (the loader's shard), gradients averaged by DistributedDataParallel.
// Writes the final weights (float32, state-dict order) to $SENET_TEST_OUT/rank<r>.bin and prints a JSON line.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { DataLoader, loadImageFolder } from '../../src/data/index.js';
import { SimpleCNN } from '../../src/models/index.js';

const dist = torch.distributed;
const GLOBAL_BATCH = 64;

/** A BatchNorm model (SENET_TEST_MODEL=bn): conv, BatchNorm, ReLU, global pooling, linear. */
class TinyBnNet extends torch.nn.Module {
  conv = new torch.nn.Conv2d(3, 8, 3, { stride: 2 });
  bn: torch.nn.Module = new torch.nn.BatchNorm2d(8);
  fc = new torch.nn.Linear(8, 2);
  forward(x: torch.Tensor): torch.Tensor {
    const h = torch.F.relu((this.bn as torch.nn.BatchNorm2d).call(this.conv.call(x)));
    return this.fc.call(h.mean([2, 3]));
  }
}

async function main(): Promise<void> {
  const folder = process.env.SENET_TEST_FOLDER as string;
  const out = process.env.SENET_TEST_OUT as string;
  await dist.initProcessGroup({ timeoutMs: 120_000 });
  const rank = dist.getRank();
  const world = dist.getWorldSize();
  torch.setNumThreads(1);
  // Different seeds per rank: the broadcast from rank 0 in DistributedDataParallel.create makes them equal.
  torch.manualSeed(100 + rank);
  const bn = process.env.SENET_TEST_MODEL === 'bn';
  const model = bn ? torch.nn.parallel.SyncBatchNorm.convert(new TinyBnNet()) : new SimpleCNN({ numClasses: 2 });
  const ddp = await torch.nn.parallel.DistributedDataParallel.create(model);
  const flatWeights = () => torch.cat(Object.values(model.stateDict()).map((t) => t.float().reshape([-1])));
  const initial = flatWeights();
  const data = await loadImageFolder(folder, 'train', { cacheDir: join(out, `cache${rank}`) });
  const loader = new DataLoader(data, {
    batchSize: GLOBAL_BATCH / world,
    shuffle: true,
    seed: 7,
    transform: { augment: 'none', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    shard: { rank, worldSize: world },
  });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  let batches = 0;
  for await (const { x, y } of loader.epoch(0)) {
    torch.tidy(() => {
      optimizer.zeroGrad();
      torch.F.crossEntropy(ddp.call(x) as torch.Tensor, y).backward();
      optimizer.step();
    });
    torch.dispose([x, y]);
    batches++;
  }
  // The trained weights and statistics, before the probe's forwards below move BatchNorm's running statistics.
  const weights = flatWeights();
  // noSync: a backward inside it leaves the ranks' gradients local (different); the next synchronised one
  // averages everything accumulated, so the ranks agree again.
  const probe = torch.rand([4, 3, 32, 32], { generator: new torch.Generator(rank) });
  const grad0 = () => (model.parameters()[0].grad as torch.Tensor).clone();
  optimizer.zeroGrad();
  await ddp.noSync(() => torch.tidy(() => (ddp.call(probe) as torch.Tensor).sum().backward()));
  const local = grad0();
  const localGathered = [torch.zerosLike(local), torch.zerosLike(local)].slice(0, world);
  await dist.allGather(localGathered, local);
  torch.tidy(() => (ddp.call(probe) as torch.Tensor).sum().backward());
  const synced = grad0();
  // Expected after the synced backward: the average over ranks of (2 × each rank's local gradient).
  const expected = torch.stack(localGathered).mean(0).mul(2);
  writeFileSync(join(out, `rank${rank}.bin`), Buffer.from((weights.data() as Float32Array).buffer));
  const result = {
    rank,
    world,
    batches,
    buckets: ddp.bucketCount,
    moved: torch.sub(weights, initial).abs().max().item(),
    noSyncMaxDiff: torch.sub(synced, expected).abs().max().item(),
    noSyncLocalsDiffer: world > 1 && torch.sub(localGathered[0], localGathered[1]).abs().max().item() > 0,
  };
  await dist.destroyProcessGroup();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// `node --test dist/test/` loads every file under test/, this one too: it runs only as a rank that
// runRanks (spawn.ts) starts.
if (process.env.SENET_TEST_WORKER === '1') {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  });
}
