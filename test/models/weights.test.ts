// Weights both ways: real PyTorch checkpoints (a Python-trained CIFAR SE-ResNet-20 and a timm-layout
// SE-ResNet with 1×1-conv SE units, written by scripts/fixtures/make_models.py) load without renaming and
// give PyTorch's logits; saved weights round-trip through .pt and .safetensors; layout differences that
// carry no information are forgiven and real mismatches are reported in one error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import {
  createModel,
  loadWeights,
  saveWeights,
  CifarResNet,
  ResNet,
  TIMM_SE,
  type Model,
} from '../../src/models/index.js';
import { ROOT, fromFixture, loadFixture, maxRelativeError, type FixtureTensor } from '../helpers.js';
import { detInput } from './deterministic-fill.js';
import { layoutOf, type Layout } from './layout.js';

interface CheckpointCase {
  file: string;
  inputShape: number[];
  logits: FixtureTensor;
  keys: Layout;
}

const checkpoints = loadFixture<{ checkpoints: Record<string, CheckpointCase> }>('models').checkpoints;
const fixturePath = (c: CheckpointCase) => join(ROOT, 'test', 'fixtures', c.file);

function logitsError(model: Model, c: CheckpointCase): number {
  model.eval();
  return torch.noGrad(() =>
    torch.tidy(() => maxRelativeError(model.forward(detInput(c.inputShape)), fromFixture(c.logits))),
  );
}

/** The timm-layout test net of make_models.py, with its SE excitation as 1×1 convs (timm) or Linear layers. */
function tinyTimmNet(excitation: 'conv' | 'linear'): ResNet {
  return new ResNet({
    layers: [1, 1, 1, 1],
    block: 'bottleneck',
    widths: [4, 8, 16, 32],
    stemWidth: 16,
    numClasses: 10,
    inputSize: 64,
    attention: { ...TIMM_SE, excitation },
  });
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'senet-weights-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a Python-trained SE-ResNet-20 (torch.save(state_dict)) loads as is and gives PyTorch's logits", (t) => {
  const c = checkpoints['se-resnet20'];
  const before = torch.memory().tensors;
  const model = createModel('se-resnet20');
  assert.deepEqual(layoutOf(model), c.keys);
  assert.deepEqual(loadWeights(model, fixturePath(c)), { missingKeys: [], unexpectedKeys: [] });
  assert.ok((model.stateDict()['bn1.num_batches_tracked'] as Tensor).item() > 0, 'training statistics came along');
  const error = logitsError(model, c);
  t.diagnostic(`max relative error ${error.toExponential(2)}`);
  assert.ok(error <= 1e-4, `max relative error ${error}`);
  model.dispose();
  assert.equal(torch.memory().tensors, before, 'loading leaves no tensors behind');
});

test("a timm-layout SE-ResNet loads into senet's ResNet, with conv SE units and converted to Linear ones", (t) => {
  const c = checkpoints['timm-tiny'];
  for (const excitation of ['conv', 'linear'] as const) {
    const model = tinyTimmNet(excitation);
    const se = model.stateDict()['layer1.0.se.fc1.weight'];
    assert.equal(se.ndim, excitation === 'conv' ? 4 : 2);
    loadWeights(model, fixturePath(c));
    const error = logitsError(model, c);
    t.diagnostic(`${excitation} SE: max relative error ${error.toExponential(2)}`);
    assert.ok(error <= 1e-4, `${excitation}: max relative error ${error}`);
    if (excitation === 'conv') assert.deepEqual(layoutOf(model), c.keys);
    model.dispose();
  }
});

test('saveWeights writes .pt and .safetensors that load back to the same tensors', () => {
  withTempDir((dir) => {
    torch.manualSeed(5);
    const source = createModel('se-resnet20', { attention: { bias: true } });
    for (const file of ['weights.pt', 'weights.safetensors']) {
      const path = join(dir, file);
      saveWeights(source, path);
      torch.manualSeed(6);
      const target = createModel('se-resnet20', { attention: { bias: true } });
      loadWeights(target, path);
      const theirs = target.stateDict();
      for (const [key, value] of Object.entries(source.stateDict())) {
        assert.ok(
          torch.tidy(() => value.equal(theirs[key])),
          `${file}: ${key}`,
        );
      }
      target.dispose();
    }
    // A file written from a Linear-SE model loads into a conv-SE one (and io.load sees plain names).
    const path = join(dir, 'weights.safetensors');
    const convSE = createModel('se-resnet20', { attention: { bias: true, excitation: 'conv' } });
    loadWeights(convSE, path);
    assert.deepEqual(convSE.stateDict()['layer3.2.se.fc2.weight'].shape, [64, 4, 1, 1]);
    convSE.dispose();
    source.dispose();
  });
});

test("state dicts from DataParallel ('module.' prefix) or wrapped in { state_dict } load; old ones without num_batches_tracked too", () => {
  withTempDir((dir) => {
    const source = new CifarResNet();
    const prefixed = new Map(Object.entries(source.stateDict()).map(([k, v]) => [`module.${k}`, v]));
    const target = new CifarResNet();
    assert.deepEqual(loadWeights(target, prefixed), { missingKeys: [], unexpectedKeys: [] });
    assert.ok(torch.tidy(() => target.fc.weight.equal(source.fc.weight)));

    const wrapped = join(dir, 'checkpoint.pth');
    torch.io.savePt({ epoch: 3, state_dict: source.stateDict(), note: 'trained' }, wrapped);
    const fromWrapped = new CifarResNet();
    loadWeights(fromWrapped, wrapped);
    assert.ok(
      torch.tidy(() =>
        fromWrapped.layer3.at(2).stateDict()['conv2.weight'].equal(source.layer3.at(2).stateDict()['conv2.weight']),
      ),
    );

    const old = Object.fromEntries(
      Object.entries(source.stateDict()).filter(([k]) => !k.endsWith('num_batches_tracked')),
    );
    target.bn1.num_batches_tracked!.fill_(9);
    assert.deepEqual(loadWeights(target, old), { missingKeys: [], unexpectedKeys: [] });
    assert.equal(target.bn1.num_batches_tracked!.item(), 0, 'filled with 0, as PyTorch does');

    const notWeights = join(dir, 'list.pt');
    torch.io.savePt([1, 2, 3], notWeights);
    assert.throws(() => loadWeights(target, notWeights), /list\.pt holds no state dict: expected a dict of tensors/);
    [source, target, fromWrapped].forEach((m) => m.dispose());
  });
});

test('strict loading lists every missing, unexpected and mis-shaped key in one error; non-strict reports them', () => {
  const c = checkpoints['se-resnet20'];
  const path = fixturePath(c);
  const before = torch.memory().tensors;
  const plain = createModel('resnet20', { numClasses: 100 });
  assert.throws(
    () => loadWeights(plain, path),
    (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `^cannot load weights from ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ` +
            'Error\\(s\\) in loading state_dict for CifarResNet:',
        ),
      );
      assert.match(
        e.message,
        /Unexpected key\(s\) in state_dict: "layer1\.0\.se\.fc1\.weight", "layer1\.0\.se\.fc2\.weight",/,
      );
      assert.match(
        e.message,
        /size mismatch for fc\.weight: copying a param with shape \[10, 64\] from checkpoint, the shape in current model is \[100, 64\]/,
      );
      return true;
    },
  );
  const wider = createModel('se-resnet20', { attention: { reduction: 4 } });
  assert.throws(
    () => loadWeights(wider, path),
    /size mismatch for layer1\.0\.se\.fc1\.weight: copying a param with shape \[1, 16\]/,
  );
  const eca = createModel('se-resnet20', { attention: { type: 'eca' } });
  const result = loadWeights(eca, path, { strict: false });
  assert.ok(result.missingKeys.includes('layer1.0.se.conv.weight'));
  assert.ok(result.unexpectedKeys.includes('layer3.2.se.fc2.weight'));
  [plain, wider, eca].forEach((m) => m.dispose());
  assert.equal(torch.memory().tensors, before, 'failed loads leave no tensors behind');
});
