import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';

test('tidy disposes what it created except the result, which moves to the enclosing scope', () => {
  const before = torch.memory().tensors;
  let inner: torch.Tensor | undefined;
  const outer = torch.tidy(() => {
    const result = torch.tidy(() => {
      inner = torch.ones(4);
      return inner.add(1).mul(2);
    });
    assert.equal(inner!.isDisposed, true);
    assert.equal(result.isDisposed, false);
    return result.sum();
  });
  assert.equal(outer.item(), 16);
  assert.equal(torch.memory().tensors, before + 1);
  outer.dispose();
  assert.equal(torch.memory().tensors, before);
});

test('tidy follows async functions and keeps concurrent scopes apart', async () => {
  const before = torch.memory().tensors;
  const slow = torch.tidy(async () => {
    const a = torch.ones(2);
    await new Promise((r) => setTimeout(r, 20));
    return a.add(1);
  });
  const fast = torch.tidy(async () => {
    const b = torch.zeros(2);
    await new Promise((r) => setTimeout(r, 1));
    return b.sub(1);
  });
  const [s, f] = await Promise.all([slow, fast]);
  assert.deepEqual(s.toArray(), [2, 2]);
  assert.deepEqual(f.toArray(), [-1, -1]);
  assert.equal(torch.memory().tensors, before + 2);
  torch.dispose([s, f]);
  assert.equal(torch.memory().tensors, before);
});

test('kept tensors survive their scope; errors still free the scope', () => {
  const before = torch.memory().tensors;
  const kept = torch.tidy(() => {
    torch.keep(torch.ones(3));
    torch.zeros(3);
    return undefined;
  });
  assert.equal(kept, undefined);
  assert.equal(torch.memory().tensors, before + 1);
  assert.throws(
    () =>
      torch.tidy(() => {
        torch.ones(5);
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(torch.memory().tensors, before + 1);
});

test('memory() counts a storage once however many views refer to it', () => {
  torch.tidy(() => {
    const base = torch.memory();
    const x = torch.zeros(1000);
    const v = x.view(10, 100);
    const m = torch.memory();
    assert.equal(m.tensors - base.tensors, 2);
    assert.equal(m.storages - base.storages, 1);
    assert.equal(m.bytes - base.bytes, 4000);
    v.dispose();
    assert.equal(torch.memory().storages - base.storages, 1);
  });
});

test('a disposed tensor gives a clear error instead of crashing', () => {
  const x = torch.ones(2);
  x.dispose();
  assert.throws(() => x.add(1), /already disposed/);
  assert.equal(String(x), 'tensor(<disposed>)');
});
