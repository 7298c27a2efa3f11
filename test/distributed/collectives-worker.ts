// One rank of the collectives test (collectives.test.ts starts two): joins the group named by the environment,
// runs every collective on rank-dependent inputs and prints what it got as one JSON line.
import * as torch from '../../src/torch/index.js';

const dist = torch.distributed;

/** Rank r's input: distinct per rank and per element, with negatives so that min and max differ from sum. */
function input(rank: number): number[] {
  return [rank + 1, 2 * rank - 3, 0.5 * (rank + 1), 10 - rank];
}

async function main(): Promise<void> {
  const initMethod = process.env.SENET_TEST_INIT ?? 'env://';
  await dist.initProcessGroup({ backend: 'gloo', initMethod, timeoutMs: 120_000 });
  const rank = dist.getRank();
  const world = dist.getWorldSize();
  const out: Record<string, unknown> = { rank, world, initialized: dist.isInitialized() };
  for (const op of ['sum', 'avg', 'min', 'max', 'product'] as const) {
    const t = torch.tensor(input(rank), { dtype: 'float32' });
    await dist.allReduce(t, op);
    out[op] = t.tolist();
  }
  const ints = torch.tensor([rank + 1, 7 * rank], { dtype: 'int64' });
  await dist.allReduce(ints, 'sum');
  out.sumInt64 = ints.tolist();
  const b = torch.tensor(input(rank), { dtype: 'float32' });
  await dist.broadcast(b, world - 1);
  out.broadcast = b.tolist();
  const gathered = Array.from({ length: world }, () => torch.zeros([4]));
  await dist.allGather(gathered, torch.tensor(input(rank), { dtype: 'float32' }));
  out.allGather = gathered.map((g) => g.tolist());
  try {
    const parts = Array.from({ length: world }, (_, i) => torch.full([2], (i + 1) * (rank + 1)));
    const o = torch.zeros([2]);
    await dist.reduceScatter(o, parts);
    out.reduceScatter = o.tolist();
  } catch (error) {
    out.reduceScatterError = (error as Error).message;
  }
  // The event loop runs while a collective waits: a timer set before the barrier fires before it resolves
  // on the rank that arrives first (rank 0 arrives 300 ms before the others).
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  if (rank !== 0) await new Promise((resolve) => setTimeout(resolve, 300));
  else {
    const t0 = Date.now();
    await dist.barrier();
    out.barrierWaitMs = Date.now() - t0;
  }
  if (rank !== 0) await dist.barrier();
  clearInterval(timer);
  out.ticksDuringBarrier = ticks;
  await dist.destroyProcessGroup();
  out.initializedAfter = dist.isInitialized();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

// `node --test dist/test/` loads every file under test/, this one too: it runs only as a rank that
// runRanks (spawn.ts) starts.
if (process.env.SENET_TEST_WORKER === '1') {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
