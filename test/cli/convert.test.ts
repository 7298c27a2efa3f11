// `senet convert IN OUT`: weights from another source (files written by real PyTorch, see
// scripts/fixtures/make_weight_sources.py) rewritten in senet's names, then loaded with plain loadWeights
// (or from the metadata alone) give PyTorch's logits; --key-map renames other layouts; bad input is one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { createModel, loadWeights, type Model } from '../../src/models/index.js';
import { loadTrainedModel } from '../../src/train/trained-model.js';
import { ROOT, fromFixture, loadFixture, maxRelativeError, type FixtureTensor } from '../helpers.js';
import { detInput } from '../models/deterministic-fill.js';
import { tempDir } from '../data/support.js';
import { errorLine, senetInProcess } from './support.js';

interface LogitsCase {
  file: string;
  inputShape: number[];
  logits: FixtureTensor;
}

const sources = loadFixture<Record<string, LogitsCase>>('weight-sources');
const trained = loadFixture<{ checkpoints: Record<string, LogitsCase> }>('models').checkpoints['se-resnet20'];
const pathOf = (c: LogitsCase) => join(ROOT, 'test', 'fixtures', c.file);

function logitsError(model: Model, c: LogitsCase): number {
  model.eval();
  return torch.noGrad(() =>
    torch.tidy(() => maxRelativeError(model.forward(detInput(c.inputShape)), fromFixture(c.logits))),
  );
}

test("convert rewrites moskomule's se_resnet20 as senet .safetensors (model found from the weights) and as .pt; both load with PyTorch's logits", async (t) => {
  const dir = tempDir(t, 'senet-convert-');
  const c = sources['moskomule-cifar'];
  const out = join(dir, 'nested', 'se-resnet20.safetensors');
  const result = await senetInProcess('convert', pathOf(c), out, '--normalize', 'cifar10');
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^wrote .*se-resnet20\.safetensors: 146 tensors of 'se-resnet20' \{"numClasses":10,"inChannels":3,"inputSize":\[32,32\]\}/,
  );

  const { tensors, metadata } = torch.io.loadSafetensors(out);
  assert.ok(
    'layer1.0.se.fc1.weight' in tensors && !Object.keys(tensors).some((k) => k.includes('se.fc.0')),
    'senet names',
  );
  torch.dispose(tensors);
  assert.equal(metadata['senet.model'], 'se-resnet20');
  assert.deepEqual(JSON.parse(metadata['senet.mean']), [0.4914, 0.4822, 0.4465]);

  const plain = createModel('se-resnet20');
  assert.deepEqual(loadWeights(plain, out), { missingKeys: [], unexpectedKeys: [] });
  const fromMetadata = loadTrainedModel({ weights: out });
  assert.equal(fromMetadata.spec.name, 'se-resnet20');

  // From senet's file to a plain torch.save state dict, named by --model when loaded again.
  const pt = join(dir, 'se-resnet20.pt');
  const again = await senetInProcess('convert', out, pt);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /no metadata in a \.pt/);
  const fromPt = createModel('se-resnet20');
  loadWeights(fromPt, pt);

  const errors = [plain, fromMetadata.model, fromPt].map((m) => logitsError(m, c));
  t.diagnostic(`max relative errors ${errors.map((e) => e.toExponential(2)).join(', ')}`);
  for (const e of errors) assert.ok(e <= 1e-5, `max relative error ${e}`);
  for (const m of [plain, fromMetadata.model, fromPt]) m.dispose();
});

test('convert --key-map renames a layout no scheme knows; eval-style loading takes the same rules', async (t) => {
  const dir = tempDir(t, 'senet-convert-');
  // The Python-trained SE-ResNet-20 of make_models.py, saved under other names with an extra tensor.
  const original = torch.io.load(pathOf(trained));
  const renamed = new Map(
    Object.entries(original).map(([k, v]) => [k.startsWith('fc.') ? `classifier.${k.slice(3)}` : `net.${k}`, v]),
  );
  renamed.set('ema_steps', torch.tensor([5]));
  const file = join(dir, 'renamed.pt');
  torch.io.save(renamed, file);
  torch.dispose([...renamed.values()]);
  const rules = join(dir, 'rules.json');
  writeFileSync(
    rules,
    JSON.stringify({
      drop: ['^ema_steps$'],
      rename: [
        ['^net\\.', ''],
        ['^classifier\\.', 'fc.'],
      ],
    }),
  );

  const without = await senetInProcess('convert', file, join(dir, 'x.safetensors'));
  assert.equal(without.code, 1);
  assert.match(
    errorLine(without.stderr),
    /renamed\.pt does not say which model it is for: .*it fits no model in senet's registry as it is: .*--key-map FILE\.json$/,
  );

  const out = join(dir, 'converted.safetensors');
  const result = await senetInProcess('convert', file, out, '--key-map', rules);
  assert.equal(result.code, 0, result.stderr);
  const model = createModel('se-resnet20');
  loadWeights(model, out);
  const direct = loadTrainedModel({
    weights: file,
    model: 'se-resnet20',
    keyMap: {
      drop: ['^ema_steps$'],
      rename: [
        ['^net\\.', ''],
        ['^classifier\\.', 'fc.'],
      ],
    },
  });
  const errors = [model, direct.model].map((m) => logitsError(m, trained));
  t.diagnostic(`max relative errors ${errors.map((e) => e.toExponential(2)).join(', ')}`);
  for (const e of errors) assert.ok(e <= 1e-4, `max relative error ${e}`);
  for (const m of [model, direct.model]) m.dispose();
});

test('convert: bad input is one line naming what was wrong and what to do', async (t) => {
  const dir = tempDir(t, 'senet-convert-');
  const badMap = join(dir, 'bad.json');
  writeFileSync(badMap, JSON.stringify({ rename: [['(', '']] }));
  const runs = {
    cadene: await senetInProcess('convert', pathOf(sources.cadene), join(dir, 'a.safetensors')),
    cadeneNamed: await senetInProcess(
      'convert',
      pathOf(sources.cadene),
      join(dir, 'a.safetensors'),
      '--model',
      'seresnet18',
    ),
    extension: await senetInProcess('convert', pathOf(sources['moskomule-cifar']), join(dir, 'a.onnx')),
    badMap: await senetInProcess(
      'convert',
      pathOf(sources['moskomule-cifar']),
      join(dir, 'a.safetensors'),
      '--key-map',
      badMap,
    ),
    missing: await senetInProcess('convert', join(dir, 'none.pt'), join(dir, 'a.safetensors')),
    wrongModel: await senetInProcess(
      'convert',
      pathOf(sources['moskomule-cifar']),
      join(dir, 'a.safetensors'),
      '--model',
      'se-resnet32',
    ),
  };
  for (const [name, r] of Object.entries(runs)) assert.equal(r.code, 1, `${name}: ${r.stderr}`);
  assert.match(
    errorLine(runs.cadene.stderr),
    /does not say which model it is for: .*it is for a legacy_\* model \(Cadene\/timm layout\).*use --model legacy_seresnet18/,
  );
  assert.match(
    errorLine(runs.cadeneNamed.stderr),
    /cadene_seresnet18_tiny\.pt holds Cadene's .*use --model legacy_seresnet18/,
  );
  assert.match(
    errorLine(runs.extension.stderr),
    /^senet: cannot write '.*a\.onnx': name it \.safetensors \(with senet's metadata\) or \.pt\/\.pth\/\.bin$/,
  );
  assert.match(
    errorLine(runs.badMap.stderr),
    /^senet: the key map .*bad\.json: rename\[0\]\[0\] is not a valid regular expression/,
  );
  assert.match(errorLine(runs.missing.stderr), /^senet: cannot read the weights file .*none\.pt: it does not exist$/);
  assert.match(
    errorLine(runs.wrongModel.stderr),
    /^senet: cannot load weights from .*moskomule_se_resnet20\.pt: .*Missing key\(s\) in state_dict: "layer1\.3\.conv1\.weight".*the weights fit createModel\('se-resnet20'/,
  );
});
