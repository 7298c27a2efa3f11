// One group, two engines: PyTorch (Debian's python3-torch, torch.distributed with gloo) is rank 0 and serves the
// store, senet is rank 1. Same c10d, same store layout, same Gloo wire protocol, so the collectives meet.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers.js';
import { lastJson, runRanks } from './spawn.js';

const PYTHON = '/usr/bin/python3';

describe('distributed interop with PyTorch', () => {
  it('PyTorch rank 0 and senet rank 1 all-reduce, max-reduce and broadcast together', async () => {
    const probe = spawnSync(PYTHON, ['-c', 'import torch.distributed']);
    assert.equal(probe.status, 0, 'this test needs Debian python3-torch: bash scripts/setup.sh --reference');
    const results = await runRanks('', 2, undefined, (rank) =>
      rank === 0
        ? [PYTHON, join(ROOT, 'test', 'distributed', 'pytorch_rank.py')]
        : [process.execPath, join(import.meta.dirname, 'interop-worker.js')],
    );
    const [py, senet] = results.map(lastJson);
    assert.equal(py.rank, 0);
    assert.equal(senet.rank, 1);
    for (const out of [py, senet]) {
      assert.deepEqual(out.sum, [1 + 2, 0 - 2, 0.5]);
      assert.deepEqual(out.max, [2, 5]);
      assert.deepEqual(out.broadcast, [0, 1, 2], "rank 0's tensor");
    }
  });
});
