// The legacy SENet family (Cadene's / timm's ports of the SE paper's Caffe models) against PyTorch
// (fixtures by scripts/fixtures/make_legacy_senet.py): parameter counts and state-dict layouts of every
// registry entry, seeded default initialisation, logits of the full-size nets and of small nets of each
// block kind under deterministic weights, and checkpoints in the ports' names loaded through loadWeights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import {
  createModel,
  modelName,
  listModels,
  loadWeights,
  LegacySENet,
  type LegacySENetOptions,
  type Model,
} from '../../src/models/index.js';
import {
  ROOT,
  fromFixture,
  loadFixture,
  maxRelativeError,
  settledTensorCount,
  type FixtureTensor,
} from '../helpers.js';
import { detInput, fill_ } from './deterministic-fill.js';
import { layoutDigest, layoutOf, type Layout } from './layout.js';
import { assertSeededInitialisation } from './seeded-init.js';

/** The Python reference's constructor arguments (make_legacy_senet.py's LegacySENet). */
interface PyConfig {
  kind: LegacySENetOptions['block'];
  layers: [number, number, number, number];
  groups?: number;
  inplanes?: number;
  input_3x3?: boolean;
  stem_width?: number;
  downsample_kernel_size?: number;
  downsample_padding?: number;
  drop_rate?: number;
  widths?: [number, number, number, number];
  num_classes?: number;
}

interface Fixture {
  registry: Record<string, { params: number; entries: number; layout: string }>;
  keys: Record<string, Layout>;
  seeded: Record<string, Record<string, number>>;
  parity: Record<string, { numClasses: number; inputShape: number[]; logits: FixtureTensor }>;
  small: Record<
    string,
    {
      config: PyConfig;
      params: number;
      inputShape: number[];
      keys: Layout;
      logits: FixtureTensor;
    }
  >;
  checkpoints: Record<string, { file: string; inputShape: number[]; logits: FixtureTensor }>;
}

const fx = loadFixture<Fixture>('legacy-senet');
const TOLERANCE = 1e-4;

/** The same net in senet's options. */
function fromPyConfig(c: PyConfig): LegacySENet {
  return new LegacySENet({
    block: c.kind,
    layers: c.layers,
    groups: c.groups,
    inplanes: c.inplanes,
    input3x3: c.input_3x3,
    stemWidth: c.stem_width,
    downsampleKernelSize: c.downsample_kernel_size,
    downsamplePadding: c.downsample_padding,
    dropRate: c.drop_rate,
    widths: c.widths,
    numClasses: c.num_classes,
  });
}

/** Eval-mode logits of `model` on the fixture's deterministic input, as the max relative error to PyTorch's. */
function logitsError(model: Model, inputShape: number[], expected: FixtureTensor): number {
  model.eval();
  return torch.noGrad(() =>
    torch.tidy(() => {
      const logits = model.forward(detInput(inputShape));
      assert.deepEqual(logits.shape, expected.shape);
      return maxRelativeError(logits, fromFixture(expected));
    }),
  );
}

test("every legacy SENet is registered with PyTorch's parameter count and state-dict layout", () => {
  const registered = listModels().filter((m) => m.family === 'legacy-senet');
  assert.deepEqual(registered.map((m) => m.name).sort(), Object.keys(fx.registry).sort());
  for (const info of registered) {
    assert.ok(info.hasSE, info.name);
    assert.deepEqual(info.defaultInput, [3, 224, 224], info.name);
    const expected = fx.registry[info.name];
    const model = createModel(info.name, { device: 'meta' });
    assert.equal(model.numParameters(), expected.params, `${info.name}: parameters`);
    assert.equal(Object.keys(model.stateDict()).length, expected.entries, `${info.name}: state-dict entries`);
    assert.equal(layoutDigest(model), expected.layout, `${info.name}: state-dict names and shapes`);
    if (fx.keys[info.name]) assert.deepEqual(layoutOf(model), fx.keys[info.name], `${info.name}: state-dict keys`);
  }
  // The counts the released models are known by (the same in timm's and Cadene's definitions).
  assert.equal(fx.registry.legacy_seresnet50.params, 28_088_024);
  assert.equal(fx.registry.legacy_senet154.params, 115_088_984);
});

test("legacy SENets: dropout before last_linear in SENet-154 only; the SE unit can be changed like any model's", () => {
  const senet154 = createModel('legacy_senet154', { device: 'meta' }) as LegacySENet;
  assert.equal(senet154.dropout?.p, 0.2);
  assert.deepEqual(senet154.layer2.at(0).stateDict()['downsample.0.weight'].shape, [512, 256, 3, 3]);
  assert.equal((createModel('legacy_seresnet50', { device: 'meta' }) as LegacySENet).dropout, null);
  const wider = createModel('legacy_seresnet50', { attention: { reduction: 8 }, device: 'meta' });
  assert.deepEqual(wider.stateDict()['layer1.0.se_module.fc1.weight'].shape, [32, 256, 1, 1]);
  const plain = createModel('legacy_seresnet18', { attention: { type: 'none' }, device: 'meta' });
  assert.ok(!Object.keys(plain.stateDict()).some((k) => k.includes('se_module')));
});

test('legacy_seresnet18: seeded default initialisation draws the same numbers as PyTorch', () => {
  assertSeededInitialisation(fx.seeded);
});

for (const [name, c] of Object.entries(fx.parity)) {
  test(`${name}: logits as PyTorch's under deterministic weights`, (t) => {
    const before = settledTensorCount();
    const model = createModel(modelName(name), { numClasses: c.numClasses });
    try {
      fill_(model);
      const error = logitsError(model, c.inputShape, c.logits);
      t.diagnostic(`max relative error ${error.toExponential(2)}`);
      assert.ok(error <= TOLERANCE, `max relative error ${error} exceeds ${TOLERANCE}`);
    } finally {
      model.dispose();
    }
    assert.equal(settledTensorCount(), before, 'native tensors left behind');
  });
}

test('small nets of every block kind: state-dict layout, parameters and logits as PyTorch', (t) => {
  for (const [name, c] of Object.entries(fx.small)) {
    const model = fromPyConfig(c.config);
    assert.deepEqual(layoutOf(model), c.keys, `${name}: state-dict names and shapes`);
    assert.equal(model.numParameters(), c.params, `${name}: parameters`);
    fill_(model);
    const error = logitsError(model, c.inputShape, c.logits);
    t.diagnostic(`${name}: max relative error ${error.toExponential(2)}`);
    assert.ok(error <= TOLERANCE, `${name}: max relative error ${error}`);
    model.dispose();
  }
});

test("checkpoints in the ports' names (torch.save(state_dict)) load through loadWeights as they are", (t) => {
  for (const [name, c] of Object.entries(fx.checkpoints)) {
    const model = fromPyConfig(fx.small[name].config);
    const result = loadWeights(model, join(ROOT, 'test', 'fixtures', c.file));
    assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] }, name);
    const error = logitsError(model, c.inputShape, c.logits);
    t.diagnostic(`${name}: max relative error ${error.toExponential(2)}`);
    assert.ok(error <= TOLERANCE, `${name}: max relative error ${error}`);
    model.dispose();
  }
});

test('LegacySENet: bad options and inputs give one clear error', () => {
  assert.throws(
    () => new LegacySENet({ block: 'bottleneck' as never, layers: [1, 1, 1, 1] }),
    /LegacySENet: block must be one of 'basic', 'resnet', 'resnext', 'senet', got 'bottleneck'/,
  );
  assert.throws(
    () => new LegacySENet({ block: 'resnet', layers: [3, 4, 6] as never }),
    /LegacySENet: layers must list 4 stages, got \[3,4,6\]/,
  );
  assert.throws(
    () => new LegacySENet({ block: 'senet', layers: [1, 1, 1, 1], dropRate: 2 }),
    /LegacySENet: dropRate must be a probability between 0 and 1, got 2/,
  );
  assert.throws(
    () => createModel('legacy_seresnet50', { zeroInitLastBn: true }),
    /'zeroInitLastBn' is not an option of this model/,
  );
  const model = fromPyConfig(fx.small.resnet.config);
  torch.tidy(() =>
    assert.throws(
      () => model.forward(torch.zeros([1, 1, 32, 32])),
      /LegacySENet: expected input of shape \[N, 3, H, W\], got \[1, 1, 32, 32\]/,
    ),
  );
  model.dispose();
});
