// The engine boundary under hostile input (README, "The engine boundary"). Every operator senet declares that
// reads an index-like argument is fed indices far out of range (2**40, -1e12, the int64 extremes) and must fail
// with a JS Error naming the problem; operators senet does not declare are refused by callOp before libtorch
// sees them (libtorch 1.13 reads searchsorted's `sorter` and ctc_loss's `targets` unchecked: SIGSEGV, or
// silent garbage). Those cases run in a child process, so that a crash fails one test instead of killing the
// test runner. Then the values JS code can pass wrong without any op: tensor data outside its dtype's range,
// shapes beyond 2**53 - 1 elements, and thread counts that would start thousands of threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import * as torch from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';
import { ROOT } from '../helpers.js';

const module = (path: string) =>
  JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'src', 'torch', ...path.split('/'))).href);

interface Outcome {
  name: string;
  /** The thrown value's constructor, or 'none' when the case did not throw. */
  error: string;
  message: string;
}

/**
 * Runs each case (an expression, sync or a promise, over `torch`, `callOp`, `long(values)` for an int64 tensor
 * and `B` = 2**40, `N` = -1e12) in one child process, one after the other, printing each outcome as it ends:
 * a crash shows as the child's signal, and the outcomes printed before it show which case it was in.
 */
function runCases(cases: Record<string, string>): {
  outcomes: Map<string, Outcome>;
  signal: string | null;
  stderr: string;
} {
  const script = `
    import * as torch from ${module('index.js')};
    import { callOp } from ${module('ops/dispatch.js')};
    const long = (values) => torch.tensor(values.map((v) => BigInt(v)), { dtype: 'int64' });
    const B = 2 ** 40, N = -1e12;
    const cases = { ${Object.entries(cases)
      .map(([name, code]) => `${JSON.stringify(name)}: async () => ${code}`)
      .join(',\n')} };
    for (const [name, run] of Object.entries(cases)) {
      console.log(JSON.stringify({ started: name }));
      let outcome;
      try {
        await run();
        outcome = { name, error: 'none', message: '' };
      } catch (error) {
        outcome = { name, error: error?.constructor?.name ?? typeof error, message: String(error?.message ?? error) };
      }
      console.log(JSON.stringify(outcome));
    }
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const outcomes = new Map<string, Outcome>();
  let started = '';
  for (const line of run.stdout.split('\n').filter(Boolean)) {
    const parsed = JSON.parse(line) as Outcome & { started?: string };
    if (parsed.started) started = parsed.started;
    else outcomes.set(parsed.name, parsed);
  }
  const signal = run.signal ? `${run.signal} in case '${started}'` : run.status !== 0 ? `exit ${run.status}` : null;
  return { outcomes, signal, stderr: run.stderr };
}

/** Asserts that every case threw a plain Error (a TypeError or RangeError for JS-side checks) matching its pattern. */
function assertEachFails(cases: Record<string, [code: string, message: RegExp]>): void {
  const { outcomes, signal, stderr } = runCases(
    Object.fromEntries(Object.entries(cases).map(([name, [code]]) => [name, code])),
  );
  assert.equal(signal, null, `the child process died: ${signal}\n${stderr}`);
  for (const [name, [, message]] of Object.entries(cases)) {
    const outcome = outcomes.get(name);
    assert.ok(outcome, `case '${name}' reported nothing`);
    assert.notEqual(outcome.error, 'none', `case '${name}' did not throw`);
    assert.match(outcome.error, /^(Error|TypeError|RangeError)$/, `case '${name}' threw ${outcome.error}`);
    assert.match(outcome.message, message, `case '${name}'`);
    assert.doesNotMatch(outcome.message, /Exception raised from|frame #\d/, `case '${name}': no C++ backtrace`);
  }
}

test('operators senet does not declare are refused by callOp, memory-unsafe ones included', () => {
  const refused = /callOp: '[a-z_:.A-Za-z]+' is not an operator senet declares, so it is refused/;
  assertEachFails({
    // The crash of issue 12: libtorch 1.13 indexes with `sorter` unchecked (SIGSEGV).
    'searchsorted, sorter -1e12': [
      "callOp('aten::searchsorted.Tensor', torch.tensor([1, 2, 3]).float(), " +
        'torch.tensor([2]).float(), false, false, null, long([N, N, N]))',
      refused,
    ],
    // Silently reads out of bounds and returns garbage.
    'searchsorted, sorter [1e9, 0, 1]': [
      "callOp('aten::searchsorted.Tensor', torch.tensor([1, 2, 3]).float(), " +
        'torch.tensor([2]).float(), false, false, null, long([1e9, 0, 1]))',
      refused,
    ],
    'searchsorted, sorter 2**40': [
      "callOp('aten::searchsorted.Tensor', torch.tensor([1, 2, 3]).float(), " +
        'torch.tensor([2]).float(), false, false, null, long([B, 0, 1]))',
      refused,
    ],
    // ctc_loss reads `targets` unchecked too (SIGSEGV).
    'ctc_loss, target 2**40': [
      "callOp('aten::ctc_loss.IntList', torch.ones(2, 1, 3), long([B]).reshape(1, 1), [2], [1])",
      refused,
    ],
    embedding_bag: ["callOp('aten::embedding_bag', torch.ones(3, 2), long([N]), long([0]))", refused],
    'unknown operator': ["callOp('aten::no_such_op', torch.ones(1))", refused],
    'unknown overload of a declared operator': ["callOp('aten::relu.no_such_overload', torch.ones(1))", refused],
  });
});

test('every declared operator with an index-like argument refuses out-of-range indices with an Error', () => {
  const outOfBounds = (index: string) => new RegExp(`index ${index} is out of bounds for dimension 0 with size 3`);
  const cases: Record<string, [string, RegExp]> = {};
  // Each index at both ends: far above, far below, and int64's extremes.
  for (const [label, value] of [
    ['2**40', 'B'],
    ['-1e12', 'N'],
    ['2**63 - 1', '2n ** 63n - 1n'],
    ['-2**63', '-(2n ** 63n)'],
  ] as const) {
    const shown = {
      '2**40': '1099511627776',
      '-1e12': '-1000000000000',
      '2**63 - 1': '9223372036854775807',
      '-2**63': '-9223372036854775808',
    }[label];
    const idx = `long([${value}])`;
    Object.assign(cases, {
      [`indexSelect ${label}`]: [`torch.ones(3).indexSelect(0, ${idx})`, /index out of range in self/],
      [`async indexSelect ${label}`]: [
        `torch.async.indexSelect(torch.ones(3), 0, ${idx})`,
        /index out of range in self/,
      ],
      [`gather ${label}`]: [`torch.ones(3).gather(0, ${idx})`, outOfBounds(shown)],
      [`scatter (tensor) ${label}`]: [`torch.ones(3).scatter(0, ${idx}, torch.ones(1))`, outOfBounds(shown)],
      [`scatter (value) ${label}`]: [`torch.ones(3).scatter(0, ${idx}, 5)`, outOfBounds(shown)],
      [`index ${label}`]: [`torch.ones(3).index([${idx}])`, outOfBounds(shown)],
      [`async index ${label}`]: [`torch.async.index(torch.ones(3), [${idx}])`, outOfBounds(shown)],
      [`nllLoss target ${label}`]: [
        `torch.F.nllLoss(torch.zeros(2, 3), long([0, ${value}]))`,
        new RegExp(`Target ${shown} is out of bounds`),
      ],
      [`crossEntropy target ${label}`]: [
        `torch.F.crossEntropy(torch.zeros(2, 3), long([${value}, 0]))`,
        new RegExp(`Target ${shown} is out of bounds`),
      ],
      [`embedding ${label}`]: [
        `torch.F.embedding(${idx}, torch.ones(3, 2))`,
        /embedding\(\): every index must be in \[0, 3\) \(the rows of weight\), got one outside/,
      ],
      [`nn.Embedding ${label}`]: [
        `new torch.nn.Embedding(3, 2, { paddingIdx: 0 }).forward(long([1, ${value}]))`,
        /embedding\(\): every index must be in \[0, 3\)/,
      ],
      [`aten::embedding ${label}`]: [
        `callOp('aten::embedding', torch.ones(3, 2), ${idx}, 1, true)`,
        /index out of range in self/,
      ],
      // A padding index is only compared with the indices, never used to read: out of range it is refused in JS.
      [`nn.Embedding paddingIdx ${label}`]: [
        `new torch.nn.Embedding(3, 2, { paddingIdx: ${value.includes('n') ? `Number(${value})` : value} })`,
        /Embedding: paddingIdx must be an integer in \[-3, 3\)/,
      ],
      [`oneHot ${label}`]: [
        `torch.F.oneHot(${idx}, 3)`,
        label.startsWith('-') ? /Class values must be non-negative/ : /Class values must be smaller than num_classes/,
      ],
    });
  }
  Object.assign(cases, {
    // bincount's output is as long as its largest value: 2**40 asks for 8 TiB, which the allocator refuses.
    'bincount 2**40': ['torch.bincount(long([B]))', /can't allocate memory: you tried to allocate 8796093038592 bytes/],
    'bincount -1e12': ['torch.bincount(long([N]))', /bincount only supports 1-d non-negative integral inputs/],
    'select 2**40': [
      'torch.ones(3).select(0, B)',
      /index 1099511627776 out of range for tensor of size \[3\] at dimension 0/,
    ],
    'select -1e12': [
      'torch.ones(3).select(0, N)',
      /index -1000000000000 out of range for tensor of size \[3\] at dimension 0/,
    ],
    // libtorch 1.13 checks narrow's start as if it were a dimension: the message misleads, but it is an Error.
    'narrow 2**40': [
      'torch.ones(3).narrow(0, B, 1)',
      /Dimension out of range \(expected to be in range of \[-3, 2\], but got 1099511627776\)/,
    ],
    'narrow -1e12': [
      'torch.ones(3).narrow(0, N, 1)',
      /Dimension out of range \(expected to be in range of \[-3, 2\], but got -1000000000000\)/,
    ],
    'asStrided past the storage': [
      "callOp('aten::as_strided', torch.ones(3), [3], [B])",
      /are out of bounds for storage of size 12/,
    ],
    'asStrided offset -1e12': [
      "callOp('aten::as_strided', torch.ones(3), [1], [1], N)",
      /Tensor: invalid storage offset -1000000000000/,
    ],
    'topk 2**40': ['torch.ones(3).topk(B)', /selected index k out of range/],
    // Quantization: libtorch checks quantize_per_channel's axis; the rest senet checks before the call
    // (qnnpack divides by groups, and reads past an input narrower than its packed weights).
    'quantize_per_channel axis 2**40': [
      "callOp('aten::quantize_per_channel', torch.ones(2, 3), torch.ones(2).double(), long([0, 0]), B, 12)",
      /Channel axis out of range in per channel affine quantization/,
    ],
    'quantize_per_channel axis -1e12': [
      "callOp('aten::quantize_per_channel', torch.ones(2, 3), torch.ones(2).double(), long([0, 0]), N, 12)",
      /Channel axis out of range in per channel affine quantization/,
    ],
    'makePerChannelQuantized axis 2**40': [
      "torch.quantization.makePerChannelQuantized(torch.ones([2, 3], { dtype: 'int8' }), torch.ones(2), B)",
      /makePerChannelQuantized: axis must be an integer in \[0, 1\], got 1099511627776/,
    ],
    'quantized conv2d prepack groups 0 (qnnpack)': [
      "(torch.quantization.setEngine('qnnpack'), torch.quantization.conv2dPrepack(" +
        "torch.quantization.makePerChannelQuantized(torch.ones([2, 3, 3, 3], { dtype: 'int8' }), torch.ones(2), 0), " +
        'null, [1, 1], [1, 1], [1, 1], 0))',
      /conv2dPrepack: groups must be an integer in \[1, 2\], got 0/,
    ],
    'quantized linear, input narrower than the weights (qnnpack)': [
      "(torch.quantization.setEngine('qnnpack'), torch.quantization.linear(" +
        "torch.quantization.quantizePerTensor(torch.ones(4, 2), 0.1, 0, 'quint8'), torch.quantization.linearPrepack(" +
        "torch.quantization.makePerChannelQuantized(torch.ones([2, 7], { dtype: 'int8' }), torch.ones(2), 0), null), 0.1, 0))",
      /quantized linear: expected an input \[N, 7\], got \[4, 2\]/,
    ],
    'quantize_per_tensor zero point 2**40': [
      "torch.quantization.quantizePerTensor(torch.ones(3), 0.1, B, 'quint8')",
      /zero point must be an integer in \[0, 255\], got 1099511627776/,
    ],
    'transpose dim 2**40': [
      'torch.ones(3).transpose(0, B)',
      /Dimension out of range \(expected to be in range of \[-1, 0\], but got 1099511627776\)/,
    ],
    'randperm 2**40': ['torch.randperm(B)', /can't allocate memory: you tried to allocate 8796093022208 bytes/],
    // oneHot's output has a column per class: 2**40 classes are 8 TiB, which the allocator refuses.
    'oneHot numClasses 2**40': ['torch.F.oneHot(long([0]), B)', /can't allocate memory: you tried to allocate/],
    'oneHot inferred from 2**40': ['torch.F.oneHot(long([B]))', /can't allocate memory: you tried to allocate/],
    // int64's largest value plus one (the inferred class count) wraps to a negative size.
    'oneHot inferred from 2**63 - 1': [
      'torch.F.oneHot(long([2n ** 63n - 1n]))',
      /cannot be represented as a SymInt: -9223372036854775808/,
    ],
    'aten::one_hot 2**62 classes': [
      "callOp('aten::one_hot', long([0]), 2 ** 62)",
      /Storage size calculation overflowed with sizes=\[1, 4611686018427387904\]/,
    ],
    'maskedSelect mask of another shape': [
      'torch.ones(3).maskedSelect(torch.ones(4).bool())',
      /The size of tensor a \(4\) must match the size of tensor b \(3\)/,
    ],
    'aten::masked_select int64 mask': [
      "callOp('aten::masked_select', torch.ones(3), long([B, 0, 1]))",
      /masked_select: expected BoolTensor or ByteTensor for mask/,
    ],
    'interpolate size 2**40': [
      'torch.F.interpolate(torch.ones(1, 1, 2, 2), { size: [B, B] })',
      /Storage size calculation overflowed with sizes=\[1, 1, 1099511627776, 1099511627776\]/,
    ],
    'aten::upsample_nearest2d size -1e12': [
      "callOp('aten::upsample_nearest2d.vec', torch.ones(1, 1, 2, 2), [N, 2], null)",
      /Input and output sizes should be greater than 0/,
    ],
    'aten::upsample_bilinear2d scale -1e12': [
      "callOp('aten::upsample_bilinear2d.vec', torch.ones(1, 1, 2, 2), null, false, [N, 2])",
      /Input and output sizes should be greater than 0/,
    ],
    'aten::upsample_bilinear2d size 2**40': [
      "callOp('aten::upsample_bilinear2d.vec', torch.ones(1, 1, 2, 2), [B, 2], false, null)",
      /can't allocate memory: you tried to allocate 8796093022208 bytes/,
    ],
  });
  assertEachFails(cases);
});

test('the multi-tensor (_foreach_) operators refuse lists that do not fit with an Error', () => {
  const [a, b] = ['torch.ones(3)', 'torch.ones(4)'];
  const mismatch = /The size of tensor a \(3\) must match the size of tensor b \(4\)/;
  assertEachFails({
    'empty list': ["callOp('aten::_foreach_add_.List', [], [], 1)", /no tensor arguments/],
    'lists of two lengths': [`callOp('aten::_foreach_add_.List', [${a}, ${a}], [${a}], 1)`, /same number of tensors/],
    'tensors of two shapes': [`callOp('aten::_foreach_add_.List', [${a}], [${b}], 1)`, mismatch],
    'a float into an int64 tensor': [
      `callOp('aten::_foreach_add_.List', [long([1, 2, 3])], [${a}], 1)`,
      /result type Float can't be cast to the desired output type Long/,
    ],
    'fewer scalars than tensors': [
      `callOp('aten::_foreach_div_.ScalarList', [${a}, ${a}], [2])`,
      /same number of elements as scalar list/,
    ],
    'a string among the scalars': [
      `callOp('aten::_foreach_div_.ScalarList', [${a}], ['x'])`,
      /argument 'scalars' expects a number or boolean, got string 'x'/,
    ],
    'addcdiv over two shapes': [`callOp('aten::_foreach_addcdiv_.ScalarList', [${a}], [${b}], [${a}], [1])`, mismatch],
    'a tensor for a list': [`callOp('aten::_foreach_neg', ${a})`, /argument 'self' expects Tensor\[\], got a tensor/],
  });
});

test('integer arguments beyond int64 are TypeErrors naming the argument, not wrapped to another value', () => {
  assertEachFails({
    'select 2**63': [
      'torch.ones(3).select(0, 2 ** 63)',
      /aten::select\.int: argument 'index' expects an integer in int64's range \[-2\*\*63, 2\*\*63 - 1\], got number 9223372036854776000/,
    ],
    'view 2**64': ['torch.ones(3).view(2 ** 64)', /aten::view: argument 'size' expects an integer in int64's range/],
    'bigint 2n**64n': ['torch.ones(3).select(0, 2n ** 64n)', /argument 'index' expects an integer in int64's range/],
  });
});

test('dtype, layout and memory-format codes outside their enum are TypeErrors, not table reads out of bounds', () => {
  assertEachFails({
    'zeros dtype 999': [
      "callOp('aten::zeros', [2], 999)",
      /aten::zeros: argument 'dtype' expects ScalarType code from 0 to \d+, got number 999/,
    ],
    'zeros dtype -1': ["callOp('aten::zeros', [2], -1)", /argument 'dtype' expects ScalarType code from 0 to/],
    'zeros layout 77': ["callOp('aten::zeros', [2], null, 77)", /argument 'layout' expects Layout code from 0 to/],
    'contiguous format 9': [
      "callOp('aten::contiguous', torch.ones(2), 9)",
      /argument 'memory_format' expects MemoryFormat code from 0 to/,
    ],
  });
});

test('tensor() refuses a value its dtype cannot hold, naming the value and the range, instead of wrapping it', () => {
  const int64 = /\[-9223372036854775808, 9223372036854775807\]/.source;
  assert.throws(
    () => torch.tensor([2n ** 70n]),
    new RegExp(
      `^RangeError: tensor\\(\\): 1180591620717411303424n is outside ` +
        `the range of int64, ${int64} \\(the dtype inferred from integer data\\); pass \\{ dtype: 'float64' \\}`,
    ),
  );
  assert.throws(
    () => torch.tensor([-(2n ** 64n) - 5n]),
    /tensor\(\): -18446744073709551621n is outside the range of int64/,
  );
  assert.throws(() => torch.tensor([1e20]), /tensor\(\): 100000000000000000000 is outside the range of int64/);
  assert.throws(() => torch.tensor([2 ** 63]), /tensor\(\): 9223372036854776000 is outside the range of int64/);
  assert.throws(
    () => torch.tensor([2 ** 31], { dtype: 'int32' }),
    /tensor\(\): 2147483648 is outside the range of int32/,
  );
  assert.throws(
    () => torch.tensor([1e20], { dtype: 'int32' }),
    /^RangeError: tensor\(\): 100000000000000000000 is outside the range of int32, \[-2147483648, 2147483647\]$/,
  );
  assert.throws(
    () => torch.tensor([300], { dtype: 'uint8' }),
    /tensor\(\): 300 is outside the range of uint8, \[0, 255\]/,
  );
  assert.throws(
    () => torch.tensor([-129], { dtype: 'int8' }),
    /tensor\(\): -129 is outside the range of int8, \[-128, 127\]/,
  );
  assert.throws(() => torch.tensor([40000], { dtype: 'int16' }), /tensor\(\): 40000 is outside the range of int16/);
  assert.throws(() => torch.tensor([NaN], { dtype: 'int32' }), /tensor\(\): NaN is outside the range of int32/);
  assert.throws(
    () => torch.tensor([2n ** 40n], { dtype: 'int32' }),
    /tensor\(\): 1099511627776n is outside the range of int32/,
  );
  torch.tidy(() => {
    // The extremes themselves are kept exactly; floats in range are truncated toward zero, as torch.tensor does.
    assert.deepEqual(
      torch.tensor([2n ** 63n - 1n, -(2n ** 63n)]).data(),
      BigInt64Array.from([2n ** 63n - 1n, -(2n ** 63n)]),
    );
    assert.deepEqual(
      torch.tensor([2147483647, -2147483648, -1.5, true], { dtype: 'int32' }).toArray(),
      [2147483647, -2147483648, -1, 1],
    );
    assert.deepEqual(torch.tensor([255, 0.5], { dtype: 'uint8' }).toArray(), [255, 0]);
    assert.deepEqual(torch.tensor([-(2 ** 63)]).data(), BigInt64Array.from([-(2n ** 63n)]));
    assert.deepEqual(torch.tensor([2n ** 70n], { dtype: 'float64' }).toArray(), [2 ** 70]);
  });
});

test('creating a tensor larger than 2**53 - 1 elements is one RangeError naming the shape and the limit', () => {
  const limit =
    /is too large: a tensor holds at most 2\*\*53 - 1 = 9007199254740991 elements, and each size is at most that/;
  const cases: [() => unknown, string][] = [
    [() => torch.zeros([2 ** 63]), 'zeros(): the shape [9223372036854776000]'],
    [() => torch.ones(2 ** 31, 2 ** 31, 4), 'ones(): the shape [2147483648, 2147483648, 4]'],
    [() => torch.empty([2 ** 64]), 'empty(): the shape [18446744073709552000]'],
    [() => torch.randn([2 ** 53, 0]), 'randn(): the shape [9007199254740992, 0]'],
    [() => torch.full([2 ** 63], 1), 'full(): the shape [9223372036854776000]'],
    [() => torch.randint(0, 5, [2 ** 63]), 'randint(): the shape [9223372036854776000]'],
    [() => torch.tensor([1, 2], { shape: [2 ** 63] }), 'tensor(): the shape [9223372036854776000]'],
  ];
  for (const [create, start] of cases) {
    assert.throws(create, (error: unknown) => {
      assert.ok(error instanceof RangeError, String(error));
      assert.ok(error.message.startsWith(start), error.message);
      assert.match(error.message, limit);
      return true;
    });
  }
  // Below the limit, what is too large for memory is libtorch's allocation error, with the byte count.
  assert.throws(() => torch.zeros([2 ** 50]), /can't allocate memory: you tried to allocate 4503599627370496 bytes/);
});

test('thread counts above 4 per core (at most 1024) are refused before libtorch starts a pool', () => {
  const max = Math.min(1024, 4 * availableParallelism());
  assert.equal(torch.maxThreads(), max);
  const message = new RegExp(
    `^setNumThreads\\(\\): expected a whole number of threads from 1 to ${max} \\(4 per core on ` +
      `this machine's ${availableParallelism()} cores, at most 1024\\), got 100000$`,
  );
  const before = torch.getNumThreads();
  assert.throws(
    () => torch.setNumThreads(100000),
    (e: unknown) => e instanceof RangeError && message.test(e.message),
  );
  assert.throws(() => torch.setNumThreads(max + 1), RangeError);
  assert.throws(() => torch.setNumThreads(0), RangeError);
  assert.throws(
    () => torch.async.setNumThreads(100000),
    /async\.setNumThreads\(\): expected a whole number of threads from 1/,
  );
  assert.equal(torch.getNumThreads(), before, 'a refused count changes nothing');
  torch.setNumThreads(max);
  assert.equal(torch.getNumThreads(), max);
  torch.setNumThreads(before);
});

test('the addon refuses a buffer shape entry of 2**63 or more (a file header may carry one), not casting it', () => {
  const float32 = native.scalarTypes.float32;
  for (const shape of [[2 ** 63], [2 ** 64, 0], [1e300]]) {
    assert.throws(
      () => native.fromBuffer(new Float32Array(0), shape, float32),
      (error: unknown) =>
        error instanceof TypeError &&
        /^fromBuffer: shape entries must be integers from 0 to 2\*\*63 - 1, got \S+ at position 0$/.test(error.message),
    );
  }
});
