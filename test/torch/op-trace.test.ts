// torch.traceOps: every synchronous operator call inside the traced function reaches the observer with its
// declaration, its arguments as native handles and its result; traces do not nest, background (async) ops
// are refused while tracing, and the observer is gone once the trace ends, even by an exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { OpCall } from '../../src/torch/index.js';

const name = (c: OpCall) => `${c.declaration.name}${c.declaration.overload ? `.${c.declaration.overload}` : ''}`;

test('traceOps sees each operator call with the handles that flow between them', () => {
  const x = torch.randn(2, 3);
  const calls: OpCall[] = [];
  const y = torch.traceOps(
    () => x.relu().mul(2).sum(),
    (call) => calls.push(call),
  );
  assert.deepEqual(calls.map(name), ['aten::relu', 'aten::mul.Scalar', 'aten::sum']);
  assert.equal(calls[0].args[0], x._h, 'tensor arguments arrive as their handles');
  assert.equal(calls[1].args[0], calls[0].result, "one call's result is the next one's argument");
  assert.equal(calls[1].args[1], 2);
  assert.equal(calls[2].result, y._h);
  assert.deepEqual(torch.handleInfo(calls[0].result as torch.Handle), { shape: [2, 3], dtype: 'float32' });
  const bytes = torch.handleBytes(x._h);
  assert.deepEqual(new Float32Array(bytes.buffer, bytes.byteOffset, 6), x.data());
  torch.dispose([x, y]);
});

test('traces do not nest, async ops are refused inside one, and the observer ends with the trace', async () => {
  const x = torch.randn(4);
  const seen: string[] = [];
  assert.throws(
    () =>
      torch.traceOps(
        () =>
          torch.traceOps(
            () => 1,
            () => {},
          ),
        () => {},
      ),
    /a trace is already running; traces do not nest/,
  );
  await assert.rejects(
    torch.traceOps(
      () => torch.async.sub(x, 1),
      () => {},
    ),
    /runs on a background thread, which an operator trace cannot follow/,
  );
  assert.throws(() =>
    torch.traceOps(
      () => {
        throw new Error('inside');
      },
      () => {},
    ),
  );
  torch.traceOps(
    () => x.neg().dispose(),
    (c) => seen.push(name(c)),
  );
  x.abs().dispose(); // after the trace: not seen
  assert.deepEqual(seen, ['aten::neg']);
  x.dispose();
});
