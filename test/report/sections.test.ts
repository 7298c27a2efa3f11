// The report's text sections from run files: the reproducibility block (from environment.json, or what
// the report can say without it), rounded numbers, and the readers of steps.jsonl and environment.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../src/train/config.js';
import { overviewBlocks, reproducibilityBlocks, shellCommand, summaryLine } from '../../src/report/sections.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { checkEnvironment, parseSteps, type RunFiles, type TrainingSession } from '../../src/report/index.js';

const SESSION: TrainingSession = {
  startedAt: '2026-01-02T03:04:05.000Z',
  argv: ['/usr/bin/node', '/opt/senet/bin/senet.js', 'train', '--model', 'se-resnet20', '--out', 'runs/my run'],
  cwd: '/home/me',
  senet: '0.1.0',
  libtorch: '1.13.0',
  node: 'v20.20.2',
  platform: 'linux x64',
  cpu: 'AMD EPYC 7B13',
  cores: 16,
  threads: 8,
};

function run(overrides: Partial<RunFiles> = {}): RunFiles {
  return {
    dir: '/runs/x',
    config: { ...DEFAULT_CONFIG, lr: 0.0123456789, weightDecay: 0.000123456 },
    pipeline: null,
    metrics: [],
    steps: [],
    evaluation: null,
    environment: null,
    augmentationSamples: null,
    ...overrides,
  };
}

const markdown = (r: RunFiles, here = SESSION) =>
  renderMarkdown({ title: 't', blocks: reproducibilityBlocks(r, here) });

test('reproducibility: the command that started the run, its machine, each resume, and the full config', () => {
  const resumed = { ...SESSION, startedAt: '2026-01-03T00:00:00.000Z', argv: ['node', 'resume.mjs'], threads: 2 };
  const md = markdown(run({ environment: { sessions: [SESSION, resumed] } }));
  assert.ok(
    md.includes(
      "- Command: `senet train --model se-resnet20 --out 'runs/my run'` in `/home/me` (2026-01-02T03:04:05.000Z)",
    ),
    md,
  );
  assert.ok(
    md.includes(
      '- Machine: senet 0.1.0, libtorch 1.13.0, Node v20.20.2 on linux x64; CPU AMD EPYC 7B13, 16 cores, 8 libtorch threads',
    ),
  );
  assert.ok(md.includes('- Resumed (1) 2026-01-03T00:00:00.000Z: `node resume.mjs`, senet 0.1.0'));
  assert.match(md, /2 libtorch threads/);
  const json = /```json\n([\s\S]*?)\n```/.exec(md)![1];
  assert.deepEqual(JSON.parse(json), run().config);
});

test('reproducibility without environment.json: says so, and what made the report', () => {
  const md = markdown(run(), { ...SESSION, senet: '9.9.9' });
  assert.match(md, /The run did not record its command line or machine \(it has no environment\.json/);
  assert.match(md, /This report was made with senet 9\.9\.9, libtorch 1\.13\.0, Node v20\.20\.2/);
  assert.match(md, /the run's config asks for every core\./);
  assert.doesNotMatch(md, /Command:/);
});

test('shellCommand quotes what a shell would split or expand', () => {
  assert.equal(shellCommand(['senet', 'train', '--lr', '0.1', '--out', 'a b']), "senet train --lr 0.1 --out 'a b'");
  assert.equal(shellCommand(["it's", '$HOME', '*']), "'it'\\''s' '$HOME' '*'");
});

test('the overview rounds numbers that came from tuning (no 0.0123456789)', () => {
  const md = renderMarkdown({ title: 't', blocks: overviewBlocks(run(), new Date(0)) });
  assert.match(md, /lr 0\.01235, schedule/);
  assert.match(md, /weight decay 1\.235e-4/);
  assert.doesNotMatch(md, /0\.0123456789/);
});

test('steps.jsonl: in step order, a step redone after a resume counts once (its last line), a torn last line dropped', () => {
  const text = [
    '{"epoch":1,"batch":1,"step":1,"loss":2.5,"lr":0.1}',
    '{"epoch":1,"batch":2,"step":2,"loss":2.4,"lr":0.1}',
    '{"epoch":1,"batch":2,"step":2,"loss":2.3,"lr":0.1}',
    '{"epoch":1,"batch":3,"step":3,"loss":2.2}',
    '{"epoch":1,"batch":4,"st',
  ].join('\n');
  assert.deepEqual(
    parseSteps(text, 'steps.jsonl').map((s) => [s.step, s.loss]),
    [
      [1, 2.5],
      [2, 2.3],
      [3, 2.2],
    ],
  );
  assert.throws(
    () => parseSteps('{"epoch":1}\n', 'r/steps.jsonl'),
    /r\/steps\.jsonl:1: expected an object with integer epoch, batch, step/,
  );
  assert.throws(() => parseSteps('nope\n{"epoch":1,"batch":1,"step":1,"loss":1}\n', 's'), /s:1 is not valid JSON/);
});

test('environment.json problems are named', () => {
  assert.deepEqual(checkEnvironment({ sessions: [SESSION] }, 'e').sessions[0].argv, SESSION.argv);
  assert.throws(
    () => checkEnvironment({ sessions: [] }, 'run/environment.json'),
    /run\/environment\.json: expected \{ "sessions"/,
  );
  assert.throws(
    () => checkEnvironment({ sessions: [{ ...SESSION, argv: 'senet train' }] }, 'e'),
    /e: sessions\[0\]\.argv must be a list of strings/,
  );
  assert.throws(
    () => checkEnvironment({ sessions: [{ ...SESSION, cores: '16' }] }, 'e'),
    /sessions\[0\]\.cores must be an integer/,
  );
});

test('stage summaries: numbers rounded, the tuned overrides shown, big objects left out', () => {
  const line = summaryLine({
    name: 'hyperparameter-tuning',
    title: 'Hyper-parameter tuning',
    status: 'done',
    startedAt: null,
    endedAt: null,
    summary: {
      trials: 12000,
      bestValue: 0.8234567891,
      overrides: { lr: 0.0123456789, weightDecay: 0.000123456, schedule: 'cosine' },
      perClass: { a: 1, b: 2, c: 3, d: 4, e: 5 },
      shape: [3, 32, 32],
    },
  });
  assert.equal(line, 'trials 12,000, bestValue 0.8235, overrides (lr 0.01235, weightDecay 1.235e-4, schedule cosine)');
});
