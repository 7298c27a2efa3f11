// senet's rank of the PyTorch interop test (interop.test.ts): the same collectives as pytorch_rank.py, in order.
import * as torch from '../../src/torch/index.js';

const dist = torch.distributed;

async function main(): Promise<void> {
  await dist.initProcessGroup({ backend: 'gloo', initMethod: 'env://', timeoutMs: 120_000 });
  const rank = dist.getRank();
  const t = torch.tensor([rank + 1, -2 * rank, 0.25], { dtype: 'float32' });
  await dist.allReduce(t);
  const m = torch.tensor([rank + 1, 5 - rank], { dtype: 'float32' });
  await dist.allReduce(m, 'max');
  const b = torch.arange(3, { dtype: 'float64' }).mul(rank + 1);
  await dist.broadcast(b, 0);
  await dist.barrier();
  await dist.destroyProcessGroup();
  process.stdout.write(`${JSON.stringify({ rank, sum: t.tolist(), max: m.tolist(), broadcast: b.tolist() })}\n`);
}

// `node --test dist/test/` loads every file under test/, this one too: it runs only as a rank that
// runRanks (spawn.ts) starts.
if (process.env.SENET_TEST_WORKER === '1') {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
