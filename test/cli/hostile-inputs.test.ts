// Hostile paths and weights on the command line: --input /dev/zero or a FIFO, --weights naming a folder or
// a device, an image that is a folder, and weights holding NaN (refused unless --allow-nonfinite). Each is
// one line "senet: ..." with exit code 1, never a read that does not end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { createModel, modelName } from '../../src/models/index.js';
import { weightsMetadata, type ModelSpec } from '../../src/train/trained-model.js';
import { tempDir } from '../data/support.js';
import { errorLine, senetInProcess as senet } from './support.js';

const SPEC: ModelSpec = { name: 'simple-cnn', options: { numClasses: 10, inChannels: 3, inputSize: [32, 32] } };

/** simple-cnn weights with senet's metadata; with `poison`, its first weight holds a NaN. */
function writeWeights(file: string, poison: boolean): void {
  const model = createModel(modelName(SPEC.name), SPEC.options);
  const state = new Map(Object.entries(model.stateDict()));
  const created: torch.Tensor[] = [];
  if (poison) {
    const [key, t] = [...state].find(([, v]) => v.isFloatingPoint() && v.ndim > 1)!;
    const values = Array.from(t.data() as Float32Array);
    values[0] = Number.NaN;
    const bad = torch.tensor(values).reshape(t.shape);
    created.push(bad);
    state.set(key, bad);
  }
  torch.io.saveSafetensors(
    state,
    file,
    weightsMetadata(SPEC, {
      classes: Array.from({ length: 10 }, (_, i) => `c${i}`),
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    }),
  );
  torch.dispose(created);
  model.dispose();
}

test('devices, FIFOs and folders given as files, and NaN weights, are one clear error', async (t) => {
  const dir = tempDir(t, 'senet-cli-hostile-');
  const weights = join(dir, 'w.safetensors');
  const nan = join(dir, 'nan.safetensors');
  writeWeights(weights, false);
  writeWeights(nan, true);
  const fifo = join(dir, 'pipe.npy');
  execFileSync('mkfifo', [fifo]);
  const folderImage = join(dir, 'folder.jpg');
  mkdirSync(folderImage);
  const images = join(dir, 'x.npy');
  const x = torch.zeros([2, 3, 32, 32]);
  torch.io.saveNpy(x, images);
  x.dispose();
  const out = join(dir, 'y.npy');
  const notAFile = 'not a regular file; give the path of a file$';
  const expectations: [string[], RegExp][] = [
    [
      ['infer', '--weights', weights, '--input', '/dev/zero', '--output', out],
      new RegExp(`^senet: cannot read the \\.npy file /dev/zero: it is a device, ${notAFile}`),
    ],
    [
      ['infer', '--weights', weights, '--input', fifo, '--output', out],
      new RegExp(`^senet: cannot read the \\.npy file .*pipe\\.npy: it is a FIFO \\(named pipe\\), ${notAFile}`),
    ],
    [
      ['infer', '--weights', dir, '--input', images, '--output', out],
      new RegExp(`^senet: cannot read the weights file .*: it is a directory, ${notAFile}`),
    ],
    [
      ['eval', '--weights', '/dev/zero'],
      new RegExp(`^senet: cannot read the weights file /dev/zero: it is a device, ${notAFile}`),
    ],
    [
      ['predict', '--weights', weights, folderImage],
      new RegExp(`^senet: cannot read the image .*folder\\.jpg: it is a directory, ${notAFile}`),
    ],
    [
      ['infer', '--weights', nan, '--input', images, '--output', out],
      /^senet: cannot load weights from .*nan\.safetensors: 1 tensor holds NaN or infinite values: '.*'; .*pass --allow-nonfinite \(allowNonfinite\)$/,
    ],
  ];
  for (const [args, pattern] of expectations) {
    const { code, stderr } = await senet(...args);
    assert.equal(code, 1, `${args.join(' ')}: ${stderr}`);
    assert.match(errorLine(stderr), pattern);
  }
  assert.ok(!existsSync(out));
  const allowed = await senet('infer', '--weights', nan, '--input', images, '--output', out, '--allow-nonfinite');
  assert.equal(allowed.code, 0, allowed.stderr);
  const logits = torch.io.loadNpy(out);
  assert.deepEqual(logits.shape, [2, 10]);
  logits.dispose();
});
