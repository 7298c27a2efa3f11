// The dynamic batcher alone: batches are cut at maxBatch, a lone item waits maxWaitMs for company and
// no longer, one batch runs at a time, a failing batch rejects its own items only, a full queue refuses
// at once, and drain() waits for the work in hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DynamicBatcher, QueueFullError } from '../../src/export/serve/index.js';

/** A batcher that records its batches and answers each item doubled. */
function recording(options: { maxBatch: number; maxWaitMs: number; maxQueue: number }) {
  const batches: number[][] = [];
  let concurrent = 0;
  let mostConcurrent = 0;
  const batcher = new DynamicBatcher<number, number>(async (items) => {
    concurrent++;
    mostConcurrent = Math.max(mostConcurrent, concurrent);
    batches.push(items);
    await new Promise((r) => setTimeout(r, 5));
    concurrent--;
    if (items.includes(-1)) throw new Error('item -1 is refused');
    return items.map((x) => 2 * x);
  }, options);
  return { batcher, batches, mostConcurrent: () => mostConcurrent };
}

test('items submitted together are cut into batches of at most maxBatch, run one at a time, in order', async () => {
  const { batcher, batches, mostConcurrent } = recording({ maxBatch: 4, maxWaitMs: 200, maxQueue: 100 });
  const outputs = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit([i])));
  assert.deepEqual(
    outputs.flat(),
    Array.from({ length: 10 }, (_, i) => 2 * i),
  );
  assert.deepEqual(batches, [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
    [8, 9],
  ]);
  assert.equal(mostConcurrent(), 1);
  const stats = batcher.stats();
  assert.deepEqual(stats.batchSizes, { 2: 1, 4: 2 });
  assert.equal(stats.items, 10);
  assert.equal(stats.largestBatch, 4);
});

test('a lone item waits maxWaitMs for others, then runs alone', async () => {
  const { batcher, batches } = recording({ maxBatch: 8, maxWaitMs: 60, maxQueue: 100 });
  const start = performance.now();
  const first = batcher.submit([1]);
  await new Promise((r) => setTimeout(r, 20));
  const second = batcher.submit([2]); // arrives within the first one's wait: shares its batch
  assert.deepEqual(await Promise.all([first, second]), [[2], [4]]);
  const waited = performance.now() - start;
  assert.ok(waited >= 55, `the batch ran after ${waited} ms, before the 60 ms wait was over`);
  assert.deepEqual(batches, [[1, 2]]);
  const alone = performance.now();
  assert.deepEqual(await batcher.submit([3]), [6]);
  assert.ok(performance.now() - alone < 1000, 'a lone item does not wait longer than maxWaitMs (and a batch)');
});

test('a failing batch rejects its own items, and the next batch runs', async () => {
  const { batcher } = recording({ maxBatch: 2, maxWaitMs: 0, maxQueue: 100 });
  const results = await Promise.allSettled([batcher.submit([-1, 5]), batcher.submit([7])]);
  assert.equal(results[0].status, 'rejected');
  assert.match(String((results[0] as PromiseRejectedResult).reason), /item -1 is refused/);
  assert.deepEqual(results[1], { status: 'fulfilled', value: [14] });
});

test('a full queue refuses all the items of a submit at once; drain waits for the work in hand', async () => {
  const { batcher } = recording({ maxBatch: 1, maxWaitMs: 0, maxQueue: 3 });
  const accepted = batcher.submit([1, 2, 3]);
  await assert.rejects(batcher.submit([4]), QueueFullError);
  let drained = false;
  const draining = batcher.drain().then(() => {
    drained = true;
  });
  assert.deepEqual(await accepted, [2, 4, 6]);
  await draining;
  assert.ok(drained);
  assert.equal(batcher.stats().refused, 1);
  assert.equal(batcher.stats().waiting, 0);
  assert.throws(
    () => new DynamicBatcher(async () => [], { maxBatch: 0, maxWaitMs: 0, maxQueue: 1 }),
    /maxBatch must be an integer >= 1/,
  );
});
