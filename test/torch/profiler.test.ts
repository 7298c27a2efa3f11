import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';

const CONV_CALLS = 3;

/** CONV_CALLS rounds of conv2d + relu on a small batch, every result freed. */
function convRelu(x: torch.Tensor, w: torch.Tensor): void {
  for (let i = 0; i < CONV_CALLS; i++)
    torch.tidy(() => {
      torch.F.relu(torch.F.conv2d(x, w, null, { padding: 1 }));
    });
}

function withInputs<T>(fn: (x: torch.Tensor, w: torch.Tensor) => T): T {
  return torch.tidy(() => fn(torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3)));
}

test('profile records each dispatcher call with its nested calls, sane times and self ≤ total', () => {
  withInputs((x, w) => {
    convRelu(x, w); // warm-up: oneDNN builds its kernels on the first call
    const { events, callerThread, wallMs } = torch.profile(() => convRelu(x, w));
    const rows = torch.summarizeProfile(events);
    const row = (name: string) => rows.find((r) => r.name === name);
    assert.equal(row('aten::conv2d')?.calls, CONV_CALLS);
    assert.equal(row('aten::relu')?.calls, CONV_CALLS);
    // conv2d goes down through aten::convolution, once per call, nested inside it.
    assert.equal(row('aten::convolution')?.calls, CONV_CALLS);

    for (const e of events) {
      assert.ok(e.startUs >= 0 && e.endUs >= e.startUs, `${e.name}: ${e.startUs}..${e.endUs}`);
      assert.ok(e.selfUs >= 0 && e.selfUs <= e.endUs - e.startUs + 1e-9, `${e.name}: self ${e.selfUs}`);
    }
    for (const r of rows)
      assert.ok(r.selfMs <= r.totalMs + 1e-9 && r.totalMs >= 0, `${r.name}: self ${r.selfMs} > total ${r.totalMs}`);
    assert.ok(Math.abs(rows.reduce((s, r) => s + r.share, 0) - 1) < 1e-9);
    assert.deepEqual(
      rows.map((r) => r.selfMs),
      rows.map((r) => r.selfMs).sort((a, b) => b - a),
    );

    // The profiled code's own calls are the top level; what conv2d calls sits below it, and a call's
    // self time plus its descendants' self times is its total.
    const top = events.filter((e) => e.depth === 0 && e.thread === callerThread);
    assert.deepEqual([...new Set(top.map((e) => e.name))].sort(), ['aten::conv2d', 'aten::relu']);
    for (const conv of top.filter((e) => e.name === 'aten::conv2d')) {
      const inside = events.filter(
        (e) => e.thread === conv.thread && e !== conv && e.startUs >= conv.startUs && e.endUs <= conv.endUs,
      );
      assert.ok(inside.some((e) => e.name === 'aten::convolution' && e.depth === 1));
      const selfSum = conv.selfUs + inside.reduce((s, e) => s + e.selfUs, 0);
      assert.ok(
        Math.abs(selfSum - (conv.endUs - conv.startUs)) < 1,
        `conv2d: self times add up to ${selfSum}, total ${conv.endUs - conv.startUs}`,
      );
    }
    const topMs = top.reduce((s, e) => s + (e.endUs - e.startUs), 0) / 1000;
    assert.ok(topMs <= wallMs, `top-level ops ${topMs} ms within the profiled ${wallMs} ms`);
  });
});

test('nested profiles are rejected with a clear error; the profiler is off afterwards', () => {
  withInputs((x, w) => {
    assert.throws(
      () => torch.profile(() => torch.profile(() => convRelu(x, w))),
      /profile\(\): a profile is already running; profiles cannot be nested/,
    );
    // An error thrown by fn propagates and also stops the profiler.
    assert.throws(
      () =>
        torch.profile(() => {
          convRelu(x, w);
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.throws(() => torch.profile(async () => 1), /only synchronous code can be profiled/);

    // Calls made while no profile runs are not recorded: the next profile sees only its own.
    convRelu(x, w);
    const { events } = torch.profile(() =>
      torch.tidy(() => {
        torch.F.relu(x);
      }),
    );
    const rows = torch.summarizeProfile(events);
    assert.equal(rows.find((r) => r.name === 'aten::relu')?.calls, 1);
    assert.equal(
      rows.find((r) => r.name === 'aten::conv2d'),
      undefined,
    );
  });
});

test('profile runs only functions; summarizeProfile of nothing is empty', () => {
  assert.throws(
    () => torch.profile(42 as unknown as () => void),
    /profile\(\): expected a function to run, got number/,
  );
  assert.deepEqual(torch.summarizeProfile([]), []);
});
