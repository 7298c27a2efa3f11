// torch.distributed over c10d: two processes on 127.0.0.1 run every collective, each result is checked against
// the collective's definition computed here from both ranks' inputs; rendezvous errors are checked without
// processes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as torch from '../../src/torch/index.js';
import { lastJson, runRanks } from './spawn.js';

const WORKER = join(import.meta.dirname, 'collectives-worker.js');
const inputs = [0, 1].map((rank) => [rank + 1, 2 * rank - 3, 0.5 * (rank + 1), 10 - rank]);
const zip = (f: (a: number, b: number) => number) => inputs[0].map((a, i) => f(a, inputs[1][i]));

function checkDefinitions(out: Record<string, unknown>): void {
  assert.equal(out.world, 2);
  assert.deepEqual(
    out.sum,
    zip((a, b) => a + b),
  );
  assert.deepEqual(
    out.avg,
    zip((a, b) => (a + b) / 2),
  );
  assert.deepEqual(out.min, zip(Math.min));
  assert.deepEqual(out.max, zip(Math.max));
  assert.deepEqual(
    out.product,
    zip((a, b) => a * b),
  );
  assert.deepEqual(out.sumInt64, [1 + 2, 0 + 7]);
  assert.deepEqual(out.broadcast, inputs[1], 'broadcast from the last rank');
  assert.deepEqual(out.allGather, inputs);
  // libtorch 1.13's Gloo backend has no reduce-scatter: the error says so instead of hanging or crashing.
  assert.match(
    String(out.reduceScatterError),
    /reduceScatter failed on rank \d of 2: .*does not support reduce_scatter/,
  );
  assert.equal(out.initialized, true);
  assert.equal(out.initializedAfter, false);
}

describe('distributed collectives (2 processes)', () => {
  it('env:// rendezvous: every collective matches its definition, the event loop runs while one waits', async () => {
    const results = await runRanks(WORKER, 2);
    const outs = results.map(lastJson);
    for (const out of outs) checkDefinitions(out);
    assert.deepEqual(
      outs.map((o) => o.rank),
      [0, 1],
    );
    // Rank 0 waited about 300 ms at the barrier for rank 1, and its 5 ms timer kept firing meanwhile.
    assert.ok((outs[0].barrierWaitMs as number) >= 250, `barrier wait ${outs[0].barrierWaitMs} ms`);
    assert.ok((outs[0].ticksDuringBarrier as number) >= 10, `${outs[0].ticksDuringBarrier} timer ticks`);
  });

  it('file:// rendezvous', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'senet-dist-'));
    try {
      const results = await runRanks(WORKER, 2, () => ({ SENET_TEST_INIT: `file://${join(dir, 'store')}` }));
      for (const r of results) checkDefinitions(lastJson(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('distributed: bad input', () => {
  const dist = torch.distributed;
  const env = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29500', RANK: '1', WORLD_SIZE: '2' };

  it('resolves env://, tcp:// and file:// init methods', () => {
    assert.deepEqual(dist.resolveRendezvous('env://', undefined, undefined, env), {
      store: { kind: 'tcp', host: '127.0.0.1', port: 29500 },
      rank: 1,
      worldSize: 2,
    });
    assert.deepEqual(dist.resolveRendezvous('tcp://10.0.0.5:23456', 0, 4, {}).store, {
      kind: 'tcp',
      host: '10.0.0.5',
      port: 23456,
    });
    assert.deepEqual(dist.resolveRendezvous('file:///tmp/x', 0, 1, {}).store, { kind: 'file', path: '/tmp/x' });
  });

  it('names what is missing or wrong', () => {
    assert.throws(() => dist.resolveRendezvous('env://', undefined, undefined, {}), /needs the rank/);
    assert.throws(() => dist.resolveRendezvous('env://', 0, 2, { MASTER_PORT: '1' }), /needs MASTER_ADDR/);
    assert.throws(() => dist.resolveRendezvous('env://', 2, 2, env), /rank 2 is outside a world of 2/);
    assert.throws(() => dist.resolveRendezvous('env://', undefined, undefined, { ...env, RANK: 'x' }), /RANK must/);
    assert.throws(() => dist.resolveRendezvous('tcp://host', 0, 1, {}), /expected tcp:\/\/host:port/);
    assert.throws(() => dist.resolveRendezvous('udp://x:1', 0, 1, {}), /unknown init method 'udp:\/\/x:1'/);
  });

  it('collectives before initProcessGroup, and nccl on a libtorch without it, give one clear error', async () => {
    assert.equal(dist.isInitialized(), false);
    await assert.rejects(dist.allReduce(torch.ones([2])), /call initProcessGroup\(\) first/);
    assert.throws(() => dist.getRank(), /call initProcessGroup\(\) first/);
    await assert.rejects(dist.initProcessGroup({ backend: 'nccl', rank: 0, worldSize: 1 }), /needs a CUDA build/);
  });

  it('a rank that never comes makes initProcessGroup fail at the timeout, naming the rank', async () => {
    const port = await dist.freePort();
    const t0 = Date.now();
    await assert.rejects(
      dist.initProcessGroup({ initMethod: `tcp://127.0.0.1:${port}`, rank: 0, worldSize: 2, timeoutMs: 1500 }),
      /rank 0 of 2 could not join the group at tcp:\/\/127.0.0.1:\d+: .+/,
    );
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(dist.isInitialized(), false);
  });
});
