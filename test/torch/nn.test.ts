// nn layers and Module behaviour against real PyTorch (fixtures by scripts/fixtures/make_nn.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import { assertClose, fromFixture, gradCheck, loadFixture, type FixtureTensor } from '../helpers.js';

type State = Record<string, FixtureTensor>;

interface LayerCase {
  training: boolean;
  state: State;
  input: FixtureTensor;
  gradOutput: FixtureTensor;
  output: FixtureTensor;
  inputGrad: FixtureTensor;
  paramGrads: State;
  stateAfter: State;
  repr: string;
}

interface LossCase {
  input: FixtureTensor;
  target: FixtureTensor;
  gradOutput: FixtureTensor;
  output: FixtureTensor;
  inputGrad: FixtureTensor;
  state: State;
}

interface Fixture {
  layers: Record<string, LayerCase>;
  dropout: Record<string, { seed: number; input: FixtureTensor; output: FixtureTensor }>;
  losses: Record<string, LossCase>;
  batchnormSteps: Record<
    string,
    { inputs: FixtureTensor[]; after: State; probe: FixtureTensor; evalOutput: FixtureTensor }
  >;
  composite: {
    keys: string[];
    applyOrder: string[];
    parameterNames: string[];
    bufferNames: string[];
    moduleNames: string[];
    numParameters: number;
    repr: string;
    state: State;
    input: FixtureTensor;
    trainOutput: FixtureTensor;
    stateAfterTrain: State;
    evalOutput: FixtureTensor;
    strictError: string;
  };
  seededInit: { compositeSeed: number; composite: State };
  reprs: string[];
}

const fx = loadFixture<Fixture>('nn');

/** A module whose forward takes one tensor. */
type Layer = nn.Module & { forward(input: Tensor): Tensor };

// Mirrors LAYERS in make_nn.py.
const LAYERS: Record<string, () => Layer> = {
  linear: () => new nn.Linear(5, 3),
  linear_nobias_3d: () => new nn.Linear(5, 3, { bias: false }),
  conv2d_stride_pad: () => new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 }),
  conv2d_groups_dilation: () =>
    new nn.Conv2d(4, 6, [3, 2], { padding: [2, 1], dilation: [2, 1], groups: 2, bias: false }),
  conv2d_same_even_kernel: () => new nn.Conv2d(2, 3, 4, { padding: 'same', dilation: 1 }),
  conv2d_valid: () => new nn.Conv2d(2, 3, 2, { padding: 'valid' }),
  conv2d_reflect: () => new nn.Conv2d(2, 3, 3, { padding: 1, paddingMode: 'reflect' }),
  conv2d_circular_same: () => new nn.Conv2d(2, 2, [2, 3], { padding: 'same', paddingMode: 'circular' }),
  conv1d: () => new nn.Conv1d(3, 4, 3, { stride: 2, padding: 1 }),
  conv1d_replicate_same: () => new nn.Conv1d(2, 2, 4, { padding: 'same', paddingMode: 'replicate', dilation: 2 }),
  batchnorm2d_train: () => new nn.BatchNorm2d(3),
  batchnorm2d_eval: () => new nn.BatchNorm2d(3, { eps: 1e-3 }),
  batchnorm2d_no_stats_eval: () => new nn.BatchNorm2d(3, { affine: false, trackRunningStats: false }),
  batchnorm1d_train_2d: () => new nn.BatchNorm1d(4, { momentum: 0.3 }),
  batchnorm1d_train_3d: () => new nn.BatchNorm1d(2, { momentum: null }),
  relu: () => new nn.ReLU(),
  relu6: () => new nn.ReLU6(),
  sigmoid: () => new nn.Sigmoid(),
  tanh: () => new nn.Tanh(),
  gelu: () => new nn.GELU(),
  gelu_tanh: () => new nn.GELU({ approximate: 'tanh' }),
  silu: () => new nn.SiLU(),
  hardsigmoid: () => new nn.Hardsigmoid(),
  hardswish: () => new nn.Hardswish(),
  softmax_dim1: () => new nn.Softmax(1),
  leaky_relu: () => new nn.LeakyReLU(0.2),
  maxpool2d: () => new nn.MaxPool2d(2),
  maxpool2d_ceil_pad: () => new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
  maxpool2d_dilation: () => new nn.MaxPool2d([2, 3], { stride: [1, 2], dilation: [2, 1] }),
  avgpool2d: () => new nn.AvgPool2d(2),
  avgpool2d_pad_exclude: () => new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
  avgpool2d_ceil_divisor: () => new nn.AvgPool2d(2, { ceilMode: true, divisorOverride: 3 }),
  adaptive_avgpool2d_1: () => new nn.AdaptiveAvgPool2d(1),
  adaptive_avgpool2d_uneven: () => new nn.AdaptiveAvgPool2d([3, 2]),
  adaptive_avgpool2d_none: () => new nn.AdaptiveAvgPool2d([null, 2]),
  adaptive_maxpool2d: () => new nn.AdaptiveMaxPool2d([2, 3]),
  flatten: () => new nn.Flatten(),
  flatten_0_2: () => new nn.Flatten(0, 2),
  identity: () => new nn.Identity(),
  dropout_eval: () => new nn.Dropout(0.4),
  dropout2d_eval: () => new nn.Dropout2d(0.4),
};

/** Float32 results of the same libtorch kernels: equal up to summation order. */
const TOL = { rtol: 1e-5, atol: 1e-6 };

function stateOf(state: State): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [k, fromFixture(v)]));
}

function assertState(module: nn.Module, expected: State, what: string): void {
  const actual = module.stateDict();
  assert.deepEqual(Object.keys(actual), Object.keys(expected), `${what}: state dict keys`);
  for (const [key, value] of Object.entries(expected)) {
    assert.equal(actual[key].dtype, value.dtype, `${what}: dtype of ${key}`);
    assertClose(actual[key], value, TOL, `${what}: ${key}`);
  }
}

test('every fixture layer case has a TypeScript counterpart', () => {
  assert.deepEqual(Object.keys(LAYERS).sort(), Object.keys(fx.layers).sort());
});

for (const [name, c] of Object.entries(fx.layers)) {
  test(`${name}: output, input and parameter gradients, buffers and repr equal PyTorch's`, () => {
    const layer = LAYERS[name]();
    torch.tidy(() => {
      assert.equal(layer.toString(), c.repr);
      layer.loadStateDict(stateOf(c.state));
      layer.train(c.training);
      const x = fromFixture(c.input).requiresGrad_();
      const out = layer.forward(x);
      assertClose(out, c.output, TOL, `${name} output`);
      out.backward(fromFixture(c.gradOutput));
      assertClose(x.grad!, c.inputGrad, TOL, `${name} input gradient`);
      const params = layer.namedParameters();
      assert.deepEqual(
        params.map(([k]) => k),
        Object.keys(c.paramGrads),
        `${name} parameter names`,
      );
      for (const [key, p] of params) assertClose(p.grad!, c.paramGrads[key], TOL, `${name} gradient of ${key}`);
      assertState(layer, c.stateAfter, name);
    });
    layer.dispose();
  });
}

// Finite differences in float64, independent of PyTorch, for layers with padding and windows logic.
for (const name of [
  'conv2d_reflect',
  'conv2d_circular_same',
  'conv1d_replicate_same',
  'conv2d_groups_dilation',
  'batchnorm2d_train',
  'avgpool2d_ceil_divisor',
  'adaptive_avgpool2d_uneven',
  'gelu_tanh',
]) {
  test(`${name}: input gradient passes a finite-difference check`, () => {
    const c = fx.layers[name];
    const layer = LAYERS[name]();
    torch.tidy(() => {
      layer.loadStateDict(stateOf(c.state));
      layer.to('float64').train(c.training);
      gradCheck((x) => layer.forward(x), [fromFixture(c.input)], {}, name);
    });
    layer.dispose();
  });
}

test('Dropout and Dropout2d draw the same masks as PyTorch from the default generator', () => {
  const layers: Record<string, Layer> = { dropout: new nn.Dropout(0.3), dropout2d: new nn.Dropout2d(0.5) };
  torch.tidy(() => {
    for (const [name, c] of Object.entries(fx.dropout)) {
      torch.manualSeed(c.seed);
      assertClose(layers[name].forward(fromFixture(c.input)), c.output, { rtol: 0, atol: 0 }, name);
    }
    const x = torch.randn(3, 4);
    assert.equal(layers.dropout.eval().forward(x).equal(x), true, 'identity in eval');
  });
});

const CLASS_WEIGHT = [1.0, 0.5, 2.0, 1.5]; // as in make_nn.py
type Loss = nn.Module & { forward(input: Tensor, target: Tensor): Tensor };
const LOSSES: Record<string, () => Loss> = {
  ce_mean: () => new nn.CrossEntropyLoss(),
  ce_sum_weight_smooth_ignore: () =>
    new nn.CrossEntropyLoss({ weight: torch.tensor(CLASS_WEIGHT), reduction: 'sum', labelSmoothing: 0.1 }),
  ce_none_smooth: () => new nn.CrossEntropyLoss({ reduction: 'none', labelSmoothing: 0.2 }),
  ce_mean_weight_ignore_index: () => new nn.CrossEntropyLoss({ weight: torch.tensor(CLASS_WEIGHT), ignoreIndex: 3 }),
  ce_probabilities: () => new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }),
  ce_spatial: () => new nn.CrossEntropyLoss(),
  mse_mean: () => new nn.MSELoss(),
  mse_sum: () => new nn.MSELoss({ reduction: 'sum' }),
  mse_none: () => new nn.MSELoss({ reduction: 'none' }),
};

for (const [name, c] of Object.entries(fx.losses)) {
  test(`${name}: loss, input gradient and state dict equal PyTorch's`, () => {
    torch.tidy(() => {
      const loss = LOSSES[name]();
      assertState(loss, c.state, name);
      const x = fromFixture(c.input).requiresGrad_();
      const out = loss.forward(x, fromFixture(c.target));
      assertClose(out, c.output, TOL, `${name} value`);
      out.backward(fromFixture(c.gradOutput));
      assertClose(x.grad!, c.inputGrad, TOL, `${name} input gradient`);
      loss.dispose();
    });
  });
}

test('losses reject bad options with a clear error', () => {
  assert.throws(
    () => new nn.CrossEntropyLoss({ labelSmoothing: 1.5 }),
    /labelSmoothing must be between 0 and 1, got 1.5/,
  );
  assert.throws(
    () => new nn.MSELoss({ reduction: 'avg' as never }),
    /reduction must be one of 'none', 'mean', 'sum', got 'avg'/,
  );
});

for (const [name, c] of Object.entries(fx.batchnormSteps)) {
  test(`BatchNorm2d (${name}): running statistics after 3 training steps and the eval output equal PyTorch's`, () => {
    const bn = new nn.BatchNorm2d(3, { momentum: name === 'momentum_null' ? null : 0.1 });
    torch.tidy(() => {
      for (const input of c.inputs) bn.forward(fromFixture(input));
      assert.equal(bn.numBatchesTracked!.item(), 3);
      assert.equal(bn.numBatchesTracked!.dtype, 'int64');
      assertState(bn, c.after, name);
      bn.eval();
      assertClose(bn.forward(fromFixture(c.probe)), c.evalOutput, TOL, `${name} eval output`);
      assert.equal(bn.numBatchesTracked!.item(), 3, 'eval does not count batches');
    });
    bn.dispose();
  });
}

test('BatchNorm rejects inputs of the wrong rank', () => {
  const bn2 = new nn.BatchNorm2d(3);
  const bn1 = new nn.BatchNorm1d(3);
  torch.tidy(() => {
    assert.throws(
      () => bn2.forward(torch.zeros(2, 3, 4)),
      /BatchNorm2d: expected 4D input \[N, C, H, W\] \(got 3D input\)/,
    );
    assert.throws(
      () => bn1.forward(torch.zeros(2, 3, 4, 4)),
      /BatchNorm1d: expected 2D \[N, C\] or 3D \[N, C, L\] input \(got 4D input\)/,
    );
  });
  bn1.dispose();
  bn2.dispose();
});

// ---- a composite model: names, order, state dicts, modes, hooks ----

/** The same model as Composite in make_nn.py, built in the same order. */
class Composite extends nn.Module {
  conv = new nn.Conv2d(3, 8, 3, { padding: 1, bias: false });
  bn = new nn.BatchNorm2d(8);
  relu = new nn.ReLU();
  pool = new nn.MaxPool2d(2);
  features = new nn.Sequential(
    new nn.Conv2d(8, 6, 3, { padding: 1 }),
    new nn.BatchNorm2d(6),
    new nn.ReLU(),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
  );
  heads = new nn.ModuleList([new nn.Linear(6, 4), new nn.Linear(6, 4, { bias: false })]);
  fc = new nn.Linear(6, 4);

  override extraRepr(): string {
    return 'width=8';
  }

  // Children are called as PyTorch calls them (module(x)): through call, so their hooks run.
  forward(x: Tensor): Tensor {
    const pooled = this.pool.call(this.relu.call(this.bn.call(this.conv.call(x))));
    const features = this.features.call(pooled) as Tensor;
    let y = this.fc.call(features);
    for (const head of this.heads) y = y.add(head.call(features));
    return y;
  }
}

const composite = fx.composite;

test("a composite model has PyTorch's state dict keys in order, names, parameter count and repr", () => {
  const model = new Composite();
  assert.deepEqual(Object.keys(model.stateDict()), composite.keys);
  assert.deepEqual(
    model.namedParameters().map(([k]) => k),
    composite.parameterNames,
  );
  assert.deepEqual(
    model.namedBuffers().map(([k]) => k),
    composite.bufferNames,
  );
  assert.deepEqual(
    model.namedModules().map(([k]) => k),
    composite.moduleNames,
  );
  assert.equal(model.numParameters(), composite.numParameters);
  assert.equal(model.toString(), composite.repr);
  model.dispose();
});

test("a composite model computes PyTorch's outputs and running statistics from loaded weights", () => {
  const model = new Composite();
  torch.tidy(() => {
    model.loadStateDict(stateOf(composite.state));
    const x = fromFixture(composite.input);
    assertClose(model.forward(x), composite.trainOutput, TOL, 'train output');
    assertState(model, composite.stateAfterTrain, 'after one training step');
    model.eval();
    assertClose(model.forward(x), composite.evalOutput, TOL, 'eval output');
  });
  model.dispose();
});

test("default initialisation after manualSeed equals PyTorch's for a whole model built in the same order", () => {
  torch.manualSeed(fx.seededInit.compositeSeed);
  const model = new Composite();
  const expected = fx.seededInit.composite;
  const actual = model.stateDict();
  assert.deepEqual(Object.keys(actual), Object.keys(expected));
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(Array.from(actual[key].data() as ArrayLike<number | bigint>, Number), value.data, key);
  }
  model.dispose();
});

test("strict loadStateDict lists missing, unexpected and mis-shaped keys in PyTorch's order and changes nothing", () => {
  const model = new Composite();
  torch.tidy(() => {
    const before = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, v.clone()]));
    const wrong = stateOf(composite.state);
    delete wrong['bn.running_var'];
    wrong['fc.weight'] = torch.zeros(3, 6);
    wrong['extra.weight'] = torch.zeros(1);
    let message = '';
    assert.throws(
      () => model.loadStateDict(wrong),
      (e: Error) => {
        message = e.message;
        return true;
      },
    );
    // The same problems, in the same order, as PyTorch's message.
    const problems = (text: string) =>
      text
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(':')[0]);
    assert.deepEqual(problems(message), problems(composite.strictError));
    assert.match(message, /^Error\(s\) in loading state_dict for Composite:/);
    assert.match(message, /Missing key\(s\) in state_dict: "bn.running_var"/);
    assert.match(message, /Unexpected key\(s\) in state_dict: "extra.weight"/);
    assert.match(
      message,
      /size mismatch for fc.weight: copying a param with shape \[3, 6\] from checkpoint, the shape in current model is \[4, 6\]/,
    );
    for (const [key, value] of Object.entries(model.stateDict()))
      assert.equal(value.equal(before[key]), true, `${key} unchanged`);
  });
  model.dispose();
});

test('non-strict loadStateDict copies what matches and returns the missing and unexpected keys', () => {
  const model = new Composite();
  torch.tidy(() => {
    const partial = stateOf(composite.state);
    delete partial['fc.bias'];
    delete partial['bn.num_batches_tracked'];
    partial['extra.weight'] = torch.zeros(1);
    const result = model.loadStateDict(partial, false);
    assert.deepEqual(result, { missingKeys: ['bn.num_batches_tracked', 'fc.bias'], unexpectedKeys: ['extra.weight'] });
    assertClose(model.fc.weight, composite.state['fc.weight'], { rtol: 0, atol: 0 }, 'fc.weight loaded');
    // A shape mismatch is an error even when not strict, as in PyTorch.
    assert.throws(() => model.loadStateDict({ 'fc.weight': torch.zeros(2, 2) }, false), /size mismatch for fc.weight/);
  });
  model.dispose();
});

test('train() and eval() reach every submodule', () => {
  const model = new Composite();
  assert.ok(model.modules().every((m) => m.training));
  model.eval();
  assert.ok(model.modules().every((m) => !m.training));
  assert.equal(model.features.at(1).training, false);
  model.train();
  assert.ok(model.modules().every((m) => m.training));
  model.dispose();
});

test("apply visits children before their parent, in PyTorch's order", () => {
  const model = new Composite();
  const order: string[] = [];
  model.apply((m) => order.push(m.constructor.name));
  assert.deepEqual(order, composite.applyOrder);
  model.dispose();
});

test('forward hooks see inputs and output, and stop after remove()', () => {
  const model = new Composite();
  torch.tidy(() => {
    // Shapes are read inside the hook: the model's forward frees its intermediate tensors when it returns.
    const calls: { module: nn.Module; inputShape: number[]; outputShape: number[] }[] = [];
    const handle = model.bn.registerForwardHook((module, inputs, output) => {
      calls.push({ module, inputShape: inputs[0].shape, outputShape: output.shape });
    });
    const x = torch.randn(1, 3, 6, 6);
    model.call(x);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], { module: model.bn, inputShape: [1, 8, 6, 6], outputShape: [1, 8, 6, 6] });
    handle.remove();
    handle.remove();
    model.call(x);
    assert.equal(calls.length, 1);
  });
  model.dispose();
});

/** A module with two inputs, to check that call and hooks are typed by forward's own signature. */
class ScaledSum extends nn.Module {
  forward(a: Tensor, b: Tensor): Tensor {
    // Two intermediates that only live inside forward.
    return a.mul(2).add(b.mul(3));
  }
}

test('call runs pre-hooks, forward and hooks in order; hooks may replace the arguments and the output', () => {
  const m = new ScaledSum();
  const log: string[] = [];
  torch.tidy(() => {
    const a = torch.tensor([1, 2]).float();
    const b = torch.tensor([10, 20]).float();
    const pre = m.registerForwardPreHook((module, [x, y]) => {
      log.push(`pre ${module === m} ${x.shape}`);
      return [x, y.neg()];
    });
    const post = m.registerForwardHook((_module, inputs, output) => {
      log.push(`post sees b=${inputs[1].data()}`);
      return output.add(1000);
    });
    // 2a + 3(-b) + 1000
    assert.deepEqual(Array.from(m.call(a, b).data() as ArrayLike<number>), [972, 944]);
    assert.deepEqual(log, ['pre true 2', 'post sees b=-10,-20']);
    pre.remove();
    post.remove();
    assert.deepEqual(Array.from(m.call(a, b).data() as ArrayLike<number>), [32, 64]);
    assert.equal(log.length, 2, 'removed hooks do not run');
    // @ts-expect-error: call takes forward's arguments (two tensors here), checked by the compiler
    assert.throws(() => m.call(a));
  });
});

test('hooks run per registration (the same function twice runs twice), and a hook may remove itself', () => {
  const relu = new nn.ReLU();
  const seen: number[] = [];
  const count = () => {
    seen.push(seen.length);
  };
  const first = relu.registerForwardHook(count);
  relu.registerForwardHook(count);
  const once = relu.registerForwardHook(() => {
    seen.push(-1);
    once.remove();
  });
  torch.tidy(() => {
    const x = torch.tensor([-1, 1]);
    relu.call(x);
    assert.deepEqual(seen, [0, 1, -1]);
    first.remove();
    relu.call(x);
    assert.deepEqual(seen, [0, 1, -1, 3], 'one registration left, and the self-removing hook is gone');
    relu.forward(x);
    assert.equal(seen.length, 4, 'forward called directly runs no hooks (as in PyTorch)');
  });
});

test("prepend puts a hook before those already registered, as PyTorch's prepend=True", () => {
  const relu = new nn.ReLU();
  const order: string[] = [];
  relu.registerForwardPreHook(() => {
    order.push('pre a');
  });
  relu.registerForwardPreHook(
    () => {
      order.push('pre b');
    },
    { prepend: true },
  );
  relu.registerForwardHook(() => {
    order.push('post a');
  });
  const c = relu.registerForwardHook(() => {
    order.push('post c');
  });
  relu.registerForwardHook(
    () => {
      order.push('post b');
    },
    { prepend: true },
  );
  c.remove();
  torch.tidy(() => {
    relu.call(torch.zeros(1));
  });
  assert.deepEqual(order, ['pre b', 'pre a', 'post b', 'post a']);
});

test("Sequential calls its children through call, so the children's hooks run", () => {
  const seq = new nn.Sequential(new nn.Linear(3, 2), new nn.ReLU());
  const shapes: number[][] = [];
  for (const layer of seq) {
    layer.registerForwardHook((_m, _inputs, output) => {
      shapes.push((output as Tensor).shape);
    });
  }
  torch.tidy(() => {
    seq.call(torch.ones(4, 3));
  });
  assert.deepEqual(shapes, [
    [4, 2],
    [4, 2],
  ]);
  seq.dispose();
});

test("call frees forward's intermediate tensors and hands the output to the caller's scope", () => {
  const m = new ScaledSum();
  torch.tidy(() => {
    const a = torch.ones(3);
    const b = torch.ones(3);
    const before = torch.memory().tensors;
    const direct = m.forward(a, b);
    assert.equal(torch.memory().tensors - before, 3, "forward alone leaves a·2 and b·3 alive in the caller's scope");
    const start = torch.memory().tensors;
    const called = m.call(a, b);
    assert.equal(torch.memory().tensors - start, 1, 'call leaves only the output');
    assert.deepEqual(Array.from(called.data() as ArrayLike<number>), Array.from(direct.data() as ArrayLike<number>));
    assert.equal(called.isDisposed, false);
  });
  const outer = torch.memory().tensors;
  const escaped = torch.tidy(() => m.call(torch.ones(2), torch.ones(2)));
  assert.equal(torch.memory().tensors - outer, 1, 'the output escapes an enclosing tidy that returns it');
  escaped.dispose();
});

test('a pre-hook that returns something other than an argument list fails clearly', () => {
  const relu = new nn.ReLU();
  relu.registerForwardPreHook((() => torch.zeros(1)) as never);
  torch.tidy(() => {
    assert.throws(() => relu.call(torch.zeros(1)), {
      message:
        'a forward pre-hook of ReLU returned an object (Tensor); ' +
        'expected nothing or the new argument list (an array, e.g. [x])',
    });
  });
  assert.throws(() => relu.registerForwardHook(42 as never), { message: 'a hook must be a function, got number 42' });
});

test('zeroGrad clears every gradient, to null by default or to zeros', () => {
  const model = new Composite();
  torch.tidy(() => {
    const backward = () =>
      model
        .forward(torch.randn(2, 3, 6, 6))
        .sum()
        .backward();
    backward();
    assert.ok(model.parameters().every((p) => p.grad !== null));
    model.zeroGrad(false);
    assert.ok(model.parameters().every((p) => p.grad!.abs().sum().item() === 0));
    backward();
    model.zeroGrad();
    assert.ok(model.parameters().every((p) => p.grad === null));
  });
  model.dispose();
});

test("to('float64') converts floating-point parameters and buffers in place, keeping parameter identity", () => {
  const model = new Composite();
  torch.tidy(() => {
    model.loadStateDict(stateOf(composite.stateAfterTrain));
    model.eval();
    const params = model.parameters();
    model.to('float64');
    const after = model.parameters();
    assert.equal(after.length, params.length);
    assert.ok(after.every((p, i) => p === params[i] && p.dtype === 'float64' && p.requiresGrad));
    assert.equal(model.bn.runningMean!.dtype, 'float64');
    // As in PyTorch, integer buffers keep their dtype.
    assert.equal(model.bn.numBatchesTracked!.dtype, 'int64');
    const out = model.forward(fromFixture(composite.input).double());
    assert.equal(out.dtype, 'float64');
    assertClose(out, composite.evalOutput, { rtol: 1e-4, atol: 1e-5 }, 'float64 eval output');
  });
  model.dispose();
});

// ---- constructors: repr and argument checking ----

test("layers print their arguments as PyTorch's repr does", () => {
  const layers: nn.Module[] = [
    new nn.Conv2d(3, 8, 3),
    new nn.Conv2d(4, 8, [3, 5], { stride: 2, padding: 1, dilation: 2, groups: 2, bias: false }),
    new nn.Conv2d(3, 8, 3, { padding: 'same' }),
    new nn.Conv2d(3, 8, 3, { padding: 'valid' }),
    new nn.Conv1d(3, 4, 3, { padding: 1, paddingMode: 'reflect' }),
    new nn.Linear(3, 4),
    new nn.Linear(3, 4, { bias: false }),
    new nn.BatchNorm2d(4),
    new nn.BatchNorm1d(4, { eps: 1e-3, momentum: null, affine: false, trackRunningStats: false }),
    new nn.BatchNorm2d(16, { eps: 1e-5, momentum: 0.01 }),
    new nn.ReLU(),
    new nn.ReLU({ inplace: true }),
    new nn.ReLU6(),
    new nn.Sigmoid(),
    new nn.Tanh(),
    new nn.GELU(),
    new nn.GELU({ approximate: 'tanh' }),
    new nn.SiLU(),
    new nn.Hardsigmoid(),
    new nn.Hardswish(),
    new nn.Softmax(1),
    new nn.LeakyReLU(),
    new nn.LeakyReLU(0.2),
    new nn.MaxPool2d(2),
    new nn.MaxPool2d([3, 2], { stride: 1, padding: 1, ceilMode: true }),
    new nn.AvgPool2d(2),
    new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
    new nn.AdaptiveAvgPool2d(1),
    new nn.AdaptiveAvgPool2d([null, 2]),
    new nn.AdaptiveMaxPool2d([2, 3]),
    new nn.Flatten(),
    new nn.Flatten(0, 2),
    new nn.Dropout(),
    new nn.Dropout2d(0.2),
    new nn.Identity(),
    new nn.CrossEntropyLoss(),
    new nn.MSELoss(),
  ];
  assert.deepEqual(layers.map(String), fx.reprs);
  for (const layer of layers) layer.dispose();
});

test('ReLU({ inplace: true }) overwrites its input', () => {
  torch.tidy(() => {
    const x = torch.tensor([-1, 2, -3]).float();
    const out = new nn.ReLU({ inplace: true }).forward(x);
    assert.equal(out, x);
    assert.deepEqual(x.toArray(), [0, 2, 0]);
  });
});

test('layer constructors reject bad arguments with errors naming them', () => {
  assert.throws(() => new nn.Linear(2.5, 3), /Linear: inFeatures must be a non-negative integer, got 2.5/);
  assert.throws(() => new nn.Conv2d(3, 8, 0), /Conv2d: kernelSize must be a positive integer, got 0/);
  assert.throws(
    () => new nn.Conv2d(3, 8, [3, 3, 3] as never),
    /Conv2d: kernelSize must be an integer or a list of 2 integers/,
  );
  assert.throws(
    () => new nn.Conv2d(3, 8, 3, { groups: 2 }),
    /Conv2d: inChannels \(3\) and outChannels \(8\) must both be divisible by groups \(2\)/,
  );
  assert.throws(
    () => new nn.Conv2d(3, 8, 3, { padding: 'same', stride: 2 }),
    /padding='same' is not supported for strided convolutions/,
  );
  assert.throws(
    () => new nn.Conv2d(3, 8, 3, { padding: 'full' as never }),
    /Conv2d: padding must be one of 'same', 'valid', got 'full'/,
  );
  assert.throws(() => new nn.Conv1d(3, 8, 3, { paddingMode: 'mirror' as never }), /Conv1d: paddingMode must be one of/);
  assert.throws(() => new nn.BatchNorm2d(-1), /BatchNorm2d: numFeatures must be a non-negative integer, got -1/);
  assert.throws(() => new nn.Dropout(1.5), /Dropout: p must be a probability between 0 and 1, got 1.5/);
  assert.throws(() => new nn.MaxPool2d([2, 0]), /MaxPool2d: kernelSize\[1\] must be a positive integer, got 0/);
  assert.throws(() => new nn.GELU({ approximate: 'fast' as never }), /GELU: approximate must be one of 'none', 'tanh'/);
});

test('layers take dtype and device for their parameters and buffers', () => {
  const conv = new nn.Conv2d(2, 3, 3, { dtype: 'float64' });
  const bn = new nn.BatchNorm2d(3, { dtype: 'float64' });
  assert.equal(conv.weight.dtype, 'float64');
  assert.equal(conv.bias!.dtype, 'float64');
  assert.equal(bn.runningVar!.dtype, 'float64');
  assert.equal(bn.numBatchesTracked!.dtype, 'int64');
  torch.tidy(() => {
    const out = bn.forward(conv.forward(torch.randn(1, 2, 5, 5, { dtype: 'float64' })));
    assert.equal(out.dtype, 'float64');
  });
  conv.dispose();
  bn.dispose();
});

test('layers leave no native tensors behind beyond their parameters and buffers', () => {
  const before = torch.memory().tensors;
  const conv = new nn.Conv2d(2, 3, 3, { paddingMode: 'reflect', padding: 1 });
  const bn = new nn.BatchNorm2d(3);
  const lin = new nn.Linear(4, 2);
  const loss = new nn.CrossEntropyLoss({ weight: torch.keep(torch.ones(2)) });
  assert.equal(torch.memory().tensors - before, 2 + 5 + 2 + 2, 'parameters, buffers, the weight and its buffer handle');
  torch.tidy(() => {
    const x = torch.randn(2, 2, 4, 4);
    const y = bn.forward(conv.forward(x));
    loss.forward(lin.forward(y.mean([2, 3]).narrow(1, 0, 2).repeat(1, 2)), torch.tensor([0, 1])).backward();
  });
  for (const m of [conv, bn, lin]) m.zeroGrad();
  conv.dispose();
  bn.dispose();
  lin.dispose();
  loss.dispose();
  assert.equal(torch.memory().tensors - before, 1, "only the caller's class weight remains");
});
