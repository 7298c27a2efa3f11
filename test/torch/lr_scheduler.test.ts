// Learning-rate schedules against PyTorch 1.13: each schedule's learning rates (and OneCycleLR's
// momentum / beta1) step by step, state dicts (PyTorch's keys; resuming from senet's and PyTorch's),
// and errors for bad settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { Parameter } from '../../src/torch/nn/parameter.js';
import { loadFixture, fromFixture, PYTORCH_ONLY_GROUP_KEYS, type FixtureTensor } from '../helpers.js';

const { SGD, Adam, StepLR, MultiStepLR, CosineAnnealingLR, LinearLR, OneCycleLR, SequentialLR, warmupCosine } =
  torch.optim;
type Optimizer = torch.optim.Optimizer<torch.optim.HyperParams>;
type Scheduler = torch.optim.Scheduler;
type LRScheduler = torch.optim.LRScheduler;

interface SchedulerSpec {
  type: string;
  options?: Record<string, unknown>;
  stepSize?: number;
  milestones?: number[];
  tMax?: number;
  maxLr?: number | number[];
  schedulers?: SchedulerSpec[];
}

interface SchedulerCase {
  name: string;
  optimizer: 'SGD' | 'Adam';
  options: Record<string, unknown>;
  scheduler: SchedulerSpec;
  steps: number;
  lrs: number[][];
  groupLrs: number[][];
  momenta: number[][];
  mid: number;
  midState: { scheduler: Record<string, unknown>; paramGroups: Record<string, unknown>[] };
}

const fx = loadFixture<{ params0: FixtureTensor[]; schedulers: SchedulerCase[] }>('optim');
// The schedules repeat PyTorch's double-precision arithmetic operation for operation.
const RTOL = 1e-12;

const params = torch.tidy(() => fx.params0.map((v) => new Parameter(fromFixture(v))));

/** The fixture's optimizer: two groups, the second with lr 0.05. */
function makeOptimizer(c: SchedulerCase): Optimizer {
  const groups = [{ params: [params[0]] }, { params: [params[1]], lr: 0.05 }];
  return c.optimizer === 'SGD' ? new SGD(groups, c.options as { lr: number }) : new Adam(groups, c.options);
}

function makeScheduler(opt: Optimizer, spec: SchedulerSpec): Scheduler {
  const o = spec.options ?? {};
  switch (spec.type) {
    case 'StepLR':
      return new StepLR(opt, spec.stepSize!, o);
    case 'MultiStepLR':
      return new MultiStepLR(opt, spec.milestones!, o);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(opt, spec.tMax!, o);
    case 'LinearLR':
      return new LinearLR(opt, o);
    case 'OneCycleLR':
      return new OneCycleLR(opt, spec.maxLr!, o);
    case 'SequentialLR':
      return new SequentialLR(
        opt,
        spec.schedulers!.map((s) => makeScheduler(opt, s) as LRScheduler),
        spec.milestones!,
      );
    case 'warmupCosine':
      return warmupCosine(opt, o as unknown as torch.optim.WarmupCosineOptions);
    default:
      throw new Error(`unknown scheduler ${spec.type}`);
  }
}

function momentumOf(group: torch.optim.ParamGroup): number {
  return Array.isArray(group.betas) ? group.betas[0] : (group.momentum as number);
}

function assertRelClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= RTOL * Math.abs(e), `${what}[${i}]: ${a}, PyTorch ${e}`);
  });
}

/** Checks the scheduler's and optimizer's values at `step` against PyTorch's. */
function checkStep(c: SchedulerCase, opt: Optimizer, sched: Scheduler, step: number, what: string): void {
  const label = `${c.name}, ${what}, step ${step}`;
  assertRelClose(sched.getLastLr(), c.lrs[step], `${label}: getLastLr()`);
  assertRelClose(
    opt.paramGroups.map((g) => g.lr),
    c.groupLrs[step],
    `${label}: group lr`,
  );
  assertRelClose(opt.paramGroups.map(momentumOf), c.momenta[step], `${label}: momentum`);
}

function run(c: SchedulerCase, opt: Optimizer, sched: Scheduler, from: number, to: number, what: string): void {
  for (let step = from + 1; step <= to; step++) {
    opt.step();
    sched.step();
    checkStep(c, opt, sched, step, what);
  }
}

for (const c of fx.schedulers) {
  test(`${c.name}: learning rates (and momenta) follow PyTorch's`, () => {
    const opt = makeOptimizer(c);
    const sched = makeScheduler(opt, c.scheduler);
    checkStep(c, opt, sched, 0, 'uninterrupted');
    run(c, opt, sched, 0, c.steps, 'uninterrupted');
  });
}

/** Compares our state dict with PyTorch's on the keys PyTorch saves (except its verbose/internal flags). */
function assertStateLike(ours: Record<string, unknown>, theirs: Record<string, unknown>, what: string): void {
  for (const [key, expected] of Object.entries(theirs)) {
    if (key === 'verbose' || key === '_get_lr_called_within_step') continue;
    const actual = ours[key];
    if (key === '_schedulers') {
      (expected as Record<string, unknown>[]).forEach((s, i) =>
        assertStateLike((actual as Record<string, unknown>[])[i], s, `${what}._schedulers[${i}]`),
      );
    } else if (Array.isArray(expected) && expected.every((v) => typeof v === 'number')) {
      assertRelClose(actual as number[], expected, `${what}.${key}`);
    } else {
      assert.deepEqual(actual, expected, `${what}.${key}`);
    }
  }
}

test("scheduler state dicts hold PyTorch's keys and values", () => {
  for (const c of fx.schedulers) {
    const opt = makeOptimizer(c);
    const sched = makeScheduler(opt, c.scheduler);
    run(c, opt, sched, 0, c.mid, 'before saving');
    assertStateLike(sched.stateDict(), c.midState.scheduler, c.name);
    // The optimizer's groups carry what the schedule put there (initial_lr, max_lr, momentum, ...).
    opt.stateDict().param_groups.forEach((g, i) => {
      const expected = Object.fromEntries(
        Object.entries(c.midState.paramGroups[i]).filter(([k]) => !PYTORCH_ONLY_GROUP_KEYS.has(k)),
      );
      const { params: _, ...mine } = g;
      assert.deepEqual(Object.keys(mine).sort(), Object.keys(expected).sort(), `${c.name}: group ${i} keys`);
      for (const [key, value] of Object.entries(expected)) {
        if (typeof value === 'number') assertRelClose([mine[key] as number], [value], `${c.name}: group ${i} ${key}`);
        else assert.deepEqual(mine[key], value, `${c.name}: group ${i} ${key}`);
      }
    });
  }
});

test('saving and loading optimizer + scheduler state mid-schedule continues exactly', () => {
  for (const c of fx.schedulers) {
    const opt = makeOptimizer(c);
    const sched = makeScheduler(opt, c.scheduler);
    run(c, opt, sched, 0, c.mid, 'before saving');
    // Through JSON, as a checkpoint would carry it.
    const schedState = JSON.parse(JSON.stringify(sched.stateDict()));
    const optState = opt.stateDict();
    const opt2 = makeOptimizer(c);
    const sched2 = makeScheduler(opt2, c.scheduler);
    opt2.loadStateDict(optState);
    sched2.loadStateDict(schedState);
    checkStep(c, opt2, sched2, c.mid, 'resumed');
    run(c, opt2, sched2, c.mid, c.steps, 'resumed');
  }
});

test("a scheduler state saved by PyTorch loads and continues PyTorch's schedule", () => {
  for (const c of fx.schedulers) {
    const opt = makeOptimizer(c);
    const sched = makeScheduler(opt, c.scheduler);
    opt.loadStateDict({ state: {}, param_groups: c.midState.paramGroups.map((g, i) => ({ ...g, params: [i] })) });
    sched.loadStateDict(c.midState.scheduler);
    checkStep(c, opt, sched, c.mid, "from PyTorch's state");
    run(c, opt, sched, c.mid, c.steps, "from PyTorch's state");
  }
});

test('StepLR.step(epoch) jumps to an epoch with the closed form', () => {
  const opt = new SGD([params[0]], { lr: 1 });
  const sched = new StepLR(opt, 3, { gamma: 0.5 });
  sched.step(7);
  assert.deepEqual(sched.getLastLr(), [0.25]);
  assert.equal(opt.paramGroups[0].lr, 0.25);
});

test('resuming with lastEpoch needs initialLr in the groups', () => {
  const opt = new SGD([params[0]], { lr: 0.1 });
  assert.throws(
    () => new StepLR(opt, 3, { lastEpoch: 4 }),
    /'initial_lr' is not specified in param_groups\[0\] when resuming/,
  );
  opt.paramGroups[0].initialLr = 0.1;
  const sched = new StepLR(opt, 3, { lastEpoch: 4 });
  assert.equal(sched.lastEpoch, 5);
});

test('bad schedule settings give one clear error', () => {
  const opt = new SGD([params[0]], { lr: 0.1, momentum: 0.9 });
  assert.throws(() => new StepLR(opt, 0), /StepLR: stepSize must be an integer >= 1, got 0/);
  assert.throws(() => new MultiStepLR(opt, [2, 1.5]), /each milestone must be an integer/);
  assert.throws(() => new CosineAnnealingLR(opt, 0), /tMax must be an integer >= 1/);
  assert.throws(
    () => new LinearLR(opt, { startFactor: 0 }),
    /Starting multiplicative factor expected to be greater than 0/,
  );
  assert.throws(
    () => new LinearLR(opt, { endFactor: 1.5 }),
    /Ending multiplicative factor expected to be between 0 and 1/,
  );
  assert.throws(() => new OneCycleLR(opt, 0.1), /define either totalSteps OR \(epochs AND stepsPerEpoch\)/);
  assert.throws(() => new OneCycleLR(opt, 0.1, { totalSteps: -3 }), /totalSteps must be an integer >= 1/);
  assert.throws(
    () => new OneCycleLR(opt, 0.1, { totalSteps: 10, pctStart: 1.2 }),
    /Expected float between 0 and 1 pctStart/,
  );
  assert.throws(
    () => new OneCycleLR(opt, 0.1, { totalSteps: 10, annealStrategy: 'exp' as never }),
    /annealStrategy must be one of 'cos' or 'linear'/,
  );
  assert.throws(() => new OneCycleLR(opt, [0.1, 0.2], { totalSteps: 10 }), /expected 1 values for maxLr/);
  const first = new LinearLR(opt);
  assert.throws(() => new SequentialLR(opt, [first], [3]), /one more than the number of milestone points/);
  const other = new SGD([params[1]], { lr: 0.1 });
  assert.throws(() => new SequentialLR(opt, [first, new StepLR(other, 2)], [3]), /same optimizer/);
  assert.throws(() => warmupCosine(opt, { warmupSteps: 5, totalSteps: 5 }), /totalSteps must be an integer >= 6/);
  assert.throws(() => new StepLR({} as never, 2), /StepLR: expected an Optimizer/);
});

test('OneCycleLR refuses to step past totalSteps, and needs an optimizer with momentum to cycle it', () => {
  const opt = new SGD([params[0]], { lr: 0.1 });
  const sched = new OneCycleLR(opt, 0.5, { totalSteps: 4 });
  for (let i = 0; i < 4; i++) sched.step();
  assert.throws(() => sched.step(), /Tried to step 6 times. The specified number of total steps is 4/);

  class Plain extends torch.optim.Optimizer<{ lr: number }> {
    constructor() {
      super([params[0]], { lr: 0.1 });
    }
    protected checkHyperParams(): void {}
    protected updateGroup(): void {}
  }
  assert.throws(
    () => new OneCycleLR(new Plain(), 0.5, { totalSteps: 4 }),
    /optimizer must support momentum with the cycleMomentum option enabled/,
  );
  assert.doesNotThrow(() => new OneCycleLR(new Plain(), 0.5, { totalSteps: 4, cycleMomentum: false }));
});

test('warmupCosine without warmup is plain cosine annealing', () => {
  const opt = new SGD([params[0]], { lr: 0.1 });
  const sched = warmupCosine(opt, { warmupSteps: 0, totalSteps: 4, minLr: 0.01 });
  assert.ok(sched instanceof CosineAnnealingLR);
  for (let i = 0; i < 4; i++) sched.step();
  assert.ok(Math.abs(sched.getLastLr()[0] - 0.01) < 1e-15);
});
