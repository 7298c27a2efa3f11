// The model registry: every named model's parameter count and state-dict layout against PyTorch's
// (fixtures by scripts/fixtures/make_models.py), options and errors, seeded default initialisation, and
// model summaries (MACs checked against independent counts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import {
  createModel,
  modelName,
  type ModelName,
  listModels,
  summarizeModel,
  SimpleCNN,
  CifarResNet,
  CifarBasicBlock,
  ResNet,
  CIFAR_SE,
  SE_PLACEMENTS,
} from '../../src/models/index.js';
import { gradCheck, loadFixture } from '../helpers.js';
import { layoutDigest } from './layout.js';
import { assertSeededInitialisation } from './seeded-init.js';

interface Fixture {
  registry: Record<string, { params: number; entries: number; layout: string }>;
  seeded: Record<string, Record<string, number>>;
}

const fx = loadFixture<Fixture>('models');

test('the registry lists exactly the models the fixture describes, with their families and inputs', () => {
  const models = listModels();
  // FastNet's and the legacy SENets' entries have their own fixtures (make_fastnet.py, make_legacy_senet.py;
  // checked in fastnet.test.ts and legacy-senet.test.ts).
  const fastnet = loadFixture<Pick<Fixture, 'registry'>>('fastnet').registry;
  const legacy = loadFixture<Pick<Fixture, 'registry'>>('legacy-senet').registry;
  assert.deepEqual(
    models.map((m) => m.name).sort(),
    [...Object.keys(fx.registry), ...Object.keys(fastnet), ...Object.keys(legacy)].sort(),
  );
  for (const m of models) {
    const cifar = m.family === 'simple-cnn' || m.family.startsWith('cifar');
    assert.deepEqual(m.defaultInput, cifar ? [3, 32, 32] : [3, 224, 224], m.name);
    assert.equal(m.hasSE, m.name === 'simple-cnn' || m.name.startsWith('se') || m.name.startsWith('legacy_'), m.name);
    assert.ok(m.description.length > 20, m.name);
  }
});

test("every model has PyTorch's parameter count and state-dict layout", () => {
  for (const [name, expected] of Object.entries(fx.registry)) {
    // On the meta device: shapes without memory, so the 60M-parameter nets cost nothing here.
    const model = createModel(modelName(name), { device: 'meta' });
    assert.equal(model.numParameters(), expected.params, `${name}: parameters`);
    assert.equal(Object.keys(model.stateDict()).length, expected.entries, `${name}: state-dict entries`);
    assert.equal(layoutDigest(model), expected.layout, `${name}: state-dict names and shapes`);
  }
  // The counts the project's README quotes.
  assert.equal(fx.registry.resnet20.params, 272_474);
  assert.equal(fx.registry['se-resnet20'].params, 274_490);
  assert.equal(fx.registry.resnet50.params, 25_557_032);
});

test("seeded initialisation (timm's for the ResNets) draws the same numbers as PyTorch (same build order)", () => {
  assertSeededInitialisation(fx.seeded);
});

test('createModel: CIFAR-100 heads, input channels, dtype, and clear errors', () => {
  for (const name of ['simple-cnn', 'se-resnet20', 'se-preresnet164'] as const) {
    const model = createModel(name, { numClasses: 100, device: 'meta' }) as unknown as { fc: { outFeatures: number } };
    assert.equal(model.fc.outFeatures, 100, name);
  }
  const gray = createModel('resnet18', { inChannels: 1, device: 'meta' }) as ResNet;
  assert.deepEqual(gray.conv1.weight.shape, [64, 1, 7, 7]);
  assert.deepEqual(gray.inputShape, [1, 224, 224]);
  const double = createModel('se-resnet20', { dtype: 'float64' });
  assert.ok(double.parameters().every((p) => p.dtype === 'float64'));
  double.dispose();

  assert.throws(
    () => createModel('se-resnet21' as ModelName),
    (e: Error) =>
      /^unknown model 'se-resnet21'; known models: simple-cnn, resnet20, se-resnet20, .*seresnext101_32x4d$/.test(
        e.message,
      ),
  );
  assert.throws(
    () => createModel('resnet50', { sePlacement: 'pre' }),
    /'sePlacement' is not an option of this model; it takes numClasses, inChannels, inputSize, attention, dtype, device, zeroInitLastBn/,
  );
  assert.throws(() => createModel('se-resnet20', { numClasses: 0 }), /numClasses must be a positive integer, got 0/);
  assert.throws(
    () => createModel('se-resnet20', { sePlacement: 'middle' as never }),
    /placement must be one of 'standard', 'pre', 'post', 'identity', got 'middle'/,
  );
  assert.throws(() => new CifarResNet({ depth: 21 }), /depth must be 6n \+ 2 \(20, 32, 44, 56, 110, \.\.\.\), got 21/);
  assert.throws(
    () => new ResNet({ layers: [2, 2, 2, 2], block: 'basic', cardinality: 32 }),
    /basic blocks support only cardinality 1/,
  );
});

test('SimpleCNN refuses images of another size with the reason, and can be built for them', () => {
  const model = new SimpleCNN();
  torch.tidy(() => {
    assert.throws(() => model.forward(torch.zeros([2, 3, 28, 28])), {
      message: 'SimpleCNN expects 3×32×32 input images (its classifier is sized for 64×16×16 features), got 3×28×28',
    });
    assert.throws(() => model.forward(torch.zeros([3, 32, 32])), /got a tensor of shape \[3, 32, 32\]/);
  });
  model.dispose();
  const mnist = new SimpleCNN({ inChannels: 1, inputSize: 28 });
  assert.deepEqual(mnist.fc.weight.shape, [10, 64 * 14 * 14]);
  torch.noGrad(() => torch.tidy(() => assert.deepEqual(mnist.forward(torch.zeros([2, 1, 28, 28])).shape, [2, 10])));
  mnist.dispose();
  const plain = createModel('simple-cnn', { attention: { type: 'none' } });
  assert.deepEqual(Object.keys(plain.stateDict()), ['conv1.weight', 'conv1.bias', 'fc.weight', 'fc.bias']);
  plain.dispose();
});

test("attention overrides merge onto the model's own SE unit", () => {
  const eca = createModel('se-resnet20', { attention: { type: 'eca' }, device: 'meta' });
  assert.ok(Object.keys(eca.stateDict()).includes('layer1.0.se.conv.weight'));
  const r8 = createModel('seresnet50', { attention: { reduction: 8 }, device: 'meta' });
  // timm's unit with r = 8: 1×1 convs with bias, 256/8 = 32 hidden channels.
  assert.deepEqual(r8.stateDict()['layer1.0.se.fc1.weight'].shape, [32, 256, 1, 1]);
  const added = createModel('resnet50', { attention: { type: 'se' }, device: 'meta' });
  assert.equal(added.numParameters(), fx.registry.seresnet50.params, 'resnet50 + SE is seresnet50');
});

test('zeroInitLastBn starts every block as the identity: on by default (zero_init_last), off on request', () => {
  const zeroed = createModel('se-resnet20');
  const normal = createModel('se-resnet20', { zeroInitLastBn: false });
  const lastBnScales = (m: torch.nn.Module) =>
    m
      .modules()
      .filter((b) => b instanceof CifarBasicBlock)
      .map((b) => (b as CifarBasicBlock).bn2.weight!);
  torch.tidy(() => {
    assert.ok(lastBnScales(zeroed).every((w) => w.abs().sum().item() === 0));
    assert.ok(lastBnScales(normal).every((w) => w.eq(1).all().item() === 1));
    // A zeroed block is the identity on its (non-negative, post-ReLU) input.
    const block = (zeroed as CifarResNet).layer2.at(1).eval();
    const x = torch.rand([2, 32, 4, 4]);
    assert.equal(torch.noGrad(() => block.call(x) as Tensor).equal(x), true);
  });
  zeroed.dispose();
  normal.dispose();
  const timm = new ResNet({ layers: [1, 1, 1, 1], block: 'bottleneck', widths: [4, 4, 4, 4], stemWidth: 8 });
  const scales = Object.entries(timm.stateDict()).filter(([k]) => /^layer\d\.0\.bn\d\.weight$/.test(k));
  assert.equal(scales.length, 12);
  torch.tidy(() => {
    for (const [key, w] of scales) assert.equal(w.abs().sum().item(), key.endsWith('bn3.weight') ? 0 : 4, key);
  });
  timm.dispose();
  const preact = createModel('preresnet164', { zeroInitLastBn: false, device: 'meta' });
  assert.ok(preact instanceof torch.nn.Module);
});

test("a fresh ResNet's init statistics are timm's: convs N(0, 2/fan_out), BN 1/0 but each block's last 0, Linear default", () => {
  const cases: [string, RegExp][] = [
    ['se-resnet20', /^layer\d\.\d+\.bn2$/],
    ['seresnet18', /^layer\d\.\d+\.bn2$/],
    ['se-preresnet164', /^layer\d\.\d+\.bn3$/],
  ];
  for (const [name, lastBn] of cases) {
    torch.manualSeed(5);
    const model = createModel(modelName(name));
    let pooledRatio = 0;
    let pooledCount = 0;
    let convs = 0;
    let zeroedBns = 0;
    torch.noGrad(() =>
      torch.tidy(() => {
        for (const [key, m] of model.namedModules()) {
          if (m instanceof torch.nn.Conv2d) {
            const w = m.weight.double();
            const n = w.numel();
            const fanOut = w.shape[0] * w.shape.slice(2).reduce((a, b) => a * b, 1);
            const expectedStd = Math.sqrt(2 / fanOut);
            const std = w.pow(2).mean().sqrt().item() as number;
            // The sample RMS of n normal draws has relative standard error 1/sqrt(2n); allow 5 of them.
            assert.ok(
              Math.abs(std / expectedStd - 1) < 5 / Math.sqrt(2 * n),
              `${name} ${key}: std ${std} vs ${expectedStd}`,
            );
            assert.ok(Math.abs(w.mean().item() as number) < (5 * expectedStd) / Math.sqrt(n), `${name} ${key}: mean`);
            pooledRatio += (w.pow(2).sum().item() as number) / expectedStd ** 2;
            pooledCount += n;
            convs++;
          } else if (m instanceof torch.nn.BatchNorm2d) {
            const zero = lastBn.test(key);
            if (zero) zeroedBns++;
            assert.equal(
              m
                .weight!.eq(zero ? 0 : 1)
                .all()
                .item(),
              1,
              `${name} ${key}.weight`,
            );
            assert.equal(m.bias!.eq(0).all().item(), 1, `${name} ${key}.bias`);
          } else if (m instanceof torch.nn.Linear) {
            // PyTorch's default: U(±1/sqrt(fan_in)) for weight and bias (kaiming_uniform with a = sqrt(5)).
            const bound = 1 / Math.sqrt(m.inFeatures);
            assert.ok((m.weight.abs().max().item() as number) <= bound, `${name} ${key}.weight within ±${bound}`);
            const std = m.weight.double().pow(2).mean().sqrt().item() as number;
            // Uniform draws: the sample RMS has relative standard error about 0.45/sqrt(n); allow 5 of them.
            assert.ok(
              Math.abs(std / (bound / Math.sqrt(3)) - 1) < 2.25 / Math.sqrt(m.weight.numel()),
              `${name} ${key}.weight std ${std}`,
            );
            if (m.bias) assert.ok((m.bias.abs().max().item() as number) <= bound, `${name} ${key}.bias`);
          }
        }
      }),
    );
    assert.ok(convs > 0 && zeroedBns > 0, name);
    // All conv weights together: mean of w²/σ² is 1 within 5 standard errors (sqrt(2/N)).
    const pooled = pooledRatio / pooledCount;
    assert.ok(Math.abs(pooled - 1) < 5 * Math.sqrt(2 / pooledCount), `${name}: pooled ${pooled}`);
    model.dispose();
  }
});

test('every SE placement is differentiable end to end (float64 finite differences)', () => {
  for (const placement of SE_PLACEMENTS) {
    torch.manualSeed(11);
    const model = new CifarResNet({
      depth: 8,
      attention: { ...CIFAR_SE, reduction: 4 },
      placement,
      dtype: 'float64',
    }).eval();
    const x = torch.randn([1, 3, 4, 4], { dtype: 'float64' });
    gradCheck((input: Tensor) => model.forward(input), [x], {}, placement);
    x.dispose();
    model.dispose();
  }
});

// Conv MACs = output elements × kernel elements × input channels (per group); Linear = in × out.
function cifarResNetMacs(depth: number, classes: number, se: boolean): number {
  const n = (depth - 2) / 6;
  let macs = 32 * 32 * 16 * 3 * 9; // stem
  let size = 32;
  let inC = 16;
  for (const c of [16, 32, 64]) {
    if (c !== 16) size /= 2;
    const positions = size * size;
    for (let j = 0; j < n; j++) {
      macs += positions * c * inC * 9 + positions * c * c * 9;
      if (inC !== c) macs += positions * c * inC; // projection shortcut
      if (se) macs += 2 * c * Math.max(1, Math.floor(c / 16));
      inC = c;
    }
  }
  return macs + 64 * classes;
}

test('summarizeModel counts parameters and MACs on the real graph', () => {
  const cnn = createModel('simple-cnn');
  const summary = summarizeModel(cnn, [3, 32, 32]);
  assert.equal(summary.params, 166_154);
  // conv 32·32·64·27 + SE 64·4 + 4·64 + classifier 16384·10
  assert.equal(summary.macs, 32 * 32 * 64 * 27 + 2 * 64 * 4 + 64 * 16 * 16 * 10);
  assert.deepEqual(
    summary.layers.map((l) => [l.name, l.type, l.outputShape, l.params]),
    [
      ['conv1', 'Conv2d', [64, 32, 32], 1792],
      ['pool', 'MaxPool2d', [64, 16, 16], 0],
      ['se1.fc1', 'Linear', [4], 256],
      // The seed's SEBlock is a SqueezeExcite: its ReLU and sigmoid gate are modules too (no MACs).
      ['se1.act', 'ReLU', [4], 0],
      ['se1.fc2', 'Linear', [64], 256],
      ['se1.gate', 'Sigmoid', [64], 0],
      ['fc', 'Linear', [10], 163850],
    ],
  );
  assert.equal(cnn.training, true, 'train mode is restored');
  cnn.dispose();

  for (const [name, se] of [
    ['resnet20', false],
    ['se-resnet20', true],
    ['se-resnet56', true],
  ] as const) {
    const model = createModel(name);
    const s = summarizeModel(model, [3, 32, 32]);
    assert.equal(s.macs, cifarResNetMacs(Number(name.replace(/\D/g, '')), 10, se), name);
    assert.equal(s.params, model.numParameters());
    model.dispose();
  }
  // torchvision's documented cost of resnet18 / resnet50 at 224×224: 1.81 and 4.09 GFLOPS (i.e. GMACs).
  for (const [name, gmacs] of [
    ['resnet18', 1.81],
    ['resnet50', 4.09],
  ] as const) {
    const model = createModel(name);
    const before = torch.memory().tensors;
    assert.equal(Math.round(summarizeModel(model, [3, 224, 224]).macs / 1e7) / 100, gmacs, name);
    assert.equal(torch.memory().tensors, before, 'summary leaves no tensors behind');
    model.dispose();
  }
  assert.throws(
    () => summarizeModel(createModel('resnet20', { device: 'meta' }), [3, 0, 32]),
    /inputShape must be a list of positive integers/,
  );
});
