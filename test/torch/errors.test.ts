// Failure behaviour of the engine: libtorch's C++ exceptions become JS Errors carrying libtorch's message
// (without a C++ backtrace) and never take the process down; bad JS arguments become TypeErrors naming the
// argument; failing ops neither leak native tensors nor grow memory when repeated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as torch from '../../src/torch/index.js';
import { callOp, defineAsyncOp, opSchema } from '../../src/torch/ops/dispatch.js';
import { native } from '../../src/torch/native.js';
import { ROOT } from '../helpers.js';

const { F } = torch;

/** Asserts fn throws a plain Error (not a TypeError) whose message matches, with no C++ trace in it. */
function assertTorchError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Error, 'a JS Error');
    assert.equal(error.constructor, Error, `a plain Error, got ${error.constructor.name}: ${error.message}`);
    assert.match(error.message, message);
    assertNoBacktrace(error.message);
    return true;
  });
}

function assertNoBacktrace(message: string): void {
  // libtorch's backtraces read "Exception raised from f at file.cpp:12 (most recent call first):\nframe #0: ...".
  assert.doesNotMatch(
    message,
    /Exception raised from|most recent call first|frame #\d/,
    `no C++ backtrace in: ${message}`,
  );
}

/** Asserts fn throws a TypeError whose message matches (naming the argument at fault). */
function assertTypeError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TypeError, `a TypeError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

test("shape and dtype mistakes inside libtorch become Errors with libtorch's message", () => {
  torch.tidy(() => {
    assertTorchError(() => torch.ones(6).view(4, 2), /shape '\[4, 2\]' is invalid for input of size 6/);
    assertTorchError(
      () => torch.ones(2, 3).matmul(torch.ones(2, 3)),
      /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/,
    );
    assertTorchError(() => torch.ones(2, 2).bmm(torch.ones(2, 2)), /batch1 must be a 3D tensor/);
    assertTorchError(
      () => F.conv2d(torch.ones(1, 4, 5, 5), torch.ones(2, 3, 3, 3)),
      /expected input\[1, 4, 5, 5\] to have 3 channels, but got 4 channels instead/,
    );
    assertTorchError(
      () => F.crossEntropy(torch.ones(3, 4), torch.ones(2, 4)),
      /Expected input batch_size \(3\) to match target batch_size \(2\)/,
    );
    assertTorchError(
      () => F.crossEntropy(torch.ones(3, 4), torch.ones(3)),
      /expected scalar type Long but found Float/,
    );
    assertTorchError(() => torch.stack([torch.ones(2), torch.ones(3)]), /stack expects each tensor to be equal size/);
    assertTorchError(() => torch.cat([]), /expected a non-empty list of Tensors/);
    assertTorchError(
      () => torch.ones(3).expand(2),
      /The expanded size of the tensor \(2\) must match the existing size \(3\)/,
    );
  });
});

test('indices out of range become Errors, whichever op reads them', () => {
  torch.tidy(() => {
    const x = torch.ones(3);
    assertTorchError(() => x.indexSelect(0, torch.tensor([5])), /index out of range in self/);
    assertTorchError(() => x.select(0, 5), /index 5 out of range for tensor of size \[3\] at dimension 0/);
    assertTorchError(() => x.gather(0, torch.tensor([5])), /index 5 is out of bounds for dimension 0 with size 3/);
    assertTorchError(() => x.index([torch.tensor([-4])]), /index -4 is out of bounds for dimension 0 with size 3/);
    assertTorchError(() => F.nllLoss(torch.zeros(3, 4), torch.tensor([0, 1, 7])), /Target 7 is out of bounds/);
    assertTorchError(
      () => x.transpose(0, 3),
      /Dimension out of range \(expected to be in range of \[-1, 0\], but got 3\)/,
    );
  });
});

test('autograd and runtime failures become Errors too', () => {
  torch.tidy(() => {
    assertTorchError(
      () => torch.ones(3).requiresGrad_().mul(2).backward(),
      /grad can be implicitly created only for scalar outputs/,
    );
    assertTorchError(() => torch.ones(1).backward(), /does not require grad and does not have a grad_fn/);
    assertTorchError(
      () => torch.ones(3).requiresGrad_().mul(2).backward(torch.ones(2)),
      /invalid gradient at index 0 - got \[2\]/,
    );
    assertTorchError(
      () => torch.ones(2).requiresGrad_().add_(1),
      /a leaf Variable that requires grad is being used in an in-place operation/,
    );
    assertTorchError(
      () => new torch.Generator(1).setState(torch.zeros([3], { dtype: 'uint8' })),
      /RNG state size to be 3/,
    );
    assertTorchError(() => torch.empty(1e12), /can't allocate memory/);
  });
});

test('a std::exception that is not a c10::Error also becomes an Error with its message', () => {
  // The addon's operator lookup throws std::invalid_argument, which the same guard catches.
  torch.tidy(() => {
    assertTorchError(
      () => opSchema('aten::relu.no_such_overload'),
      /unknown libtorch operator 'aten::relu.no_such_overload'/,
    );
  });
});

test("a tensor argument given a non-tensor is a TypeError naming the operator's argument", () => {
  torch.tidy(() => {
    const x = torch.ones(2);
    assertTypeError(() => x.add('a' as never), /aten::add\.Tensor: argument 'other' expects a tensor, got string 'a'/);
    assertTypeError(() => x.mul(null as never), /aten::mul\.Tensor: argument 'other' expects a tensor, got null/);
    assertTypeError(() => x.matmul({} as never), /aten::matmul: argument 'other' expects a tensor, got an object/);
    assertTypeError(
      () => F.conv2d('x' as never, torch.ones(1, 1, 1, 1)),
      /aten::conv2d: argument 'input' expects a tensor, got string 'x'/,
    );
    assertTypeError(
      () => torch.cat([x, 'x' as never]),
      /aten::cat: argument 'tensors' expects a list of tensors, got string 'x'/,
    );
    assertTypeError(() => torch.where(1 as never, x, 0), /argument 'condition' expects a tensor, got number 1/);
    assertTypeError(
      () => x.addcmul(x, [1] as never),
      /aten::addcmul: argument 'tensor2' expects a tensor, got an array/,
    );
    assertTypeError(() => x.add(new torch.Generator(1) as never), /argument 'other' expects a tensor, got a generator/);
    assertTypeError(
      () => F.crossEntropy(x, x, { weight: 'w' as never }),
      /argument 'weight' expects Tensor\?, got string 'w'|argument 'weight' expects a tensor/,
    );
  });
});

test('non-integer shapes and sizes are TypeErrors naming the argument', () => {
  torch.tidy(() => {
    assertTypeError(() => torch.zeros(2.5), /zeros\(\): the shape must be non-negative integers, got \[2\.5\]/);
    assertTypeError(() => torch.ones([-1]), /ones\(\): the shape must be non-negative integers, got \[-1\]/);
    assertTypeError(
      () => torch.ones(4).reshape(2, 1.5),
      /aten::reshape: argument 'shape' expects an integer, got number 1\.5/,
    );
    assertTypeError(
      () => torch.ones(4).view('a' as never),
      /aten::view: argument 'size' expects an integer, got string 'a'/,
    );
    assertTypeError(() => torch.ones(4).sum(0.5), /argument 'dim' expects an integer, got number 0\.5/);
    assertTypeError(
      () => torch.tensor(new Float32Array(3), { shape: [2, 2] }),
      /fromBuffer: 12 bytes given, but a Float tensor of shape \[2, 2\] needs 16/,
    );
    assertTypeError(() => torch.tensor([[1, 2], [3]]), /nested arrays must be rectangular/);
    assertTypeError(() => torch.tensor(['a'] as never), /tensor\(\): expected numbers or booleans, got string/);
    assertTypeError(
      () => torch.randint(0, 5, 3 as never),
      /randint\(\): expected the shape as an array of integers, got 3/,
    );
  });
});

test('unknown dtypes and devices are TypeErrors listing what is accepted', () => {
  torch.tidy(() => {
    const dtypes = /expected one of float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool/;
    assertTypeError(() => torch.zeros([2], { dtype: 'float8' as never }), /unknown dtype 'float8'/);
    assertTypeError(() => torch.tensor([1], { dtype: 'foo' as never }), dtypes);
    assertTypeError(() => torch.ones(2).sum(undefined, false, 'double' as never), /unknown dtype 'double'/);
    assertTypeError(() => torch.ones(2).to('float8' as never), /'float8' is neither a dtype .* nor a device/);
    assertTypeError(
      () => torch.ones(2).to({ device: 'gpu0' }),
      /to\(\): unknown device 'gpu0': expected 'cpu', 'cuda', 'cuda:1'/,
    );
    assertTypeError(() => torch.ones([2], { device: 'tpu' }), /ones\(\): unknown device 'tpu'/);
    assertTypeError(
      () => callOp('aten::to.device', torch.ones(1), 'gpu0', 6),
      /aten::to\.device: argument 'device' expects a device string such as 'cpu' or 'cuda:0', got string 'gpu0'/,
    );
  });
});

test('a disposed tensor is a TypeError wherever it is used', () => {
  torch.tidy(() => {
    const x = torch.ones(2);
    x.dispose();
    assertTypeError(() => torch.ones(2).add(x), /aten::add\.Tensor argument 'other': the tensor was already disposed/);
    assertTypeError(() => x.add(1), /argument 'self': the tensor was already disposed/);
    assertTypeError(() => x.shape, /shape: the tensor was already disposed/);
    assertTypeError(() => x.data(), /the tensor was already disposed/);
    assertTypeError(() => x.requiresGrad, /requiresGrad: the tensor was already disposed/);
    assertTypeError(() => torch.cat([x]), /the tensor was already disposed/);
  });
});

test('wrong numbers of operator arguments are TypeErrors', () => {
  torch.tidy(() => {
    // The addon's own count check, behind callOp's (which refuses more arguments than declared).
    assertTypeError(
      () => native.call(native.op('aten::neg', '').id, torch.ones(1)._h, 1, 2),
      /aten::neg: takes 1 arguments, got 3/,
    );
    assertTypeError(
      () => callOp('aten::relu', torch.ones(1), 1),
      /aten::relu: senet passed 2 arguments, but declared only \(self\)/,
    );
    assertTypeError(() => callOp('aten::add.Tensor', torch.ones(1)), /aten::add\.Tensor: missing argument 'other'/);
    assertTypeError(() => callOp('aten::relu'), /aten::relu: missing argument 'self'/);
  });
});

test('a failing op repeated many times leaks no native tensor or storage', () => {
  const failOnce = () =>
    torch.tidy(() => {
      const a = torch.ones(64, 64);
      assert.throws(() => a.matmul(torch.ones(32, 64)), /cannot be multiplied/);
      assert.throws(() => a.view(7, 7), /is invalid for input of size/);
      assert.throws(() => a.add('x' as never), TypeError);
    });
  failOnce();
  const before = torch.memory();
  for (let i = 0; i < 2000; i++) failOnce();
  assert.deepEqual(torch.memory(), before, 'the same live tensors, storages and bytes as before the loop');
});

test("async operator calls reject with libtorch's message and leave no tensor behind", async () => {
  const mm = defineAsyncOp('aten::mm(self, mat2)');
  const a = torch.ones(2, 3);
  const before = torch.memory().tensors;
  for (let i = 0; i < 20; i++) {
    await assert.rejects(mm(a, a), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
      assertNoBacktrace(error.message);
      return true;
    });
  }
  assert.equal(torch.memory().tensors, before);
  const ok = new torch.Tensor((await mm(a, a.t())) as never);
  assert.deepEqual(ok.toArray(), [
    [3, 3],
    [3, 3],
  ]);
  torch.dispose([a, ok]);
});

// In a process of its own: a burst of failing ops of every kind must not abort it, and a long loop of
// failing ops must not grow its resident memory. glibc is told to serve large blocks by mmap, so that a
// freed tensor's memory returns to the system at once: otherwise its heap may keep freed blocks (a
// growth that is not a leak), and only a real leak shows here. Each loop iteration makes 384 KiB of
// tensors, so leaking them would add 190 MiB.
test('a separate process survives a burst of failing ops, and repeating them does not grow its memory', () => {
  const index = pathToFileURL(join(ROOT, 'dist', 'src', 'torch', 'index.js')).href;
  const dispatch = pathToFileURL(join(ROOT, 'dist', 'src', 'torch', 'ops', 'dispatch.js')).href;
  const script = `
    import * as torch from ${JSON.stringify(index)};
    import { callOp } from ${JSON.stringify(dispatch)};
    const attempts = [
      () => torch.ones(6).view(4, 2),
      () => torch.ones(2, 3).matmul(torch.ones(2, 3)),
      () => torch.F.conv2d(torch.ones(1, 4, 5, 5), torch.ones(2, 3, 3, 3)),
      () => torch.F.crossEntropy(torch.ones(3, 4), torch.ones(2, 4)),
      () => torch.ones(3).indexSelect(0, torch.tensor([9])),
      () => torch.ones(3).index([torch.tensor([9])]),
      () => callOp('aten::embedding', torch.ones(3, 2), torch.tensor([9])),
      () => callOp('aten::zeros', [2], 999),
      () => torch.empty(1e12),
    ];
    let caught = 0;
    for (let round = 0; round < 20; round++) for (const attempt of attempts) {
      try { torch.tidy(attempt); } catch { caught++; }
    }
    const failOnce = () => torch.tidy(() => {
      const a = torch.ones(256, 256);
      const b = torch.ones(128, 256);
      for (const attempt of [() => a.matmul(b), () => a.view(7, 7), () => a.add('x')]) {
        try { attempt(); } catch { caught++; }
      }
    });
    for (let i = 0; i < 50; i++) failOnce();
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < 500; i++) failOnce();
    const grownMiB = (process.memoryUsage().rss - rss) / 2 ** 20;
    console.log(JSON.stringify({ caught, grownMiB }));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: String(128 * 1024) },
  });
  assert.equal(run.signal, null, `the process was killed by ${run.signal}: ${run.stderr}`);
  assert.equal(run.status, 0, run.stderr);
  const { caught, grownMiB } = JSON.parse(run.stdout) as { caught: number; grownMiB: number };
  assert.equal(caught, 20 * 9 + 550 * 3, 'every attempt failed with a catchable error');
  assert.ok(grownMiB < 32, `resident memory grew ${grownMiB.toFixed(1)} MiB over 500 failing iterations`);
});
