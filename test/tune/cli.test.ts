// `senet tune` end to end, in child processes, on a tiny CIFAR-10 made from the 1,000-image sample:
// a study killed with SIGKILL mid-trial and resumed to completion, then its best config trained again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { SENET, errorLine, makeTinyCifar, runCli } from '../cli/support.js';
import { StudyStorage } from '../../src/tune/storage.js';
import { trialDir } from '../../src/tune/objective.js';

const SPACE = {
  lr: { type: 'float', low: 1e-4, high: 3e-2, log: true },
  batchSize: { choices: [32, 64] },
  'attention.reduction': { choices: [4, 8, 16] },
};
const BASE = { model: 'simple-cnn', data: 'cifar10', epochs: 3 };

function setUp(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'senet-tune-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { SENET_DATA: makeTinyCifar(join(dir, 'data')) };
  writeFileSync(join(dir, 'base.json'), JSON.stringify(BASE));
  writeFileSync(join(dir, 'space.json'), JSON.stringify(SPACE));
  return { dir, env, study: join(dir, 'study') };
}

/** Runs senet until it exits, or until `killWhen` picks a stdout line: then kills it with SIGKILL. */
function runUntil(args: string[], env: Record<string, string>, killWhen: (line: string) => boolean) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; killedOn: string | null }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [SENET, ...args], {
        cwd: ROOT,
        env: { ...process.env, CI: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let killedOn: string | null = null;
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        const line = stdout
          .split('\n')
          .slice(0, -1)
          .find((l) => killedOn === null && killWhen(l));
        if (line !== undefined && killedOn === null) {
          killedOn = line;
          child.kill('SIGKILL');
        }
      });
      child.stderr!.resume();
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, killedOn }));
    },
  );
}

test('senet tune: killed mid-study with SIGKILL, resumed to its 8 trials; best-config.json trains', async (t) => {
  const { dir, env, study } = setUp(t);
  const args = [
    'tune',
    '--study',
    study,
    '--config',
    join(dir, 'base.json'),
    '--space',
    join(dir, 'space.json'),
    '--trials',
    '8',
    '--sampler',
    'tpe',
    '--sampler-options',
    '{"startupTrials":4}',
    '--pruner',
    'asha',
    '--pruner-options',
    '{"reductionFactor":2}',
    '--seed',
    '1',
    '--threads',
    '1',
  ];
  // Killed while a trial that passed its first rung trains its second epoch.
  const first = await runUntil(args, env, (line) => /^trial ([2-9]) epoch 1: .*\(promoted/.test(line));
  assert.equal(first.signal, 'SIGKILL', `the first run should have been killed mid-study:\n${first.stdout}`);
  const killed = Number(/^trial (\d+)/.exec(first.killedOn!)![1]);

  // Resumed with the stored settings only.
  const second = await runCli(['tune', '--study', study, '--threads', '1'], { env });
  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.match(
    second.stdout,
    /^Continuing study .*: simple-cnn on cifar10, sampler tpe, pruner asha, budget 8 trials$/m,
  );
  assert.match(second.stdout, new RegExp(`^trial ${killed}: its worker is gone; re-queued to resume$`, 'm'));
  assert.match(second.stdout, new RegExp(`^trial ${killed} resumed: `, 'm'));
  assert.match(second.stdout, /^stopped: the study has its 8 trials$/m);

  const storage = StudyStorage.open(join(study, 'study.db'));
  let trials: ReturnType<StudyStorage['trials']>;
  try {
    trials = storage.trials(storage.loadStudy('study')!.id);
  } finally {
    storage.close();
  }
  assert.deepEqual(
    trials.map((tr) => tr.number),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.ok(
    trials.every((tr) => tr.state === 'complete' || tr.state === 'pruned'),
    trials.map((tr) => `${tr.number} ${tr.state} ${tr.note}`).join('\n'),
  );
  assert.ok(
    trials.some((tr) => tr.state === 'pruned'),
    'ASHA pruned some trials',
  );
  assert.ok(trials.some((tr) => tr.state === 'complete'));
  for (const tr of trials) {
    // Each trial is a run directory whose epochs were each trained once and reported as they were.
    const metrics = readFileSync(join(trialDir(study, tr.number), 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      metrics.map((m) => m.epoch),
      [...tr.intermediate.keys()],
      `trial ${tr.number}`,
    );
    assert.deepEqual(
      metrics.map((m) => m.test_acc),
      [...tr.intermediate.values()],
      `trial ${tr.number}`,
    );
    assert.equal(tr.value, metrics.at(-1).test_acc);
    if (tr.state === 'complete') assert.equal(metrics.length, 3);
  }
  assert.equal(trials[killed].lost, 1);
  for (const plot of ['history', 'intermediate', 'params'])
    assert.match(readFileSync(join(study, 'plots', `${plot}.svg`), 'utf8'), /^<svg/);

  const shown = await runCli(['tune', '--study', study, '--show'], { env });
  assert.equal(shown.code, 0, shown.stderr);
  const pruned = trials.filter((tr) => tr.state === 'pruned').length;
  assert.match(shown.stdout, new RegExp(`^8 trials: ${8 - pruned} complete, ${pruned} pruned$`, 'm'));
  assert.match(shown.stdout, /^rank +trial +state +accuracy +epochs +time +lr +batchSize +attention\.reduction$/m);

  // The best config is a senet train config: the best complete trial's parameters on the base.
  const best = trials.filter((tr) => tr.state === 'complete').reduce((a, b) => (b.value! > a.value! ? b : a));
  const bestConfig = JSON.parse(readFileSync(join(study, 'best-config.json'), 'utf8'));
  assert.equal(bestConfig.lr, best.params.lr);
  assert.equal(bestConfig.batchSize, best.params.batchSize);
  assert.deepEqual(bestConfig.attention, { reduction: best.params['attention.reduction'] });
  const retrain = await runCli(
    [
      'train',
      '--config',
      join(study, 'best-config.json'),
      '--epochs',
      '1',
      '--threads',
      '1',
      '--out',
      join(dir, 'retrain'),
    ],
    { env },
  );
  assert.equal(retrain.code, 0, retrain.stderr);
  const retrained = JSON.parse(readFileSync(join(dir, 'retrain', 'config.json'), 'utf8'));
  assert.equal(retrained.lr, best.params.lr);
  assert.deepEqual(retrained.attention, bestConfig.attention);
});

test('senet tune explains what is missing or inconsistent, in one line', async (t) => {
  const { dir, env, study } = setUp(t);
  const noSpace = await runCli(['tune', '--study', study, '--trials', '2'], { env });
  assert.equal(noSpace.code, 1);
  assert.match(
    errorLine(noSpace.stderr),
    /holds no study yet: give --space \(and --config for the base training config\) to create it/,
  );
  assert.equal(existsSync(join(study, 'study.db')), false, 'nothing is created');

  writeFileSync(join(dir, 'bad-space.json'), JSON.stringify({ epochs: { type: 'float', low: 1, high: 4 } }));
  const bad = await runCli(['tune', '--study', study, '--space', join(dir, 'bad-space.json'), '--trials', '2'], {
    env,
  });
  assert.match(
    errorLine(bad.stderr),
    /search space parameter 'epochs' cannot take the value [\d.]+: the tuned 'epochs' is [\d.]+; expected an integer in \[1, 10000\]/,
  );

  const noBudget = await runCli(
    ['tune', '--study', study, '--config', join(dir, 'base.json'), '--space', join(dir, 'space.json')],
    { env },
  );
  assert.match(errorLine(noBudget.stderr), /give a budget: --trials N, --max-epochs-total E or --timeout-minutes M/);
  assert.equal(existsSync(join(study, 'study.db')), false, 'nothing is created');
  // A run with no time creates the study and runs nothing; asking for another search space in it is refused.
  const empty = await runCli(
    [
      'tune',
      '--study',
      study,
      '--config',
      join(dir, 'base.json'),
      '--space',
      join(dir, 'space.json'),
      '--timeout-minutes',
      '0',
    ],
    { env },
  );
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(empty.stdout, /^stopped: the time budget of 0 minutes is used up$/m);
  assert.match(empty.stdout, /^0 trials$/m);
  writeFileSync(join(dir, 'other-space.json'), JSON.stringify({ lr: { type: 'float', low: 0.001, high: 0.01 } }));
  const other = await runCli(['tune', '--study', study, '--space', join(dir, 'other-space.json'), '--trials', '2'], {
    env,
  });
  assert.match(
    errorLine(other.stderr),
    /study 'study' in .* was created with another space .*; leave --space out to continue the study as it was/,
  );

  const none = await runCli(['tune', '--study', join(dir, 'nowhere'), '--show'], { env });
  assert.match(errorLine(none.stderr), /nowhere holds no study \(no .*study\.db\)/);
});
