// F.interpolate, F.oneHot, F.embedding, torch.einsum, torch.maskedSelect, nn.LayerNorm, nn.GroupNorm,
// nn.Embedding, nn.Upsample, nn.ModuleDict and the typed nn.Sequential: outputs and gradients against real
// PyTorch (test/fixtures/extras.json, made by scripts/fixtures/make_extras.py), autograd's gradients against
// finite differences in float64 (gradCheck), and bad arguments against their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import { assertClose, fromFixture, gradCheck, loadFixture, type FixtureTensor } from '../helpers.js';
import { checkAgainstPyTorch, gradCheckCase, type FunctionalCase, type Inputs } from '../functional-cases.js';

const { F } = torch;

type State = Record<string, FixtureTensor>;

interface LayerCase {
  state: State;
  input: FixtureTensor;
  gradOutput: FixtureTensor;
  output: FixtureTensor;
  inputGrad: FixtureTensor | null;
  paramGrads: State;
  repr: string;
}

interface Fixture {
  functional: Record<string, FunctionalCase>;
  layers: Record<string, LayerCase>;
  seededInit: State[];
  moduleDict: { keys: string[]; moduleNames: string[]; repr: string; keysAfterDelete: string[] };
  reprs: string[];
}

const fx = loadFixture<Fixture>('extras');
const TOL = { rtol: 1e-5, atol: 1e-5 };

// The senet call for each fixture case, the same as make_extras.py's PyTorch call.
const CALLS: Record<string, (i: Inputs) => Tensor> = {
  'interpolate.nearest_scale2': ({ input }) => F.interpolate(input, { scaleFactor: 2 }),
  'interpolate.nearest_size': ({ input }) => F.interpolate(input, { size: [5, 3] }),
  'interpolate.nearest_1d_scale': ({ input }) => F.interpolate(input, { scaleFactor: 1.7 }),
  'interpolate.nearest_3d_size': ({ input }) => F.interpolate(input, { size: [3, 2, 5] }),
  'interpolate.nearest_recompute': ({ input }) =>
    F.interpolate(input, { scaleFactor: [1.5, 0.8], recomputeScaleFactor: true }),
  'interpolate.bilinear_size': ({ input }) =>
    F.interpolate(input, { size: [5, 7], mode: 'bilinear', alignCorners: false }),
  'interpolate.bilinear_size_align': ({ input }) =>
    F.interpolate(input, { size: [5, 7], mode: 'bilinear', alignCorners: true }),
  'interpolate.bilinear_scale': ({ input }) =>
    F.interpolate(input, { scaleFactor: [1.5, 2.3], mode: 'bilinear', alignCorners: false }),
  'interpolate.bilinear_scale_align': ({ input }) =>
    F.interpolate(input, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }),
  'interpolate.bilinear_downscale': ({ input }) => F.interpolate(input, { scaleFactor: 0.6, mode: 'bilinear' }),
  'oneHot.inferred': ({ indices }) => F.oneHot(indices),
  'oneHot.numClasses': ({ indices }) => F.oneHot(indices, 6),
  'embedding.basic': ({ indices, weight }) => F.embedding(indices, weight),
  'embedding.paddingIdx': ({ indices, weight }) => F.embedding(indices, weight, { paddingIdx: 4 }),
  'embedding.negativePaddingIdx': ({ indices, weight }) => F.embedding(indices, weight, { paddingIdx: -5 }),
  'embedding.scaleGradByFreq': ({ indices, weight }) => F.embedding(indices, weight, { scaleGradByFreq: true }),
  'einsum.matmul': ({ a, b }) => torch.einsum('ij,jk->ik', a, b),
  'einsum.batchDiagonal': ({ a }) => torch.einsum('bii->bi', a),
  'einsum.outer': ({ a, b }) => torch.einsum('i,j->ij', [a, b]),
  'einsum.trace': ({ a }) => torch.einsum('ii', a),
  'einsum.bilinear': ({ a, b, c }) => torch.einsum('bn,anm,bm->ba', a, b, c),
  'einsum.ellipsis': ({ a }) => torch.einsum('...ij->...ji', a),
  'einsum.implicitOutput': ({ a, b }) => torch.einsum('ij,kj', a, b),
  'maskedSelect.basic': ({ input, mask }) => torch.maskedSelect(input, mask),
  'maskedSelect.broadcast': ({ input, mask }) => input.maskedSelect(mask),
  'maskedSelect.none': ({ input, mask }) => torch.maskedSelect(input, mask),
};

test('every extras functional case has a senet call, and every call a case', () => {
  assert.deepEqual(Object.keys(CALLS).sort(), Object.keys(fx.functional).sort());
});

for (const [name, call] of Object.entries(CALLS)) {
  test(`${name}: output and gradients match PyTorch`, () => checkAgainstPyTorch(name, fx.functional[name], call));
}

// An embedding's padding row gets no gradient and scaleGradByFreq divides by counts: both are deliberate
// departures from the derivative (compared with PyTorch's gradients above), so finite differences skip them.
const NOT_THE_DERIVATIVE = new Set([
  'embedding.paddingIdx',
  'embedding.negativePaddingIdx',
  'embedding.scaleGradByFreq',
]);

test("autograd's gradients of the new differentiable functions agree with finite differences (float64)", () => {
  let checked = 0;
  for (const [name, call] of Object.entries(CALLS)) {
    if (NOT_THE_DERIVATIVE.has(name)) continue;
    if (gradCheckCase(name, fx.functional[name], call)) checked++;
  }
  assert.equal(checked, 21, 'interpolate, embedding, einsum and maskedSelect cases');
});

// ---- layers ----

/** A module whose forward takes one tensor. */
type Layer = nn.Module & { forward(input: Tensor): Tensor };

// Mirrors LAYERS in make_extras.py.
const LAYERS: Record<string, () => Layer> = {
  layernorm: () => new nn.LayerNorm(4),
  layernorm_2d_eps: () => new nn.LayerNorm([3, 4], { eps: 1e-3 }),
  layernorm_no_affine: () => new nn.LayerNorm(5, { elementwiseAffine: false }),
  groupnorm: () => new nn.GroupNorm(2, 4),
  groupnorm_3d_eps: () => new nn.GroupNorm(3, 6, { eps: 1e-3 }),
  groupnorm_no_affine: () => new nn.GroupNorm(1, 3, { affine: false }),
  embedding: () => new nn.Embedding(6, 3),
  embedding_padding: () => new nn.Embedding(6, 3, { paddingIdx: -2, scaleGradByFreq: true }),
  upsample_nearest: () => new nn.Upsample({ scaleFactor: 2 }),
  upsample_bilinear_align: () => new nn.Upsample({ size: [4, 5], mode: 'bilinear', alignCorners: true }),
  upsample_bilinear_scale: () => new nn.Upsample({ scaleFactor: [1.5, 2.0], mode: 'bilinear' }),
};

const stateOf = (state: State): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(state).map(([k, v]) => [k, fromFixture(v)]));

test('every extras layer case has a TypeScript counterpart', () => {
  assert.deepEqual(Object.keys(LAYERS).sort(), Object.keys(fx.layers).sort());
});

for (const [name, c] of Object.entries(fx.layers)) {
  test(`${name}: state dict keys, repr, output, input and parameter gradients equal PyTorch's`, () => {
    const layer = LAYERS[name]();
    torch.tidy(() => {
      assert.equal(layer.toString(), c.repr);
      assert.deepEqual(Object.keys(layer.stateDict()), Object.keys(c.state), 'state dict keys');
      layer.loadStateDict(stateOf(c.state));
      const x = fromFixture(c.input).requiresGrad_(c.inputGrad !== null);
      const out = layer.call(x);
      assertClose(out, c.output, TOL, `${name} output`);
      out.backward(fromFixture(c.gradOutput));
      if (c.inputGrad) assertClose(x.grad!, c.inputGrad, TOL, `${name} input gradient`);
      const params = layer.namedParameters();
      assert.deepEqual(
        params.map(([k]) => k),
        Object.keys(c.paramGrads),
      );
      for (const [key, p] of params) assertClose(p.grad!, c.paramGrads[key], TOL, `${name} gradient of ${key}`);
    });
    layer.dispose();
  });
}

for (const name of ['layernorm_2d_eps', 'groupnorm_3d_eps', 'upsample_bilinear_scale']) {
  // (The parameters' gradients are those of F.layerNorm and F.groupNorm, checked in functional.test.ts.)
  test(`${name}: input gradient passes a finite-difference check`, () => {
    const c = fx.layers[name];
    const layer = LAYERS[name]();
    torch.tidy(() => {
      layer.loadStateDict(stateOf(c.state));
      layer.to('float64');
      gradCheck((x) => layer.forward(x), [fromFixture(c.input)], {}, name);
    });
    layer.dispose();
  });
}

test("default initialisation after manualSeed equals PyTorch's (Embedding draws N(0, 1), padding row zero)", () => {
  torch.manualSeed(8);
  const layers = [
    new nn.Embedding(5, 3),
    new nn.Embedding(6, 2, { paddingIdx: 1 }),
    new nn.LayerNorm([2, 3]),
    new nn.GroupNorm(2, 4),
    new nn.Linear(3, 2),
  ];
  layers.forEach((layer, i) => {
    const state = layer.stateDict();
    assert.deepEqual(Object.keys(state), Object.keys(fx.seededInit[i]));
    for (const [key, value] of Object.entries(fx.seededInit[i])) assertClose(state[key], value, TOL, key);
    layer.dispose();
  });
});

test('an Embedding padding row gets no gradient; fromPretrained copies the table and freezes it by default', () => {
  const emb = new nn.Embedding(4, 2, { paddingIdx: 0 });
  torch.tidy(() => {
    emb
      .forward(torch.tensor([0, 1, 0, 3]))
      .sum()
      .backward();
    assert.deepEqual(emb.weight.grad!.toArray(), [
      [0, 0],
      [1, 1],
      [0, 0],
      [1, 1],
    ]);
    const table = torch
      .tensor([
        [1, 2],
        [3, 4],
      ])
      .float();
    const frozen = nn.Embedding.fromPretrained(table, { paddingIdx: 1 });
    assert.equal(frozen.weight.requiresGrad, false);
    assert.equal(frozen.paddingIdx, 1);
    assert.deepEqual(frozen.forward(torch.tensor([1, 1, 0])).toArray(), [
      [3, 4],
      [3, 4],
      [1, 2],
    ]);
    table.fill_(0);
    assert.equal(frozen.weight.sum().item(), 10, 'the table is copied');
    const trainable = nn.Embedding.fromPretrained(table, { freeze: false });
    assert.equal(trainable.weight.requiresGrad, true);
    frozen.dispose();
    trainable.dispose();
  });
  emb.dispose();
});

test("ModuleDict registers its modules under their keys: PyTorch's state dict keys, names, repr and del", () => {
  class WithDict extends nn.Module {
    embed = new nn.Embedding(10, 4, { paddingIdx: 0 });
    heads = new nn.ModuleDict<nn.Linear | nn.LayerNorm>({ cls: new nn.Linear(4, 3), norm: new nn.LayerNorm(4) });
    body = new nn.Sequential(new nn.Linear(4, 4), new nn.GroupNorm(2, 4), new nn.ReLU());

    constructor() {
      super();
      this.heads.set('extra', new nn.Linear(4, 2, { bias: false }));
      this.heads.set('cls', new nn.Linear(4, 5)); // replaces, keeping its place
    }

    forward(x: Tensor): Tensor {
      const h = this.body.call(this.embed.call(x).mean(1));
      return this.heads.get('cls').call(this.heads.get('norm').call(h));
    }
  }
  const m = new WithDict();
  assert.deepEqual(Object.keys(m.stateDict()), fx.moduleDict.keys);
  assert.deepEqual(
    m.namedModules().map(([k]) => k),
    fx.moduleDict.moduleNames,
  );
  assert.equal(m.toString(), fx.moduleDict.repr);
  torch.tidy(() => assert.deepEqual(m.call(torch.tensor([[1, 2, 0]])).shape, [1, 5]));
  assert.deepEqual(m.heads.keys(), ['cls', 'norm', 'extra']);
  assert.equal(m.heads.size, 3);
  assert.ok(m.heads.has('norm'));
  assert.deepEqual(
    [...m.heads].map(([k, v]) => [k, v.constructor.name]),
    [
      ['cls', 'Linear'],
      ['norm', 'LayerNorm'],
      ['extra', 'Linear'],
    ],
  );
  const removed = m.heads.delete('norm');
  assert.ok(removed instanceof nn.LayerNorm);
  removed.dispose();
  assert.deepEqual(Object.keys(m.stateDict()), fx.moduleDict.keysAfterDelete);
  assert.throws(() => m.heads.get('norm'), /ModuleDict has no key 'norm' \(keys: cls, extra\)/);
  assert.throws(() => m.heads.set('a.b', new nn.Linear(1, 1)), /a key must be a non-empty string without '\.'/);
  assert.throws(() => m.heads.set('x', 3 as never), /the value for 'x' must be an nn\.Module, got 3/);
  assert.throws(() => m.heads.forward(), /ModuleDict has no forward\(\)/);
  m.dispose();
});

test("the new layers print as PyTorch's repr", () => {
  const modules: nn.Module[] = [
    new nn.LayerNorm(4),
    new nn.LayerNorm([3, 4], { eps: 1e-3, elementwiseAffine: false }),
    new nn.GroupNorm(2, 4),
    new nn.GroupNorm(3, 6, { eps: 0.001, affine: false }),
    new nn.Embedding(10, 3),
    new nn.Embedding(10, 3, { paddingIdx: 0 }),
    new nn.Embedding(10, 3, { paddingIdx: -1, scaleGradByFreq: true }),
    new nn.Upsample({ scaleFactor: 2 }),
    new nn.Upsample({ size: [3, 4], mode: 'bilinear', alignCorners: true }),
    new nn.Upsample({ size: 7 }),
    new nn.Upsample({ scaleFactor: [2, 1.5], mode: 'bilinear' }),
    new nn.ModuleDict(),
    new nn.ModuleDict([
      ['a', new nn.Linear(2, 3)],
      ['b', new nn.ReLU()],
    ]),
  ];
  assert.deepEqual(modules.map(String), fx.reprs);
  for (const m of modules) m.dispose();
});

// ---- Sequential's types ----

test('a Sequential of Tensor → Tensor layers is typed Tensor → Tensor; one of any modules stays unknown', () => {
  const seq = new nn.Sequential(new nn.Linear(3, 4), new nn.LayerNorm(4), new nn.ReLU());
  const nested = new nn.Sequential(seq, new nn.Linear(4, 2));
  const stage = new nn.Sequential();
  stage.append(new nn.ModuleList()).append(new nn.Identity());
  const plain: nn.Sequential = new nn.Sequential(new nn.Identity());
  torch.tidy(() => {
    // These assignments compile only because forward and call return Tensor.
    const out: Tensor = seq.forward(torch.ones(2, 3));
    const viaCall: Tensor = nested.call(torch.ones(5, 3));
    assert.deepEqual(out.shape, [2, 4]);
    assert.deepEqual(viaCall.shape, [5, 2]);
    const layer: nn.Linear | nn.LayerNorm | nn.ReLU = seq.at(1);
    assert.ok(layer instanceof nn.LayerNorm);
    // @ts-expect-error the type nn.Sequential (any modules) returns unknown
    const unknownOut: Tensor = plain.forward(out);
    assert.equal(unknownOut, out);
    assert.equal(stage.length, 2, 'new Sequential() takes any module');
    // A check for the compiler only (never called): a Conv2d is not among this Sequential's layer types.
    // @ts-expect-error
    const appendConv = () => seq.append(new nn.Conv2d(1, 1, 1));
    assert.equal(typeof appendConv, 'function');
    // A Sequential grown layer by layer is typed by its type argument.
    const grown = new nn.Sequential<nn.TensorModule[]>();
    grown.append(new nn.Linear(3, 2)).append(new nn.Tanh());
    const grownOut: Tensor = grown.call(torch.ones(1, 3));
    assert.deepEqual(grownOut.shape, [1, 2]);
    grown.dispose();
  });
  nested.dispose();
  stage.dispose();
});

// ---- bad arguments ----

test('interpolate refuses bad arguments with one clear error naming the argument', () => {
  torch.tidy(() => {
    const x = torch.ones(1, 1, 2, 2);
    assert.throws(() => F.interpolate(x, {}), /interpolate\(\): give exactly one of size and scaleFactor/);
    assert.throws(() => F.interpolate(x, { size: 4, scaleFactor: 2 }), /give exactly one of size and scaleFactor/);
    assert.throws(
      () => F.interpolate(x, { size: [4, 4, 4] }),
      /interpolate\(\): size must be a positive integer or a list of 2 \(one per spatial dimension\), got \[4,4,4\]/,
    );
    assert.throws(() => F.interpolate(x, { size: 0 }), /size must be a positive integer/);
    assert.throws(() => F.interpolate(x, { scaleFactor: -1 }), /scaleFactor must be a positive number/);
    assert.throws(() => F.interpolate(x, { scaleFactor: Number.NaN }), /scaleFactor must be a positive number/);
    assert.throws(
      () => F.interpolate(x, { scaleFactor: 2, mode: 'bicubic' as never }),
      /interpolate\(\): mode must be one of 'nearest', 'bilinear', got 'bicubic'/,
    );
    assert.throws(
      () => F.interpolate(torch.ones(1, 1, 4), { scaleFactor: 2, mode: 'bilinear' }),
      /mode 'bilinear' expects 4-D input \[N, C, H, W\], got input of shape \[1, 1, 4\]/,
    );
    assert.throws(
      () => F.interpolate(torch.ones(4), { scaleFactor: 2 }),
      /mode 'nearest' expects 3-D, 4-D or 5-D input \[N, C, \.\.\.\], got input of shape \[4\]/,
    );
    assert.throws(
      () => F.interpolate(x, { scaleFactor: 2, alignCorners: true }),
      /alignCorners can only be set with mode 'bilinear'/,
    );
    assert.throws(() => new nn.Upsample({} as never), /Upsample: give exactly one of size and scaleFactor/);
    assert.throws(
      () => new nn.Upsample({ scaleFactor: 2, mode: 'area' as never }),
      /Upsample: mode must be one of 'nearest', 'bilinear', got 'area'/,
    );
  });
});

test('oneHot, embedding, maskedSelect and einsum refuse bad arguments with one clear error', () => {
  torch.tidy(() => {
    const idx = torch.tensor([0, 2]);
    assert.throws(() => F.oneHot(idx, 1.5), /oneHot\(\): numClasses must be a non-negative integer \(or -1/);
    assert.throws(() => F.oneHot(idx, -2), /numClasses must be a non-negative integer/);
    assert.throws(() => F.oneHot(idx, 2), /Class values must be smaller than num_classes/);
    assert.throws(() => F.oneHot(idx.float()), /one_hot is only applicable to index tensor/);
    const w = torch.ones(3, 2);
    assert.throws(
      () => F.embedding(idx, w, { paddingIdx: 3 }),
      /embedding\(\): paddingIdx must be an integer in \[-3, 3\) \(numEmbeddings is 3\), got 3/,
    );
    assert.throws(
      () => F.embedding(torch.tensor([3]), w),
      /embedding\(\): every index must be in \[0, 3\) \(the rows of weight\), got one outside/,
    );
    assert.throws(() => F.embedding(idx.float(), w), /Expected tensor for argument #1 'indices' to have one of/);
    const x = torch.ones(2, 2);
    assert.throws(
      () => x.maskedSelect(torch.ones(2, 2)),
      /maskedSelect\(\): mask must be a bool tensor \(such as x\.gt\(0\)\), got a float32 tensor/,
    );
    assert.throws(() => torch.maskedSelect(x, null as never), /mask must be a bool tensor .*got null/);
    assert.throws(() => x.maskedSelect(torch.ones(3).bool()), /must match the size of tensor/);
    assert.throws(() => torch.einsum(3 as never, x), /einsum\(\): equation must be a string/);
    assert.throws(() => torch.einsum('ij->ji'), /einsum\(\): 'ij->ji' needs at least one operand tensor/);
    assert.throws(
      () => torch.einsum('ij,jk->ik', x),
      /einsum\(\): fewer operands were provided than specified in the equation/,
    );
    assert.throws(
      () => torch.einsum('ij,jk->ik', x, torch.ones(3, 2)),
      /einsum\(\): subscript j has size 3 for operand 1 which does not broadcast with previously seen size 2/,
    );
  });
});

test('the new layers reject bad constructor arguments and inputs, naming them', () => {
  assert.throws(() => new nn.LayerNorm([]), /LayerNorm: normalizedShape must be an integer or a non-empty list/);
  assert.throws(() => new nn.LayerNorm([3, -1]), /LayerNorm: normalizedShape\[1\] must be a non-negative integer/);
  assert.throws(() => new nn.LayerNorm(4, { eps: Number.NaN }), /LayerNorm: eps must be a finite number/);
  assert.throws(() => new nn.GroupNorm(0, 4), /GroupNorm: numGroups must be a positive integer, got 0/);
  assert.throws(() => new nn.GroupNorm(3, 4), /GroupNorm: numChannels \(4\) must be divisible by numGroups \(3\)/);
  assert.throws(() => new nn.Embedding(3.5, 2), /Embedding: numEmbeddings must be a non-negative integer, got 3\.5/);
  assert.throws(
    () => new nn.Embedding(3, 2, { paddingIdx: -4 }),
    /Embedding: paddingIdx must be an integer in \[-3, 3\) \(numEmbeddings is 3\), got -4/,
  );
  assert.throws(
    () => nn.Embedding.fromPretrained(torch.ones(3)),
    /Embedding\.fromPretrained: embeddings must be 2-D \[numEmbeddings, embeddingDim\], got shape \[3\]/,
  );
  const ln = new nn.LayerNorm(4);
  const gn = new nn.GroupNorm(2, 4);
  torch.tidy(() => {
    assert.throws(() => ln.forward(torch.ones(2, 3)), /expected input with shape \[\*, 4\], but got input of size/);
    assert.throws(
      () => gn.forward(torch.ones(2, 6, 3)),
      /GroupNorm: expected input \[N, 4, \.\.\.\] \(numChannels 4\), got input of shape \[2, 6, 3\]/,
    );
  });
  ln.dispose();
  gn.dispose();
});
