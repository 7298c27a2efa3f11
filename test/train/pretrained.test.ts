// Fine-tuning's pieces on their own: loading pretrained weights into a model with another class count
// (classifier re-initialised, everything else copied bit for bit) or into one they do not fit (one strict
// error), the sources (file, URL downloaded once into the cache and checked by SHA-256), the backbone's
// learning-rate groups, freezing, and the config's checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { createModel, modelName, listModels, saveWeights, type Model } from '../../src/models/index.js';
import { classifierKeys, classifierName } from '../../src/models/classifier.js';
import { loadPretrained, resolvePretrained, splitChecksum, BackboneFreeze } from '../../src/train/pretrained.js';
import { buildOptimizer, parameterGroups } from '../../src/train/optimization.js';
import { configHash, resolveConfig, type TrainConfig } from '../../src/train/config.js';
import { designFingerprints } from '../../src/pipeline/stage-fingerprints.js';
import { tempDir } from '../data/support.js';

const config = (values: Partial<TrainConfig>) => resolveConfig({ values, source: { describe: (k) => k } });

/** A seeded model: the same seed and options give the same weights. */
function seeded(name: string, seed: number, options: Record<string, unknown> = {}): Model {
  torch.manualSeed(seed);
  return createModel(modelName(name), options);
}

/** Whether two state dicts hold the same keys with bit-for-bit equal tensors. */
function sameTensors(a: Record<string, torch.Tensor>, b: Record<string, torch.Tensor>, keys: string[]): boolean {
  return keys.every((k) => a[k].shape.join() === b[k].shape.join() && a[k].equal(b[k]));
}

/** A weights file of `name` with `options`, seeded with `seed`. */
function weightsFile(
  dir: string,
  file: string,
  name: string,
  seed: number,
  options: Record<string, unknown> = {},
): string {
  const model = seeded(name, seed, options);
  const path = join(dir, file);
  saveWeights(model, path);
  model.dispose();
  return path;
}

test("weights with another class count: the classifier keeps its fresh initialisation, the backbone is the file's bit for bit", (t) => {
  const dir = tempDir(t);
  const file = weightsFile(dir, 'seven.safetensors', 'resnet20', 1, { numClasses: 7 });
  const source = torch.io.load(file);
  const model = seeded('resnet20', 2, { numClasses: 10 });
  const fresh = seeded('resnet20', 2, { numClasses: 10 });
  try {
    const load = loadPretrained(model, file);
    const state = model.stateDict();
    const backbone = Object.keys(state).filter((k) => !k.startsWith('fc.'));
    assert.ok(
      backbone.some((k) => k.endsWith('running_mean')),
      'BatchNorm statistics are among the copied tensors',
    );
    assert.ok(sameTensors(state, source, backbone), "every backbone tensor is the file's");
    assert.ok(!sameTensors(state, fresh.stateDict(), ['layer1.0.conv1.weight']), 'the backbone is not the fresh one');
    assert.ok(sameTensors(state, fresh.stateDict(), ['fc.weight', 'fc.bias']), 'the classifier is the fresh one');
    assert.deepEqual(load.classifier, { name: 'fc', replaced: true, fileClasses: 7, modelClasses: 10 });
    assert.equal(load.loaded, backbone.length);
    assert.match(load.summary, /^replaced: .*\[7, 64\].*\[10, 64\].*7 → 10 classes/);
    assert.match(load.message, new RegExp(`^Pretrained weights from ${file}: classifier fc replaced`));
  } finally {
    torch.dispose(source);
    model.dispose();
    fresh.dispose();
  }
});

test('weights with the same class count load whole, the classifier included', (t) => {
  const dir = tempDir(t);
  const file = weightsFile(dir, 'ten.pt', 'simple-cnn', 1);
  const source = torch.io.load(file);
  const model = seeded('simple-cnn', 2);
  try {
    const load = loadPretrained(model, file);
    assert.ok(sameTensors(model.stateDict(), source, Object.keys(source)));
    assert.equal(load.classifier.replaced, false);
    assert.equal(load.summary, 'kept (10 classes)');
    assert.equal(load.decision, 'keep');
  } finally {
    torch.dispose(source);
    model.dispose();
  }
});

test("pretrainedClassifier 'replace' re-initialises a classifier that fits; 'keep' refuses one that does not", (t) => {
  const dir = tempDir(t);
  const ten = weightsFile(dir, 'ten.pt', 'simple-cnn', 1);
  const seven = weightsFile(dir, 'seven.pt', 'simple-cnn', 1, { numClasses: 7 });
  const model = seeded('simple-cnn', 2);
  const fresh = seeded('simple-cnn', 2);
  const source = torch.io.load(ten);
  try {
    const load = loadPretrained(model, ten, { classifier: 'replace' });
    assert.equal(load.decision, 'replace');
    assert.match(load.summary, /^replaced as asked \(10 classes in the weights and this model\)/);
    assert.ok(sameTensors(model.stateDict(), fresh.stateDict(), ['fc.weight', 'fc.bias']));
    assert.ok(sameTensors(model.stateDict(), source, ['conv1.weight', 'se1.fc1.weight']));
    assert.throws(
      () => loadPretrained(model, seven, { classifier: 'keep', what: 'seven' }),
      /the pretrained weights seven do not fit 'SimpleCNN' \(pretrainedClassifier 'keep' loads its classifier fc too\): .*size mismatch for fc\.weight/s,
    );
  } finally {
    torch.dispose(source);
    model.dispose();
    fresh.dispose();
  }
});

test('a key map renames weights named otherwise before the classifier is looked for (--key-map)', (t) => {
  const dir = tempDir(t);
  const full = seeded('resnet20', 1, { numClasses: 7 });
  // Another source's names: every key under 'backbone.', the classifier called 'head', one extra tensor.
  const renamed = Object.fromEntries(
    Object.entries(full.stateDict()).map(([k, v]) => [
      k.startsWith('fc.') ? k.replace('fc.', 'head.') : `backbone.${k}`,
      v,
    ]),
  );
  const path = join(dir, 'other.safetensors');
  const extra = torch.zeros([3]);
  torch.io.save({ ...renamed, 'aux.logits': extra }, path);
  const keyMap = {
    rename: [['^backbone\\.', ''] as [string, string], ['^head\\.', 'fc.'] as [string, string]],
    drop: ['^aux\\.'],
  };
  const model = seeded('resnet20', 2, { numClasses: 10 });
  const fresh = seeded('resnet20', 2, { numClasses: 10 });
  try {
    const load = loadPretrained(model, path, { keyMap });
    assert.deepEqual(load.classifier, { name: 'fc', replaced: true, fileClasses: 7, modelClasses: 10 });
    const backbone = Object.keys(model.stateDict()).filter((k) => !k.startsWith('fc.'));
    assert.ok(sameTensors(model.stateDict(), full.stateDict(), backbone), "the backbone is the file's");
    assert.ok(sameTensors(model.stateDict(), fresh.stateDict(), ['fc.weight', 'fc.bias']));
    // Without the rules the file fits no model: one strict error naming the keys.
    assert.throws(
      () => loadPretrained(model, path, { what: 'other' }),
      /the pretrained weights other do not fit 'CifarResNet' beyond its classifier fc: .*Missing key/s,
    );
  } finally {
    extra.dispose();
    full.dispose();
    model.dispose();
    fresh.dispose();
  }
});

test('weights without a classifier (a backbone) load, and the classifier is new', (t) => {
  const dir = tempDir(t);
  const full = seeded('simple-cnn', 1);
  const path = join(dir, 'backbone.safetensors');
  torch.io.save(Object.fromEntries(Object.entries(full.stateDict()).filter(([k]) => !k.startsWith('fc.'))), path);
  const model = seeded('simple-cnn', 2, { numClasses: 3 });
  try {
    const load = loadPretrained(model, path);
    assert.ok(model.stateDict()['conv1.weight'].equal(full.stateDict()['conv1.weight']));
    assert.equal(load.classifier.fileClasses, null);
    assert.match(load.summary, /^new: the weights have no classifier fc/);
  } finally {
    full.dispose();
    model.dispose();
  }
});

test('weights that do not fit beyond the classifier are one strict error, and the model is left as built', (t) => {
  const dir = tempDir(t);
  const otherSe = weightsFile(dir, 'r8.safetensors', 'simple-cnn', 1, { numClasses: 3, attention: { reduction: 8 } });
  const otherModel = weightsFile(dir, 'resnet.safetensors', 'resnet20', 1);
  const model = seeded('simple-cnn', 2);
  const before = model.stateDict()['conv1.weight'].clone();
  try {
    assert.throws(
      () => loadPretrained(model, otherSe),
      /the pretrained weights .*r8\.safetensors do not fit 'SimpleCNN' beyond its classifier fc: .*size mismatch for se1\.fc1\.weight/s,
    );
    assert.throws(
      () => loadPretrained(model, otherModel),
      /do not fit 'SimpleCNN' beyond its classifier fc: .*Missing key\(s\).*conv1\.bias.*Unexpected key\(s\)/s,
    );
    assert.ok(model.stateDict()['conv1.weight'].equal(before), 'nothing was copied');
  } finally {
    before.dispose();
    model.dispose();
  }
});

/** A local server for one file; counts the requests for it. */
async function serveFile(
  t: { after(fn: () => Promise<void>): void },
  body: Uint8Array,
): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/weights/seven.safetensors') {
      res.writeHead(404).end();
      return;
    }
    requests += 1;
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/weights/seven.safetensors`,
    requests: () => requests,
  };
}

test('a URL is downloaded once into the cache, checked against its SHA-256, then reused', async (t) => {
  const dir = tempDir(t);
  const bytes = readFileSync(weightsFile(dir, 'seven.safetensors', 'simple-cnn', 1, { numClasses: 7 }));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const server = await serveFile(t, bytes);
  const cacheDir = join(dir, 'cache');

  const first = await resolvePretrained(`${server.url}#sha256=${sha256.toUpperCase()}`, { cacheDir });
  assert.equal(first.kind, 'url');
  assert.equal(first.sha256, sha256);
  assert.ok(first.file.startsWith(join(cacheDir, 'pretrained')) && first.file.endsWith('seven.safetensors'));
  assert.deepEqual(readFileSync(first.file), bytes);
  assert.equal(server.requests(), 1);

  const second = await resolvePretrained(server.url, { cacheDir, sha256 });
  assert.equal(second.file, first.file);
  assert.equal(server.requests(), 1, 'the cached file is used');
  const model = seeded('simple-cnn', 2);
  try {
    assert.equal(loadPretrained(model, second.file).classifier.replaced, true);
  } finally {
    model.dispose();
  }
});

test('a download whose SHA-256 differs is one clear error and leaves nothing in the cache', async (t) => {
  const dir = tempDir(t);
  const bytes = readFileSync(weightsFile(dir, 'seven.safetensors', 'simple-cnn', 1, { numClasses: 7 }));
  const server = await serveFile(t, bytes);
  const cacheDir = join(dir, 'cache');
  const wrong = '0'.repeat(64);
  await assert.rejects(
    resolvePretrained(server.url, { cacheDir, sha256: wrong }),
    new RegExp(
      `^Error: could not download the pretrained weights from ${server.url}: the downloaded file has SHA-256 [0-9a-f]{64}, expected ${wrong}`,
    ),
  );
  const folders = readdirSync(join(cacheDir, 'pretrained'));
  assert.deepEqual(
    folders.flatMap((f) => readdirSync(join(cacheDir, 'pretrained', f))),
    [],
  );
  // Without a checksum it downloads; a wrong one for the cached file is then refused, naming the file.
  const unchecked = await resolvePretrained(server.url, { cacheDir });
  await assert.rejects(
    resolvePretrained(server.url, { cacheDir, sha256: wrong }),
    new RegExp(
      `the pretrained weights ${unchecked.file} have SHA-256 [0-9a-f]{64}, expected ${wrong}: delete it to download it again`,
    ),
  );
});

test('pretrained sources: a missing file, another URL scheme, malformed or conflicting checksums are clear errors', async (t) => {
  const dir = tempDir(t);
  const file = weightsFile(dir, 'w.safetensors', 'simple-cnn', 1);
  await assert.rejects(
    resolvePretrained(join(dir, 'nope.pt')),
    /the pretrained weights .*nope\.pt do not exist: give a weights file/,
  );
  await assert.rejects(
    resolvePretrained('ftp://example.org/w.pt'),
    /only http:\/\/ and https:\/\/ URLs are downloaded/,
  );
  assert.throws(() => splitChecksum('https://example.org/w.pt#md5=abc'), /the only fragment understood is '#sha256='/);
  await assert.rejects(
    resolvePretrained(`https://example.org/w.pt#sha256=${'a'.repeat(64)}`, { sha256: 'b'.repeat(64) }),
    /two different SHA-256 checksums/,
  );
  await assert.rejects(resolvePretrained(file, { sha256: 'xyz' }), /SHA-256 'xyz' is not 64 hex digits/);
  await assert.rejects(
    resolvePretrained(file, { sha256: 'a'.repeat(64) }),
    /have SHA-256 [0-9a-f]{64}, expected a{64}: delete or replace it/,
  );
  const good = createHash('sha256').update(readFileSync(file)).digest('hex');
  assert.deepEqual(await resolvePretrained(file, { sha256: good }), { kind: 'file', file, sha256: good });
  assert.ok(!existsSync(join(dir, 'pretrained')));
});

test("backboneLrScale: the classifier's groups first at the lr, then the backbone's at the scaled lr", () => {
  const model = seeded('resnet20', 0);
  try {
    const groups = parameterGroups(
      model,
      config({ pretrained: 'w.pt', backboneLrScale: 0.1, biasLrScale: 4, lr: 0.5, optimizer: 'sgd' }),
    );
    assert.deepEqual(
      groups.map((g) => g.lr ?? 0.5),
      [0.5, 2, 0.05, 0.2],
    );
    const named = new Map<string, torch.Tensor>(model.namedParameters());
    const fc = [named.get('fc.weight')!, named.get('fc.bias')!];
    assert.deepEqual(
      groups.slice(0, 2).map((g) => g.params),
      [[fc[0]], [fc[1]]],
    );
    assert.equal(groups.flatMap((g) => g.params).length, model.parameters().length);
    assert.ok(groups.slice(2).every((g) => g.params.every((p) => !fc.includes(p))));
    // Without the scale, the groups are as before fine-tuning existed: one.
    assert.equal(parameterGroups(model, config({ optimizer: 'sgd' })).length, 1);
  } finally {
    model.dispose();
  }
});

/** Each parameter's change after one SGD step on a fixed batch, from the same start. */
function oneStepChanges(values: Partial<TrainConfig>): number[] {
  const model = seeded('simple-cnn', 3);
  const optimizer = buildOptimizer(model, config({ optimizer: 'sgd', momentum: 0, lr: 0.1, ...values }));
  torch.manualSeed(4);
  const x = torch.randn([4, 3, 32, 32]);
  const y = torch.tensor([0, 1, 2, 3], { dtype: 'int64' });
  const before = model.parameters().map((p) => p.clone());
  try {
    torch.tidy(() => {
      optimizer.zeroGrad();
      torch.F.crossEntropy(model.forward(x), y).backward();
      optimizer.step();
    });
    return model.parameters().map((p, i) => torch.tidy(() => p.sub(before[i]).abs().sum().item()));
  } finally {
    torch.dispose([x, y, ...before]);
    optimizer.dispose();
    model.dispose();
  }
}

test('backboneLrScale: one step moves the backbone by that fraction of its plain step, the classifier alike', () => {
  const plain = oneStepChanges({ pretrained: 'w.pt' });
  const scaled = oneStepChanges({ pretrained: 'w.pt', backboneLrScale: 0.25 });
  // simple-cnn's parameters: conv1.weight, conv1.bias, se1.fc1.weight, se1.fc2.weight, fc.weight, fc.bias.
  for (const i of [0, 1, 2, 3])
    assert.ok(Math.abs(scaled[i] / plain[i] - 0.25) < 1e-4, `backbone parameter ${i}: ${scaled[i]} vs ${plain[i]}`);
  for (const i of [4, 5]) assert.equal(scaled[i], plain[i]);
  assert.ok(plain.every((c) => c > 0));
});

test('BackboneFreeze: a frozen backbone takes no gradient and its BatchNorm statistics stay; unfrozen it trains', () => {
  const model = seeded('resnet20', 0);
  const optimizer = buildOptimizer(model, config({ optimizer: 'sgd', lr: 0.1, weightDecay: 0.01 }));
  const freeze = new BackboneFreeze(model);
  const step = () =>
    torch.tidy(() => {
      const x = torch.randn([4, 3, 32, 32]);
      optimizer.zeroGrad();
      torch.F.crossEntropy(model.forward(x), torch.tensor([0, 1, 2, 3], { dtype: 'int64' })).backward();
      optimizer.step();
    });
  const snapshot = () => Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, v.clone()]));
  const start = snapshot();
  try {
    model.train();
    freeze.apply(true);
    step();
    const frozen = model.stateDict();
    const backbone = Object.keys(frozen).filter((k) => !k.startsWith('fc.'));
    assert.ok(sameTensors(frozen, start, backbone), 'weights, decay and running statistics all unchanged');
    assert.ok(!frozen['fc.weight'].equal(start['fc.weight']), 'the classifier trained');
    model.train();
    freeze.apply(false);
    step();
    assert.ok(!model.stateDict()['layer1.0.conv1.weight'].equal(start['layer1.0.conv1.weight']));
    assert.ok(!model.stateDict()['bn1.running_mean'].equal(start['bn1.running_mean']));
  } finally {
    torch.dispose(Object.values(start));
    optimizer.dispose();
    model.dispose();
  }
});

test("the pretrained weights' fields need them; they exclude whiten and identityInit", () => {
  assert.throws(
    () => config({ pretrainedSha256: 'a'.repeat(64), pretrainedClassifier: 'keep' }),
    /pretrainedSha256 and pretrainedClassifier 'keep' apply to pretrained weights: name them \(--pretrained\)/,
  );
  assert.throws(() => config({ pretrainedKeyMap: 'rules.json' }), /pretrainedKeyMap apply to pretrained weights/);
  assert.throws(
    () => config({ pretrainedSha256: 'abc' }),
    /pretrainedSha256 is "abc"; expected a SHA-256 as 64 hex digits, or null/,
  );
  assert.throws(
    () => config({ pretrained: 'w.pt', model: 'fastnet', whiten: true }),
    /whiten .* replacing the pretrained weights: drop one \(--no-whiten\)/,
  );
  assert.throws(() => config({ pretrained: 'w.pt', model: 'fastnet', identityInit: true }), /identityInit .*drop one/);
  assert.throws(
    () => config({ epochs: 2, freezeBackboneEpochs: 3 }),
    /freezeBackboneEpochs \(3\) must be at most epochs \(2\)/,
  );
  // Freezing and the backbone's lr apply to a random initialisation too (a classifier over random features).
  assert.equal(config({ epochs: 2, freezeBackboneEpochs: 2, backboneLrScale: 0.1 }).freezeBackboneEpochs, 2);
});

test("senet run: the design stages' fingerprints change with the pretrained weights named, and only then", () => {
  const se = (values: Partial<TrainConfig>) => designFingerprints(config(values), null, 'data')['se-module-design'];
  const fromFile = se({ pretrained: 'a.pt' });
  assert.notEqual(fromFile, se({}));
  assert.notEqual(se({ pretrained: 'b.pt' }), fromFile);
  assert.notEqual(se({ pretrained: 'a.pt', pretrainedSha256: 'a'.repeat(64) }), fromFile);
  assert.notEqual(se({ pretrained: 'a.pt', pretrainedClassifier: 'replace' }), fromFile);
  assert.notEqual(se({ pretrained: 'a.pt', pretrainedKeyMap: 'rules.json' }), fromFile);
  // The trainer resolves 'auto' in config.json: the training config's hash stays the one `senet run` started.
  assert.equal(
    configHash(config({ pretrained: 'a.pt', pretrainedClassifier: 'replace' })),
    configHash(config({ pretrained: 'a.pt' })),
  );
});

test('every registry model names its classifier: a Linear child with one output per class', () => {
  for (const { name } of listModels()) {
    const model = createModel(name, { numClasses: 13, device: 'meta' });
    try {
      const child = new Map(model.namedChildren()).get(classifierName(model));
      assert.ok(child instanceof torch.nn.Linear, `${name}: ${model.classifierName} is a Linear layer`);
      assert.equal(child.weight.shape[0], 13, name);
      assert.deepEqual(
        classifierKeys(model).filter((k) => k.endsWith('.weight')),
        [`${model.classifierName}.weight`],
      );
    } finally {
      model.dispose();
    }
  }
  assert.throws(() => classifierName(new torch.nn.Linear(2, 3)), /Linear does not name its classifier/);
});
