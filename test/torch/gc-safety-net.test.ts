// The GC safety net: a tensor no scope owns is freed inside the garbage collection that finds it
// unreachable (no event-loop turn needed), never while JS can still reach it, and never a later tensor
// that took over its slot; past a budget of such tensors senet collects at once and warns once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as torch from '../../src/torch/index.js';
import { ROOT } from '../helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;
setFlagsFromString('--no-expose-gc');

/**
 * Makes `n` tensors outside any scope and drops them when it returns (its frame held the only reference);
 * returns the live tensor count while they were held.
 */
function dropUnscoped(n: number): number {
  const held = Array.from({ length: n }, () => torch.ones(100));
  return held.length && torch.memory().tensors;
}

test('unreachable unscoped tensors are freed during a synchronous garbage collection', () => {
  const before = torch.memory();
  assert.equal(dropUnscoped(100), before.tensors + 100);
  gc();
  const after = torch.memory();
  assert.equal(after.tensors, before.tensors, 'all 100 freed without an event-loop turn');
  assert.equal(after.gcTensors, before.gcTensors);
  assert.equal(after.bytes, before.bytes);
});

test('a scavenge (minor GC) frees young unreachable tensors too', () => {
  const before = torch.memory().tensors;
  dropUnscoped(50);
  gc({ type: 'minor' });
  assert.equal(torch.memory().tensors, before);
});

test('nothing reachable is freed: kept lists, views of dropped bases, kept and returned tensors', () => {
  const held = Array.from({ length: 200 }, (_, i) => torch.full([4], i));
  const view = (() => torch.arange(10).view(2, 5))(); // its base is dropped
  const kept = torch.tidy(() => torch.keep(torch.ones(3)));
  const returned = torch.tidy(() => torch.zeros(2).add(7));
  gc();
  gc({ type: 'minor' });
  held.forEach((t, i) => assert.deepEqual(t.toArray(), [i, i, i, i]));
  assert.deepEqual(view.toArray(), [
    [0, 1, 2, 3, 4],
    [5, 6, 7, 8, 9],
  ]);
  assert.deepEqual(kept.toArray(), [1, 1, 1]);
  assert.deepEqual(returned.toArray(), [7, 7]);
  torch.dispose([held, view, kept, returned]);
});

test('collecting a disposed tensor leaves the tensor that reused its slot alone', () => {
  const before = torch.memory().tensors;
  let first: torch.Tensor | undefined = torch.ones(5);
  first.dispose();
  const second = torch.full([5], 3); // takes the freed slot, with a new generation
  first = undefined;
  gc();
  gc({ type: 'minor' });
  assert.deepEqual(second.toArray(), [3, 3, 3, 3, 3]);
  assert.equal(torch.memory().tensors, before + 1);
  second.dispose();
  second.dispose(); // disposing twice stays harmless ...
  assert.throws(() => second.add(1), /already disposed/); // ... and use after dispose an Error
  assert.equal(torch.memory().tensors, before);
});

test('memory() tells the tensors left to the GC from those a scope owns', () => {
  const before = torch.memory();
  torch.tidy(() => {
    torch.ones(1000);
    const m = torch.memory();
    assert.equal(m.tensors, before.tensors + 1);
    assert.equal(m.gcTensors, before.gcTensors, 'a scoped tensor is not left to the GC');
  });
  const t = torch.ones(1000);
  const v = t.view(10, 100);
  const m = torch.memory();
  assert.equal(m.gcTensors, before.gcTensors + 2);
  assert.equal(m.gcBytes, before.gcBytes + 4000, 'a storage is counted once for its views');
  torch.dispose([t, v]);
  assert.deepEqual(torch.memory(), before);
});

/** Runs `body` in a fresh process (a fresh GC budget) with `torch` imported; returns its stdout and stderr. */
function runChild(body: string): { stdout: string; stderr: string } {
  const index = pathToFileURL(join(ROOT, 'dist', 'src', 'torch', 'index.js')).href;
  const script = `import * as torch from ${JSON.stringify(index)};\n${body}`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stderr);
  return { stdout: run.stdout, stderr: run.stderr };
}

test('past the budget of tensors left to the GC, senet collects at once and warns once with the fix', () => {
  const { stdout, stderr } = runChild(`
    // Each tensor is held for 1,000 steps, long enough for scavenges to move it to the old generation,
    // which only a full collection frees: V8 alone would let them pile up.
    const window = [];
    let most = 0;
    for (let i = 0; i < 12000; i++) {
      window.push(torch.ones(10));
      if (window.length > 1000) window.shift();
      if (i % 10 === 0) most = Math.max(most, torch.memory().gcTensors);
    }
    console.log(JSON.stringify({ most, live: torch.memory().gcTensors }));
  `);
  const { most, live } = JSON.parse(stdout) as { most: number; live: number };
  assert.ok(most <= 4097, `at most the budget (4096) waited for the GC, saw ${most}`);
  assert.ok(live <= 4097, `${live} left at the end`);
  const warnings = stderr.match(/senet: the garbage collector had to free \d+ tensors/g) ?? [];
  assert.equal(warnings.length, 1, stderr);
  assert.match(stderr, /wrap each step in torch\.tidy\(\(\) => \{ \.\.\. \}\) or call dispose\(\)/);
});

test('a program that keeps many tensors outside scopes keeps them all, without a warning', () => {
  const { stdout, stderr } = runChild(`
    const kept = [];
    for (let i = 0; i < 12000; i++) kept.push(torch.full([2], i));
    const ok = kept.every((t, i) => t.toArray()[1] === i);
    console.log(JSON.stringify({ ok, live: torch.memory().gcTensors }));
  `);
  assert.deepEqual(JSON.parse(stdout), { ok: true, live: 12000 });
  assert.doesNotMatch(stderr, /garbage collector/);
});
