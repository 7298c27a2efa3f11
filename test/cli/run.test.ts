// `senet run --config FILE` end to end, in child processes, on the tiny CIFAR-10 made from the 1,000-image
// sample: a full run with a 3-trial study and the report, the same command again doing nothing, a run
// killed with SIGKILL during its final training and completed by the same command (the same metrics as
// the uninterrupted run), and a failing stage reported on one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { SENET, errorLine, makeTinyCifar, metricsWithoutTimings, runCli } from './support.js';
import { readPipeline, STAGES } from '../../src/train/stages.js';

const TRAIN = { model: 'simple-cnn', data: 'cifar10', epochs: 2, batchSize: 50, seed: 1, threads: 1 };
const TUNE = {
  space: { lr: { type: 'float', low: 1e-4, high: 3e-2, log: true }, 'attention.reduction': { choices: [4, 8] } },
  sampler: 'tpe',
  samplerOptions: { startupTrials: 2 },
  pruner: 'asha',
  trials: 3,
  epochs: 1,
  seed: 3,
};

function setUp(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'senet-run-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { SENET_DATA: makeTinyCifar(join(dir, 'data')) };
  /** Writes a run config into dir and returns its path. */
  const config = (name: string, value: unknown) => {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  return { dir, env, config };
}

const stagesOf = (runDir: string) => readPipeline(join(runDir, 'pipeline.json')).stages;

/** Runs senet until it exits, or kills it with SIGKILL once a stdout line matches `killWhen`. */
function runUntilKilled(args: string[], env: Record<string, string>, killWhen: RegExp) {
  return new Promise<{ signal: NodeJS.Signals | null; stdout: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [SENET, ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      if (killWhen.test(stdout)) child.kill('SIGKILL');
    });
    child.stderr!.resume();
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, stdout }));
  });
}

test('senet run: all seven stages with a study and the report; the same command again skips every stage', async (t) => {
  const { dir, env, config } = setUp(t);
  const file = config('run', { out: 'out', train: TRAIN, tune: TUNE, report: true });
  const out = join(dir, 'out');
  const first = await runCli(['run', '--config', file], { env });
  assert.equal(first.code, 0, first.stderr + first.stdout);
  for (const { name } of STAGES) assert.match(first.stdout, new RegExp(`^stage ${name}: done$`, 'm'));
  assert.match(first.stdout, /^ {2}study stopped: the study has its 3 trials$/m);
  assert.match(first.stdout, /^Epoch \[2\/2\], Loss: /m);
  assert.match(first.stdout, /^Final test accuracy: \d+\.\d+%; run directory: /m);
  assert.match(first.stdout, /^Report: .*report\.md, .*report\.html$/m);
  const stages = stagesOf(out);
  assert.ok(stages.every((s) => s.status === 'done'));
  const tuning = stages.find((s) => s.name === 'hyperparameter-tuning')!.summary!;
  assert.equal(tuning.trials, 3);
  assert.match(
    readFileSync(join(out, 'report.md'), 'utf8'),
    /Hyper-parameter tuning · [^:]+:done, stage_hyperparameter_tuning/,
  );
  const tuned = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(tuned.lr, (tuning.overrides as { lr: number }).lr);

  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  const again = await runCli(['run', '--config', file], { env });
  assert.equal(again.code, 0, again.stderr + again.stdout);
  for (const { name } of STAGES) assert.match(again.stdout, new RegExp(`^stage ${name}: skipped$`, 'm'));
  assert.doesNotMatch(again.stdout, /trial \d|Epoch/);
  assert.match(again.stdout, /^Report unchanged: /m);
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), metrics);
  assert.ok(
    stagesOf(out).every((s) => s.status === 'skipped' && /^unchanged since /.test(s.summary!.reason as string)),
  );

  // The same run killed during its final training: the same command resumes it from its checkpoint.
  const killedFile = config('killed', { out: 'killed', train: TRAIN, tune: TUNE });
  const killed = await runUntilKilled(['run', '--config', killedFile], env, /^Epoch \[1\/2\]/m);
  assert.equal(killed.signal, 'SIGKILL', killed.stdout);
  const cut = stagesOf(join(dir, 'killed'));
  assert.equal(cut.find((s) => s.name === 'hyperparameter-tuning')!.status, 'done');
  assert.equal(cut.find((s) => s.name === 'model-training')!.status, 'running');
  const resumed = await runCli(['run', '--config', killedFile], { env });
  assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
  assert.match(resumed.stdout, /^stage hyperparameter-tuning: skipped$/m);
  assert.doesNotMatch(resumed.stdout, /trial \d/, 'the study is not run again');
  assert.match(resumed.stderr, /resuming at epoch 2 batch 0/);
  assert.doesNotMatch(resumed.stdout, /^Epoch \[1\/2\]/m, 'epoch 1 is not trained again');
  const done = stagesOf(join(dir, 'killed'));
  assert.deepEqual(
    done.map((s) => s.status),
    ['done', 'done', 'done', 'done', 'skipped', 'done', 'done'],
  );
  assert.deepEqual(
    metricsWithoutTimings(join(dir, 'killed')),
    metricsWithoutTimings(out),
    'the same epochs as the uninterrupted run',
  );
});

test('senet run: a failing stage is recorded and named in the one-line error; bad configs name the field', async (t) => {
  const { dir, env, config } = setUp(t);
  const file = config('diverge', { out: 'diverge', train: { ...TRAIN, epochs: 1, optimizer: 'sgd', lr: 1e30 } });
  const failed = await runCli(['run', '--config', file], { env });
  assert.equal(failed.code, 1);
  assert.match(errorLine(failed.stderr), /^senet: stage 'model-training' failed: training diverged: the loss is NaN/);
  const stages = stagesOf(join(dir, 'diverge'));
  assert.deepEqual(
    stages.map((s) => s.status),
    ['done', 'done', 'done', 'done', 'skipped', 'failed', 'pending'],
  );
  assert.match(stages[5].summary!.error as string, /training diverged/);
  assert.ok(existsSync(join(dir, 'diverge', 'config.json')));

  const bad = await runCli(
    ['run', '--config', config('bad', { out: 'x', train: TRAIN, tune: { ...TUNE, pruner: 'hyperband' } })],
    { env },
  );
  assert.equal(bad.code, 1);
  assert.match(
    errorLine(bad.stderr),
    /^senet: 'tune\.pruner' in .*bad\.json is "hyperband"; expected one of asha, median, none$/,
  );
  const missing = await runCli(['run', '--config', join(dir, 'nope.json')], { env });
  assert.match(errorLine(missing.stderr), /^senet: cannot read the run config .*nope\.json: it does not exist$/);
});
