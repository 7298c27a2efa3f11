// Optimizers against PyTorch 1.13: parameter trajectories over a grid of options, state dicts (layout,
// values, resuming from senet's and from PyTorch's), zeroGrad, memory, and hyper-parameter errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { Parameter } from '../../src/torch/nn/parameter.js';
import {
  loadFixture,
  fromFixture,
  assertClose,
  isFixtureTensor,
  PYTORCH_ONLY_GROUP_KEYS,
  type FixtureTensor,
} from '../helpers.js';

const { SGD, Adam, AdamW } = torch.optim;
type Optimizer = torch.optim.Optimizer<torch.optim.HyperParams>;

interface PyStateDict {
  state: Record<string, Record<string, FixtureTensor | number | null>>;
  param_groups: (Record<string, unknown> & { params: number[] })[];
}

interface OptimizerCase {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, unknown>;
  groups?: { params: number[]; options: Record<string, unknown> }[];
  /** The step (0-based) at which the second parameter has no gradient. */
  gap?: number;
  loss?: boolean;
  trajectory: FixtureTensor[][];
  midState: PyStateDict;
  finalState: PyStateDict;
}

interface Fixture {
  params0: FixtureTensor[];
  grads: FixtureTensor[][];
  lossX: FixtureTensor;
  lossY: FixtureTensor;
  optimizers: OptimizerCase[];
}

const fx = loadFixture<Fixture>('optim');
const TOL = { rtol: 1e-5, atol: 1e-6 };

/** Fresh leaf parameters with the given values (the fixture's start by default). */
function makeParams(values: FixtureTensor[] = fx.params0): Parameter[] {
  return torch.tidy(() => values.map((v) => new Parameter(fromFixture(v))));
}

function makeOptimizer(c: OptimizerCase, params: Parameter[]): Optimizer {
  const classes = { SGD, Adam, AdamW } as unknown as Record<string, new (p: unknown, o: unknown) => Optimizer>;
  const spec = c.groups ? c.groups.map((g) => ({ params: g.params.map((i) => params[i]), ...g.options })) : params;
  return new classes[c.optimizer](spec, c.options);
}

/** Sets the gradients of step `step` (0-based) as the fixture does: stored ones, or those of the loss. */
function setGradients(c: OptimizerCase, opt: Optimizer, params: Parameter[], step: number): void {
  torch.tidy(() => {
    if (c.loss) {
      opt.zeroGrad();
      const [w, b] = params;
      w.mm(fromFixture(fx.lossX)).add(b.unsqueeze(1)).sub(fromFixture(fx.lossY)).pow(2).sum().backward();
      return;
    }
    params.forEach((p, i) => {
      p.grad = step === c.gap && i === 1 ? null : fromFixture(fx.grads[step][i]);
    });
  });
}

/** Runs steps [from, to) and checks each step's parameters against PyTorch's. */
function runAndCompare(
  c: OptimizerCase,
  opt: Optimizer,
  params: Parameter[],
  from: number,
  to: number,
  what: string,
): void {
  for (let step = from; step < to; step++) {
    setGradients(c, opt, params, step);
    opt.step();
    params.forEach((p, i) =>
      assertClose(p, c.trajectory[step][i], TOL, `${c.name}, ${what}, step ${step + 1}, param ${i}`),
    );
  }
}

/** PyTorch's state dict (from the fixture) with tensors made senet tensors. */
function fromPyStateDict(sd: PyStateDict): torch.optim.OptimizerStateDict {
  const state: torch.optim.OptimizerStateDict['state'] = {};
  for (const [id, entry] of Object.entries(sd.state)) {
    state[id] = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, isFixtureTensor(v) ? fromFixture(v) : v]));
  }
  return { state, param_groups: sd.param_groups };
}

function cleanup(opt: Optimizer, params: Parameter[]): void {
  opt.dispose();
  torch.dispose(params);
}

for (const c of fx.optimizers) {
  test(`${c.name}: the parameters follow PyTorch's trajectory`, () => {
    const params = makeParams();
    const opt = makeOptimizer(c, params);
    runAndCompare(c, opt, params, 0, c.trajectory.length, 'uninterrupted');
    cleanup(opt, params);
  });
}

test("state dicts have PyTorch's layout, keys and values", () => {
  for (const c of fx.optimizers) {
    const params = makeParams();
    const opt = makeOptimizer(c, params);
    for (let step = 0; step < c.trajectory.length; step++) {
      setGradients(c, opt, params, step);
      opt.step();
    }
    const ours = opt.stateDict();
    const theirs = c.finalState;
    assert.equal(ours.param_groups.length, theirs.param_groups.length, `${c.name}: group count`);
    theirs.param_groups.forEach((expected, i) => {
      const kept = Object.fromEntries(Object.entries(expected).filter(([k]) => !PYTORCH_ONLY_GROUP_KEYS.has(k)));
      assert.deepEqual(ours.param_groups[i], kept, `${c.name}: param_groups[${i}]`);
    });
    assert.deepEqual(
      Object.keys(ours.state).sort(),
      Object.keys(theirs.state).sort(),
      `${c.name}: parameters with state`,
    );
    for (const [id, expected] of Object.entries(theirs.state)) {
      const actual = ours.state[id];
      assert.deepEqual(
        Object.keys(actual).sort(),
        Object.keys(expected).sort(),
        `${c.name}: state keys of parameter ${id}`,
      );
      for (const [key, value] of Object.entries(expected)) {
        const mine = actual[key];
        if (isFixtureTensor(value)) {
          assert.ok(mine instanceof torch.Tensor, `${c.name}: state ${id}.${key} should be a tensor`);
          assert.equal(mine.dtype, value.dtype, `${c.name}: dtype of ${id}.${key}`);
          assertClose(mine, value, TOL, `${c.name}: state ${id}.${key}`);
        } else {
          assert.equal(mine, value, `${c.name}: state ${id}.${key}`);
        }
      }
    }
    cleanup(opt, params);
  }
});

test('stateDict -> new optimizer -> loadStateDict continues exactly as an uninterrupted run', () => {
  for (const c of fx.optimizers) {
    const params = makeParams();
    const opt = makeOptimizer(c, params);
    runAndCompare(c, opt, params, 0, 3, 'before saving');
    const saved = opt.stateDict();
    // A new run: parameters restored from their values, a new optimizer given the saved state.
    const restored = torch.tidy(() => params.map((p) => new Parameter(p.detach().clone())));
    const resumed = makeOptimizer(c, restored);
    resumed.loadStateDict(saved);
    // The loaded state is a copy: the first optimizer moving on must not disturb it.
    runAndCompare(c, opt, params, 3, c.trajectory.length, 'original after saving');
    runAndCompare(c, resumed, restored, 3, c.trajectory.length, 'resumed');
    cleanup(opt, params);
    cleanup(resumed, restored);
  }
});

test("a state dict written by PyTorch loads and continues PyTorch's run", () => {
  for (const c of fx.optimizers) {
    const params = makeParams(c.trajectory[2]);
    const opt = makeOptimizer(c, params);
    const sd = torch.tidy(() => {
      const converted = fromPyStateDict(c.midState);
      opt.loadStateDict(converted);
      return undefined;
    });
    assert.equal(sd, undefined);
    runAndCompare(c, opt, params, 3, c.trajectory.length, "from PyTorch's state");
    cleanup(opt, params);
  }
});

test('a state saved with a numeric step (PyTorch before 1.12) is upgraded to a float32 step tensor', () => {
  const c = fx.optimizers.find((x) => x.name === 'Adam defaults')!;
  const params = makeParams(c.trajectory[2]);
  const opt = makeOptimizer(c, params);
  torch.tidy(() => {
    const sd = fromPyStateDict(c.midState);
    for (const entry of Object.values(sd.state)) entry.step = (entry.step as torch.Tensor).item();
    opt.loadStateDict(sd);
  });
  const step = opt.state.get(params[0])!.step;
  assert.ok(step instanceof torch.Tensor && step.dtype === 'float32' && step.item() === 3);
  runAndCompare(c, opt, params, 3, c.trajectory.length, 'from a numeric step');
  cleanup(opt, params);
});

test('step() frees every temporary: live tensors stay flat once the state exists; dispose() frees the state', () => {
  const cases = [
    ['Adam amsgrad + weight decay + maximize', 4, 'step, expAvg, expAvgSq, maxExpAvgSq'],
    ['Adam foreach amsgrad + weight decay + maximize', 4, 'step, expAvg, expAvgSq, maxExpAvgSq'],
    ['SGD foreach maximize + nesterov + weight decay', 1, 'momentumBuffer'],
  ] as const;
  for (const [name, statePerParam, what] of cases) {
    const c = fx.optimizers.find((x) => x.name === name)!;
    const params = makeParams();
    const opt = makeOptimizer(c, params);
    const grads = torch.tidy(() => params.map((p) => torch.keep(torch.onesLike(p))));
    params.forEach((p, i) => {
      p.grad = grads[i];
    });
    const before = torch.memory().tensors;
    opt.step();
    const afterFirst = torch.memory().tensors;
    assert.equal(afterFirst - before, params.length * statePerParam, `${name}: ${what} per parameter`);
    for (let i = 0; i < 5; i++) opt.step();
    assert.equal(torch.memory().tensors, afterFirst, name);
    opt.dispose();
    assert.equal(torch.memory().tensors, before, name);
    assert.equal(opt.state.size, 0);
    torch.dispose([grads, params]);
  }
});

test('foreach: true gives bit for bit the per-parameter results on a whole model, and leaves the gradients alone', () => {
  const makers: [string, (p: torch.Tensor[], foreach: boolean | null) => Optimizer][] = [
    ['SGD', (p, foreach) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, foreach })],
    ['Adam', (p, foreach) => new Adam(p, { lr: 0.01, weightDecay: 0.1, amsgrad: true, foreach })],
    ['AdamW', (p, foreach) => new AdamW(p, { lr: 0.01, maximize: true, foreach })],
  ];
  torch.manualSeed(0);
  const x = torch.keep(torch.randn(4, 3, 8, 8));
  const y = torch.keep(torch.tensor([0, 1, 2, 3], { dtype: 'int64' }));
  for (const [name, make] of makers) {
    const results = [null, true].map((foreach) => {
      torch.manualSeed(1);
      const model = new torch.nn.Sequential(
        new torch.nn.Conv2d(3, 8, 3, { padding: 1 }),
        new torch.nn.BatchNorm2d(8),
        new torch.nn.ReLU(),
        new torch.nn.AdaptiveAvgPool2d(1),
        new torch.nn.Flatten(),
        new torch.nn.Linear(8, 4),
      );
      const opt = make(model.parameters(), foreach);
      let gradsUnchanged = true;
      const opsOfStep = new Set<string>();
      for (let step = 0; step < 3; step++) {
        torch.tidy(() => {
          opt.zeroGrad();
          torch.F.crossEntropy(model.call(x), y).backward();
          const grads = model.parameters().map((p) => p.grad!.clone());
          torch.traceOps(
            () => opt.step(),
            (call) => opsOfStep.add(call.declaration.name),
          );
          model.parameters().forEach((p, i) => {
            gradsUnchanged &&= p.grad!.equal(grads[i]);
          });
        });
      }
      const values = model.parameters().map((p) => torch.keep(p.detach().clone()));
      opt.dispose();
      model.dispose();
      // The path really taken: only the foreach one calls libtorch's multi-tensor operators.
      const multiTensor = [...opsOfStep].some((op) => op.startsWith('aten::_foreach_'));
      assert.equal(multiTensor, foreach === true, `${name}, foreach ${foreach}: ops ${[...opsOfStep].join(', ')}`);
      return { values, gradsUnchanged };
    });
    const [perParameter, foreach] = results;
    perParameter.values.forEach((v, i) => assert.ok(v.equal(foreach.values[i]), `${name}: parameter ${i}`));
    assert.ok(foreach.gradsUnchanged, `${name}: foreach step changed a gradient`);
    torch.dispose(results.flatMap((r) => r.values));
  }
  torch.dispose([x, y]);
});

test('optimizer state is not freed by an enclosing tidy', () => {
  const params = makeParams();
  const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
  torch.tidy(() => {
    params.forEach((p) => {
      p.grad = torch.onesLike(p);
    });
    opt.step();
  });
  const buffer = opt.state.get(params[0])!.momentumBuffer as torch.Tensor;
  assert.equal(buffer.isDisposed, false);
  assert.deepEqual(buffer.toArray(), [
    [1, 1, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 1, 1],
  ]);
  cleanup(opt, params);
});

test('step() runs the closure with gradients enabled and returns its loss; parameters stay leaves', () => {
  const params = makeParams();
  const opt = new SGD(params, { lr: 0.01 });
  const [w, b] = params;
  const loss = torch.noGrad(() =>
    opt.step(() => {
      opt.zeroGrad();
      const value = w.mm(fromFixture(fx.lossX)).add(b.unsqueeze(1)).sub(fromFixture(fx.lossY)).pow(2).sum();
      value.backward();
      return value.item();
    }),
  );
  assert.equal(typeof loss, 'number');
  assert.ok(w.isLeaf && w.requiresGrad && w.gradFn === null);
  // The update was w - lr * grad.
  torch.tidy(() => assertClose(w, fromFixture(fx.params0[0]).sub(w.grad!.mul(0.01)), TOL, 'updated weight'));
  cleanup(opt, params);
});

test('zeroGrad() sets gradients to null; zeroGrad(false) zeroes them in place', () => {
  const params = makeParams();
  const opt = new Adam(params);
  torch.tidy(() =>
    params.forEach((p) => {
      p.grad = torch.onesLike(p);
    }),
  );
  opt.zeroGrad(false);
  for (const p of params) {
    const g = p.grad!;
    assert.deepEqual(g.shape, p.shape);
    assert.equal(g.abs().sum().item(), 0);
    assert.equal(g.requiresGrad, false);
    torch.dispose(g);
  }
  opt.zeroGrad();
  for (const p of params) assert.equal(p.grad, null);
  // Parameters without gradients are skipped: no state, no change.
  const before = torch.tidy(() => params.map((p) => p.clone()));
  opt.step();
  assert.equal(opt.state.size, 0);
  params.forEach((p, i) => assert.ok(p.equal(before[i])));
  torch.dispose(before);
  cleanup(opt, params);
});

test('parameter groups: per-group hyper-parameters, defaults filled in, addParamGroup', () => {
  const params = makeParams();
  const opt = new SGD([{ params: [params[0]], lr: 0.5 }], { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  opt.addParamGroup({ params: [params[1]], momentum: 0 });
  assert.equal(opt.paramGroups.length, 2);
  assert.deepEqual(
    { ...opt.paramGroups[0], params: undefined },
    {
      lr: 0.5,
      momentum: 0.9,
      dampening: 0,
      weightDecay: 1e-4,
      nesterov: false,
      maximize: false,
      foreach: null,
      params: undefined,
    },
  );
  assert.equal(opt.paramGroups[1].lr, 0.1);
  assert.equal(opt.paramGroups[1].momentum, 0);
  assert.throws(
    () => opt.addParamGroup({ params: [params[0]] }),
    /some parameters appear in more than one parameter group/,
  );
  cleanup(opt, params);
});

test('bad hyper-parameters and parameters give one clear error, as PyTorch raises them', () => {
  const params = makeParams();
  assert.throws(() => new SGD(params, { lr: -0.1 }), /SGD: Invalid learning rate: -0.1/);
  assert.throws(() => new SGD(params, { lr: 0.1, momentum: -1 }), /Invalid momentum value: -1/);
  assert.throws(() => new SGD(params, { lr: 0.1, weightDecay: -1e-4 }), /Invalid weight_decay value: -0.0001/);
  assert.throws(
    () => new SGD(params, { lr: 0.1, nesterov: true }),
    /Nesterov momentum requires a momentum and zero dampening/,
  );
  assert.throws(
    () => new SGD(params, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
    /Nesterov momentum requires/,
  );
  assert.throws(() => new SGD(params, {} as never), /SGD: lr is required/);
  assert.throws(
    () => new Adam(params, { foreach: 'yes' as never }),
    /Adam: foreach must be true, false or null, got yes/,
  );
  assert.throws(() => new Adam(params, { lr: -1 }), /Adam: Invalid learning rate: -1/);
  assert.throws(() => new Adam(params, { betas: [1, 0.999] }), /Invalid beta parameter at index 0: 1/);
  assert.throws(() => new Adam(params, { betas: [0.9, -0.1] }), /Invalid beta parameter at index 1: -0.1/);
  assert.throws(() => new AdamW(params, { betas: [0.9, 1.5] }), /AdamW: Invalid beta parameter at index 1: 1.5/);
  assert.throws(() => new Adam(params, { eps: -1e-8 }), /Invalid epsilon value/);
  assert.throws(() => new AdamW(params, { weightDecay: -0.01 }), /AdamW: Invalid weight_decay value/);
  // Per-group values are checked too.
  assert.throws(() => new Adam([{ params, lr: -0.5 }]), /Invalid learning rate: -0.5/);
  assert.throws(() => new Adam([]), /optimizer got an empty parameter list/);
  assert.throws(
    () => new SGD(params[0] as never, { lr: 0.1 }),
    /iterable of Tensors or parameter groups, got a single Tensor/,
  );
  assert.throws(
    () => new SGD([1, 2] as never, { lr: 0.1 }),
    /a parameter group must be an object|can only optimize Tensors/,
  );
  torch.tidy(() => {
    const nonLeaf = params[0].mul(2);
    assert.throws(() => new SGD([nonLeaf], { lr: 0.1 }), /can't optimize a non-leaf Tensor/);
  });
  torch.dispose(params);
});

test('AdamW defaults to weight decay 0.01; Adam to 0', () => {
  const params = makeParams();
  const adamw = new AdamW(params);
  const adam = new Adam(params);
  assert.equal(adamw.paramGroups[0].weightDecay, 0.01);
  assert.equal(adam.paramGroups[0].weightDecay, 0);
  assert.deepEqual(adam.paramGroups[0].betas, [0.9, 0.999]);
  torch.dispose(params);
});

test('loadStateDict rejects a state dict that does not fit, leaving the optimizer unchanged', () => {
  const params = makeParams();
  const opt = new SGD(params, { lr: 0.1, momentum: 0.9 });
  torch.tidy(() => {
    params.forEach((p) => {
      p.grad = torch.onesLike(p);
    });
    opt.step();
  });
  const good = opt.stateDict();
  assert.throws(
    () => opt.loadStateDict({ ...good, param_groups: [...good.param_groups, good.param_groups[0]] }),
    /has 2 parameter groups, this optimizer has 1/,
  );
  assert.throws(
    () => opt.loadStateDict({ ...good, param_groups: [{ ...good.param_groups[0], params: [0] }] }),
    /parameter group \(0\) with 1 parameters; this optimizer's group has 2/,
  );
  torch.tidy(() => {
    const wrongShape = { state: { 0: { momentum_buffer: torch.zeros(5) } }, param_groups: good.param_groups };
    assert.throws(
      () => opt.loadStateDict(wrongShape),
      /state 'momentum_buffer' of parameter 0 has shape \[5\], the parameter has shape \[3, 4\]/,
    );
  });
  assert.throws(
    () => opt.loadStateDict({ state: {}, param_groups: [{ ...good.param_groups[0], lr: -1 }] }),
    /Invalid learning rate: -1/,
  );
  assert.throws(() => opt.loadStateDict({ bad: 1 } as never), /expected \{ state, param_groups \}/);
  const buffer = opt.state.get(params[0])!.momentumBuffer as torch.Tensor;
  assert.equal(buffer.isDisposed, false);
  assert.equal(opt.paramGroups[0].lr, 0.1);
  cleanup(opt, params);
});
