// Bad input anywhere gives exit code 1 and one line "senet: <what was wrong and what was expected>",
// without a stack trace unless SENET_DEBUG is set. The CLI runs in this process (execute), except for one
// check of the real `senet` binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readPipeline } from '../../src/train/stages.js';
import { tempDir } from '../data/support.js';
import { errorLine, runCli, senetInProcess as senet } from './support.js';

test('usage and input errors are one clear line with exit code 1', async (t) => {
  const dir = tempDir(t, 'senet-cli-errors-');
  const expectations: [string[], RegExp][] = [
    [
      ['train', '--model', 'resnet9000', '--out', join(dir, 'a')],
      /^senet: --model is "resnet9000"; expected a model name \(one of simple-cnn, resnet20, /,
    ],
    [
      ['train', '--data', join(dir, 'no-such-folder'), '--out', join(dir, 'b'), '--threads', '1'],
      /^senet: data '.*no-such-folder' is neither cifar10 nor cifar100 nor an existing folder; expected a folder with train\/<class>\/\*\.jpg and test\/<class>\/\*\.jpg$/,
    ],
    [
      ['train', '--epochs', 'ten'],
      /^senet: option '-e, --epochs <n>' argument 'ten' is invalid\. --epochs expects an integer, got 'ten'$/,
    ],
    [['train', '--optimizer', 'rmsprop'], /^senet: .*--optimizer expects one of adam, sgd, adamw, got 'rmsprop'$/],
    [['train', '--lr', '0', '--out', join(dir, 'c')], /^senet: --lr is 0; expected a number > 0$/],
    [['trian'], /^senet: unknown command 'trian' \(Did you mean train\?\)$/],
    [
      ['train', '--attention', '{type: eca}'],
      /^senet: .*--attention expects a JSON object such as '\{"type":"se","reduction":8\}', got '\{type: eca\}' \(not JSON\)$/,
    ],
    [['train', '--attention', '{"type":"cbam"}'], /^senet: --attention: type .*cbam/],
    [
      ['train', '--config', join(dir, 'missing.json')],
      /^senet: cannot read the config file .*missing\.json: it does not exist$/,
    ],
    [['eval', '--run', join(dir, 'nothing-here')], /^senet: the run directory .*nothing-here does not exist$/],
    [
      ['infer', '--weights', join(dir, 'w.safetensors'), '--input', 'x.npy', '--output', 'y.npy'],
      /^senet: cannot read the weights file .*w\.safetensors: it does not exist$/,
    ],
    [['infer', '--input', 'x.npy'], /^senet: required option '-o, --output <file>' not specified$/],
    // A thread count that would have libtorch start threads for minutes is refused before anything runs.
    [
      ['train', '--threads', '100000', '--out', join(dir, 'd')],
      /^senet: --threads: expected a whole number of threads from 1 to \d+ \(4 per core on this machine's \d+ cores, at most 1024\), got 100000$/,
    ],
    [
      ['eval', '--run', join(dir, 'nothing-here'), '--threads', '100000'],
      /^senet: option '--threads <n>' argument '100000' is invalid\. --threads: expected a whole number of threads from 1 to \d+/,
    ],
    // Every count and size has an upper bound, checked when the flag is parsed.
    [
      ['eval', '--run', join(dir, 'nothing-here'), '--batch-size', '1000000'],
      /^senet: option '-b, --batch-size <n>' argument '1000000' is invalid\. --batch-size expects an integer in \[1, 65536\], got '1000000'$/,
    ],
    [['bench', '--steps', '1e9'], /--steps expects an integer in \[1, 100000\], got '1e9'$/],
    [['predict', '--top-k', '99999', 'x.jpg'], /--top-k expects an integer in \[1, 1000\], got '99999'$/],
  ];
  for (const [args, pattern] of expectations) {
    const { code, stderr } = await senet(...args);
    assert.equal(code, 1, `${args.join(' ')}: ${stderr}`);
    assert.match(errorLine(stderr), pattern);
    assert.equal(stderr.trim().split('\n').length, 1, `one line only: ${stderr}`);
  }
  assert.equal(existsSync(join(dir, 'd')), false, 'a refused thread count creates no run directory');
  // The failed data stage is recorded in the run's pipeline.json, the later stages left pending.
  const stages = readPipeline(join(dir, 'b', 'pipeline.json')).stages;
  assert.equal(stages[0].status, 'failed');
  assert.match(String(stages[0].summary?.error), /neither cifar10 nor cifar100/);
  assert.ok(stages.slice(1).every((s) => s.status === 'pending'));
  // That run never trained, so a retry in the same --out starts afresh (not "already holds a run").
  const retry = await senet('train', '--data', join(dir, 'still-missing'), '--out', join(dir, 'b'), '--threads', '1');
  assert.match(errorLine(retry.stderr), /^senet: data '.*still-missing' is neither cifar10/);
});

test('the senet binary: exit code 1, one line, and the stack trace only with SENET_DEBUG=1', async (t) => {
  const dir = tempDir(t, 'senet-cli-errors-');
  const [plain, debug] = await Promise.all([
    runCli(['train', '--data', join(dir, 'nothing'), '--out', join(dir, 'run1')]),
    runCli(['train', '--data', join(dir, 'nothing'), '--out', join(dir, 'run2')], { env: { SENET_DEBUG: '1' } }),
  ]);
  assert.equal(plain.code, 1);
  assert.match(errorLine(plain.stderr), /^senet: data '.*nothing' is neither/);
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /^senet: data '.*nothing' is neither/);
  assert.match(debug.stderr, /\n\s+at /);
});
