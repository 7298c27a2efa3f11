// Weights that parse but must not load silently: NaN or infinite values, F32 bytes relabelled as I32, and
// senet metadata whose class names do not fit the model's classifier. Each is one clear error naming the
// keys and the option (--allow-nonfinite, --cast-dtypes) that loads them anyway; fine-tuning
// (train --pretrained) refuses non-finite weights the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { createModel, modelName, loadWeights } from '../../src/models/index.js';
import { loadTrainedModel, weightsMetadata, type ModelSpec } from '../../src/train/trained-model.js';
import { loadPretrained } from '../../src/train/pretrained.js';
import { DEFAULTS_SOURCE, resolveConfig } from '../../src/train/config.js';

const { io } = torch;

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'senet-weights-hostile-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SPEC: ModelSpec = { name: 'simple-cnn', options: { numClasses: 10, inChannels: 3, inputSize: [32, 32] } };

/** The state dict of a fresh simple-cnn with `edit` applied, saved as safetensors with senet's metadata. */
function savedWeights(dir: string, edit: (state: Map<string, torch.Tensor>) => void, classes = 10): string {
  const model = createModel(modelName(SPEC.name), SPEC.options);
  const state = new Map(Object.entries(model.stateDict()).map(([k, t]) => [k, t.clone()]));
  edit(state);
  const file = join(dir, 'weights.safetensors');
  const context = {
    classes: Array.from({ length: classes }, (_, i) => `c${i}`),
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
  };
  io.saveSafetensors(state, file, weightsMetadata(SPEC, context));
  torch.dispose([...state.values()]);
  model.dispose();
  return file;
}

test('NaN and infinite weights are refused unless allowNonfinite', () =>
  withTempDir((dir) => {
    let poisoned = '';
    const file = savedWeights(dir, (state) => {
      poisoned = [...state].find(([, t]) => t.isFloatingPoint() && t.ndim > 1)![0];
      const t = state.get(poisoned)!;
      const values = Float32Array.from(t.data() as Float32Array);
      values[3] = Number.NaN;
      values[5] = Number.POSITIVE_INFINITY;
      state.set(poisoned, torch.tensor(Array.from(values)).reshape(t.shape));
      t.dispose();
    });
    const model = createModel(modelName(SPEC.name), SPEC.options);
    try {
      const escaped = poisoned.replace(/\./g, '\\.');
      assert.throws(
        () => loadWeights(model, file),
        new RegExp(
          `^Error: cannot load weights from .*weights\\.safetensors: 1 tensor holds ` +
            `NaN or infinite values: '${escaped}'; the checkpoint is from a diverged run or corrupt; to load it anyway, pass ` +
            '--allow-nonfinite \\(allowNonfinite\\)$',
        ),
      );
      assert.throws(() => loadTrainedModel({ weights: file }), /1 tensor holds NaN or infinite values/);
      loadWeights(model, file, { allowNonfinite: true });
      assert.ok(Number.isNaN((model.stateDict()[poisoned].data() as Float32Array)[3]));
      const trained = loadTrainedModel({ weights: file, allowNonfinite: true });
      trained.model.dispose();
    } finally {
      model.dispose();
    }
  }));

test('a float tensor relabelled as I32 in a safetensors header is refused unless castDtypes', () =>
  withTempDir((dir) => {
    const file = savedWeights(dir, () => undefined);
    const bytes = readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = bytes.toString('utf8', 8, 8 + headerLength);
    const relabelled = header.replace('"dtype":"F32"', '"dtype":"I32"');
    assert.notEqual(relabelled, header);
    writeFileSync(
      file,
      Buffer.concat([bytes.subarray(0, 8), Buffer.from(relabelled), bytes.subarray(8 + headerLength)]),
    );
    const key = Object.keys(JSON.parse(relabelled)).find((k) => JSON.parse(relabelled)[k].dtype === 'I32')!;
    const model = createModel(modelName(SPEC.name), SPEC.options);
    try {
      assert.throws(
        () => loadWeights(model, file),
        new RegExp(
          `^Error: cannot load weights from .*: 1 tensor has a dtype of another kind than the model's: '${key.replace(/\./g, '\\.')}' ` +
            "\\(int32, the model's float32\\); the file is corrupt or its dtypes were relabelled; to convert them anyway, pass " +
            '--cast-dtypes \\(castDtypes\\)$',
        ),
      );
      assert.throws(() => loadTrainedModel({ weights: file }), /1 tensor has a dtype of another kind than the model's/);
      loadWeights(model, file, { castDtypes: true });
    } finally {
      model.dispose();
    }
  }));

test('metadata class names must match the classifier: 2 names for a 10-class model is an error', () =>
  withTempDir((dir) => {
    const file = savedWeights(dir, () => undefined, 2);
    assert.throws(
      () => loadTrainedModel({ weights: file }),
      /^Error: .*weights\.safetensors: its metadata names 2 classes but its model has 10 outputs; the file is corrupt or its metadata was edited$/,
    );
  }));

test('fine-tuning refuses NaN pretrained weights unless pretrainedAllowNonfinite (train --allow-nonfinite)', () =>
  withTempDir((dir) => {
    const file = savedWeights(dir, (state) => {
      const t = state.get('fc.bias') ?? [...state].find(([, v]) => v.isFloatingPoint() && v.ndim === 1)![1];
      const key = [...state].find(([, v]) => v === t)![0];
      state.set(key, torch.full(t.shape, Number.NEGATIVE_INFINITY));
      t.dispose();
    });
    const model = createModel(modelName(SPEC.name), SPEC.options);
    try {
      assert.throws(
        () => loadPretrained(model, file, { what: 'pretrained.safetensors', classifier: 'keep' }),
        /^Error: the pretrained weights pretrained\.safetensors: 1 tensor holds NaN or infinite values: '.*'; .* pass --allow-nonfinite \(allowNonfinite\)$/,
      );
      loadPretrained(model, file, { classifier: 'keep', allowNonfinite: true });
    } finally {
      model.dispose();
    }
    assert.throws(
      () => resolveConfig({ values: { pretrainedAllowNonfinite: true }, source: DEFAULTS_SOURCE }),
      /pretrainedAllowNonfinite apply to pretrained weights: name them \(--pretrained\)/,
    );
  }));
