// Weights from other sources: files in moskomule/senet.pytorch's, torchvision's, timm's, Cadene's and a
// custom naming scheme, written by real PyTorch from scripts/fixtures/make_weight_sources.py's own
// reference modules, load into senet's models (renamed where the scheme needs it) and give PyTorch's
// logits; Cadene-layout files are pointed to the legacy_* models; a file that fits nothing gets one error
// listing what is missing and unexpected; key-map rules rename anything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import {
  createModel,
  loadWeights,
  readStateDict,
  ResNet,
  TIMM_SE,
  detectSource,
  modelName,
  legacyModelName,
  modelOptionsFor,
  findFittingModel,
  toSenetNames,
  applyKeyMap,
  checkKeyMapRules,
  readKeyMapFile,
  type Model,
  type ResNetOptions,
} from '../../src/models/index.js';
import { loadTrainedModel } from '../../src/train/trained-model.js';
import { ROOT, fromFixture, loadFixture, maxRelativeError, type FixtureTensor } from '../helpers.js';
import { detInput } from './deterministic-fill.js';

interface SourceCase {
  file: string;
  inputShape: number[];
  logits: FixtureTensor;
  keys: [string, number[]][];
}

const cases = loadFixture<Record<string, SourceCase>>('weight-sources');
const pathOf = (c: SourceCase) => join(ROOT, 'test', 'fixtures', c.file);
const KEY_MAP = join(ROOT, 'test', 'fixtures', 'weight-sources', 'key-map.json');
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function logitsError(model: Model, c: SourceCase): number {
  model.eval();
  return torch.noGrad(() =>
    torch.tidy(() => maxRelativeError(model.forward(detInput(c.inputShape)), fromFixture(c.logits))),
  );
}

/** The shapes of a fixture file, by key, as they are in the file. */
function fileShapes(c: SourceCase): Map<string, number[]> {
  return new Map(c.keys);
}

/** The tiny ImageNet-layout nets of the fixture script (input 64×64, 10 classes). */
function tinyNet(options: Partial<ResNetOptions>): ResNet {
  return new ResNet({
    layers: [2, 2, 2, 2],
    block: 'basic',
    widths: [4, 8, 16, 16],
    stemWidth: 8,
    numClasses: 10,
    inputSize: 64,
    ...options,
  });
}

const MOSKOMULE_SE = { type: 'se', reduction: 16, rdMode: 'floor', excitation: 'linear', bias: false } as const;

test("moskomule/senet.pytorch's CIFAR se_resnet20 (se.fc.0 / se.fc.2, bias-free) loads into se-resnet20 with PyTorch's logits", (t) => {
  const c = cases['moskomule-cifar'];
  assert.ok(c.keys.some(([k]) => k === 'layer1.0.se.fc.0.weight') && !c.keys.some(([k]) => k.includes('se.fc1')));
  assert.equal(detectSource(c.keys.map(([k]) => k)).name, 'moskomule');
  const before = torch.memory().tensors;
  const model = createModel('se-resnet20');
  assert.deepEqual(loadWeights(model, pathOf(c)), { missingKeys: [], unexpectedKeys: [] });
  const error = logitsError(model, c);
  t.diagnostic(`max relative error ${error.toExponential(2)}`);
  assert.ok(error <= 1e-5, `max relative error ${error}`);
  model.dispose();
  assert.equal(torch.memory().tensors, before, 'loading leaves no tensors behind');
  // The file alone says which registry model it is: se-resnet20, 10 classes, its own (bias-free) SE unit.
  const named = toSenetNames(fileShapes(c));
  assert.equal(named.source.name, 'moskomule');
  assert.deepEqual(findFittingModel(named.weights), {
    name: 'se-resnet20',
    options: { numClasses: 10, inChannels: 3 },
  });
});

test("moskomule's ImageNet SE-ResNets (torchvision ResNet + bias-free Linear SE) load into senet's ResNet built with that SE unit", (t) => {
  const c = cases['moskomule-imagenet'];
  const layout = { layers: [1, 1, 1, 1] as const, widths: [16, 16, 16, 32] as const, stemWidth: 16 };
  const model = tinyNet({ ...layout, attention: MOSKOMULE_SE });
  loadWeights(model, pathOf(c));
  const error = logitsError(model, c);
  t.diagnostic(`max relative error ${error.toExponential(2)}`);
  assert.ok(error <= 1e-5, `max relative error ${error}`);
  // Into timm's SE unit (with biases) it does not fit: the error lists the biases the file lacks.
  const timmSE = tinyNet({ ...layout, attention: TIMM_SE });
  assert.throws(
    () => loadWeights(timmSE, pathOf(c)),
    /Missing key\(s\) in state_dict: "layer1\.0\.se\.fc1\.bias", "layer1\.0\.se\.fc2\.bias"/,
  );
  for (const m of [model, timmSE]) m.dispose();

  // Full-size moskomule se_resnet18 and se_resnet50 (their names, shapes only): the registry's seresnet18/50
  // fit them with the SE unit's form read from the weights, which is what the CLI builds for `--model`.
  const moskomuleShapes = (name: string) => {
    const probe = createModel(modelName(name), {
      device: 'meta',
      numClasses: 7,
      attention: { excitation: 'linear', bias: false, rdMode: 'floor' },
    });
    const renamed = (k: string) => k.replace(/se\.fc([12])\./, (_, n) => `se.fc.${n === '1' ? 0 : 2}.`);
    const shapes = new Map(Object.entries(probe.stateDict()).map(([k, v]) => [renamed(k), v.shape]));
    probe.dispose();
    return toSenetNames(shapes).weights;
  };
  const resnet18 = moskomuleShapes('seresnet18');
  assert.deepEqual(modelOptionsFor('seresnet18', resnet18), {
    numClasses: 7,
    inChannels: 3,
    attention: { excitation: 'linear', bias: false, reduction: 16, rdMode: 'floor' },
  });
  assert.equal(modelOptionsFor('seresnet34', resnet18), null);
  // ResNet-50's SE widths (C/16 for C = 256...2048) are multiples of 8 already: no reduction rule needed.
  assert.deepEqual(modelOptionsFor('seresnet50', moskomuleShapes('seresnet50')), {
    numClasses: 7,
    inChannels: 3,
    attention: { excitation: 'linear', bias: false },
  });
});

test("torchvision's ResNet names load as they are; timm's SE-ResNet from .safetensors too", (t) => {
  const tv = cases.torchvision;
  assert.equal(detectSource(tv.keys.map(([k]) => k)).name, 'senet');
  const plain = tinyNet({});
  assert.deepEqual(loadWeights(plain, pathOf(tv)), { missingKeys: [], unexpectedKeys: [] });
  const tvError = logitsError(plain, tv);
  const timm = cases.timm;
  const se = tinyNet({ layers: [1, 1, 1, 1], widths: [8, 8, 16, 16], attention: TIMM_SE });
  loadWeights(se, pathOf(timm));
  const timmError = logitsError(se, timm);
  t.diagnostic(`torchvision ${tvError.toExponential(2)}, timm ${timmError.toExponential(2)}`);
  assert.ok(tvError <= 1e-5 && timmError <= 1e-5, `max relative errors ${tvError}, ${timmError}`);
  for (const m of [plain, se]) m.dispose();
});

test("Cadene's / timm's legacy layout is recognised and pointed to its legacy_* model", () => {
  const c = cases.cadene;
  assert.equal(detectSource(c.keys.map(([k]) => k)).name, 'cadene');
  assert.equal(legacyModelName(fileShapes(c)), 'legacy_seresnet18');
  const model = tinyNet({ attention: TIMM_SE });
  const message =
    /holds Cadene's \/ timm's legacy SENet names \(layer0\.\*, layerN\.M\.se_module\.\*, last_linear\): it is for a legacy_\* model \(Cadene\/timm layout\), a different network from senet's ResNets: use --model legacy_seresnet18/;
  assert.throws(() => loadWeights(model, pathOf(c)), message);
  assert.throws(() => loadTrainedModel({ weights: pathOf(c), model: 'seresnet18' }), message);
  assert.throws(
    () => loadTrainedModel({ weights: pathOf(c) }),
    /does not say which model it is for: .*use --model legacy_seresnet18/,
  );
  // Structure decides the name: bottleneck blocks 3-4-6-3 with 32 groups are a legacy SE-ResNeXt-50.
  const resnext = new Map<string, number[]>([
    ['layer0.conv1.weight', [64, 3, 7, 7]],
    ['layer1.0.conv1.weight', [128, 64, 1, 1]],
    ['layer1.0.conv2.weight', [128, 4, 3, 3]],
    ['layer1.0.conv3.weight', [256, 128, 1, 1]],
  ]);
  for (const [stage, blocks] of [
    [1, 3],
    [2, 4],
    [3, 6],
    [4, 3],
  ])
    resnext.set(`layer${stage}.${blocks - 1}.bn1.weight`, [1]);
  assert.equal(legacyModelName(resnext), 'legacy_seresnext50_32x4d');
  // A full-size file in that layout (shapes only) fits the registry's legacy model, which is what
  // `senet convert` then uses without --model.
  const legacy = createModel('legacy_seresnet50', { device: 'meta', numClasses: 5 });
  const legacyShapes = new Map(Object.entries(legacy.stateDict()).map(([k, v]) => [k, v.shape]));
  legacy.dispose();
  assert.deepEqual(findFittingModel(toSenetNames(legacyShapes).weights), {
    name: 'legacy_seresnet50',
    options: { numClasses: 5, inChannels: 3 },
  });
  model.dispose();
});

test('a file that fits no scheme gets one error listing what is missing and unexpected; a key map makes it load', (t) => {
  const c = cases.custom;
  const model = tinyNet({});
  assert.throws(
    () => loadWeights(model, pathOf(c)),
    (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `^cannot load weights from ${escapeRegExp(pathOf(c))}: Error\\(s\\) in loading state_dict for ResNet:`,
        ),
      );
      assert.match(e.message, /Missing key\(s\) in state_dict: "conv1\.weight", "bn1\.weight",/);
      assert.match(
        e.message,
        /Unexpected key\(s\) in state_dict: "backbone\.conv1\.weight", .*"head\.weight", "head\.bias", "aux\.weight", "aux\.bias"/,
      );
      assert.match(
        e.message,
        /they fit no model in senet's registry .*renamed with a key map \(loadWeights option keyMap, CLI --key-map FILE\.json/,
      );
      return true;
    },
  );
  const rules = readKeyMapFile(KEY_MAP);
  assert.deepEqual(loadWeights(model, pathOf(c), { keyMap: rules }), { missingKeys: [], unexpectedKeys: [] });
  const error = logitsError(model, c);
  t.diagnostic(`max relative error ${error.toExponential(2)}`);
  assert.ok(error <= 1e-5, `max relative error ${error}`);
  model.dispose();
});

test('a mismatched file says which registry model it fits', () => {
  const c = cases['moskomule-cifar'];
  const model = createModel('se-resnet32');
  assert.throws(
    () => loadWeights(model, pathOf(c)),
    /its keys are moskomule\/senet\.pytorch names .*; the weights fit createModel\('se-resnet20', \{"numClasses":10,"inChannels":3\}\) \(CLI: --model se-resnet20\)$/,
  );
  model.dispose();
});

test('key-map rules: drop, then rename in order with groups; bad rules and collisions are one clear error', () => {
  const weights = new Map([
    ['net.block1.w', 1],
    ['net.block2.w', 2],
    ['net.extra', 3],
    ['module_head.w', 4],
  ]);
  const renamed = applyKeyMap(weights, {
    drop: ['extra$'],
    rename: [
      ['^net\\.block(\\d)', 'layer$1'],
      ['^module_head', 'fc'],
    ],
  });
  assert.deepEqual(
    [...renamed],
    [
      ['layer1.w', 1],
      ['layer2.w', 2],
      ['fc.w', 4],
    ],
  );
  assert.throws(
    () => applyKeyMap(weights, { rename: [['block\\d', 'block']] }),
    /key map renames both 'net\.block1\.w' and 'net\.block2\.w' to 'net\.block\.w'; each key must keep its own name/,
  );
  assert.throws(
    () => checkKeyMapRules({ rename: [['(', 'x']] }),
    /key map: rename\[0\]\[0\] is not a valid regular expression/,
  );
  assert.throws(
    () => checkKeyMapRules({ rename: ['^a'] }),
    /key map: rename\[0\] must be a \[regex, replacement\] pair of strings, got "\^a"/,
  );
  assert.throws(
    () => checkKeyMapRules({ renames: [] }),
    /key map: unknown field 'renames'; expected 'rename' and\/or 'drop'/,
  );
  assert.throws(() => checkKeyMapRules({ drop: '^aux' }), /key map: 'drop' must be a list of regular expressions/);
  assert.throws(
    () => readKeyMapFile(join(ROOT, 'no-such-map.json')),
    /cannot read the key map .*no-such-map\.json: it does not exist/,
  );
});

test('readStateDict and the fixture agree on every name and shape (the files are what the script says)', () => {
  for (const c of Object.values(cases)) {
    const weights = readStateDict(pathOf(c));
    assert.deepEqual(
      [...weights].map(([k, v]) => [k, v.shape]),
      c.keys,
      c.file,
    );
    torch.dispose([...weights.values()]);
  }
});
