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
  const ddp = await torch.nn.parallel.DistributedDataParallel.create(model, {
    gradientReduction: (process.env.SENET_TEST_REDUCTION ?? 'reducer') as torch.nn.parallel.GradientReduction,
  });
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
  const farFromZero = bn ? await syncBatchNormFarFromZero(model as TinyBnNet, rank, world) : null;
  writeFileSync(join(out, `rank${rank}.bin`), Buffer.from((weights.data() as Float32Array).buffer));
  const result = {
    rank,
    world,
    batches,
    buckets: ddp.bucketCount,
    moved: torch.sub(weights, initial).abs().max().item(),
    noSyncMaxDiff: torch.sub(synced, expected).abs().max().item(),
    noSyncLocalsDiffer: world > 1 && torch.sub(localGathered[0], localGathered[1]).abs().max().item() > 0,
    farFromZero,
  };
  await dist.destroyProcessGroup();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * SyncBatchNorm on activations around 1000 with spread ~0.3 (where E[x²] − E[x]² in float32 loses the variance):
 * the largest difference of its training-mode output from batch normalisation of all ranks' inputs together,
 * computed in float64.
 */
async function syncBatchNormFarFromZero(model: TinyBnNet, rank: number, world: number): Promise<number> {
  const layer = model.bn as torch.nn.parallel.SyncBatchNorm;
  layer.train();
  const mine = torch.rand([4, 8, 5, 5], { generator: new torch.Generator(50 + rank) }).add(1000);
  const all = Array.from({ length: world }, () => torch.zerosLike(mine));
  await dist.allGather(all, mine);
  const out = torch.noGrad(() => layer.call(mine));
  const x = torch.cat(all).double();
  const mean = x.mean([0, 2, 3], true);
  const variance = x.sub(mean).pow(2).mean([0, 2, 3], true);
  const weight = (layer.weight as torch.Tensor).double().reshape([1, 8, 1, 1]);
  const bias = (layer.bias as torch.Tensor).double().reshape([1, 8, 1, 1]);
  const expected = x
    .sub(mean)
    .div(variance.add(layer.eps).sqrt())
    .mul(weight)
    .add(bias)
    .narrow(0, rank * 4, 4);
  return out.double().sub(expected).abs().max().item();
}

// `node --test dist/test/` loads every file under test/, this one too: it runs only as a rank that
// runRanks (spawn.ts) starts.
if (process.env.SENET_TEST_WORKER === '1') {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  });
}
