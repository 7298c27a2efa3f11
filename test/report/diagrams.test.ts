import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ganttChart,
  ganttSpec,
  renderSvg,
  stateDiagram,
  stateDiagramSvg,
  checkPipeline,
  type Pipeline,
} from '../../src/report/index.js';

// A run that failed in training: every status but 'running' appears, with real-looking times.
const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const FAILED_RUN: Pipeline = checkPipeline(
  {
    stages: [
      {
        name: 'data-preparation',
        title: 'Data preparation',
        status: 'done',
        startedAt: at(0),
        endedAt: at(12_345),
        summary: { train: 50000 },
      },
      {
        name: 'data-augmentation',
        title: 'Data augmentation',
        status: 'done',
        startedAt: at(12_400),
        endedAt: at(12_450),
        summary: {},
      },
      {
        name: 'se-module-design',
        title: 'SE module design',
        status: 'done',
        startedAt: at(12_500),
        endedAt: at(13_700),
        summary: {},
      },
      {
        name: 'cnn-model-design',
        title: 'CNN model design',
        status: 'done',
        startedAt: at(13_700),
        endedAt: at(13_750),
        summary: {},
      },
      {
        name: 'hyperparameter-tuning',
        title: 'Hyper-parameter tuning',
        status: 'skipped',
        startedAt: null,
        endedAt: null,
        summary: { reason: 'not asked' },
      },
      {
        name: 'model-training',
        title: 'Model training',
        status: 'failed',
        startedAt: at(14_000),
        endedAt: at(194_000),
        summary: { error: 'loss became NaN at epoch 3, batch 17: lower --lr' },
      },
      { name: 'evaluation', title: 'Evaluation', status: 'pending', startedAt: null, endedAt: null, summary: null },
    ],
  },
  'pipeline.json',
);
const NAMES = FAILED_RUN.stages.map((s) => s.name);
const ID = (name: string) => `stage_${name.replace(/-/g, '_')}`;

/** The task lines of a Gantt chart: label, tags, id, start, duration. */
function ganttTasks(text: string) {
  return text
    .split('\n')
    .filter((l) => /^\s{4}\S/.test(l))
    .map((line) => {
      const [label, spec] = line.trim().split(' :');
      const parts = spec.split(',').map((p) => p.trim());
      return { label, tags: parts.slice(0, -3), id: parts.at(-3)!, start: parts.at(-2)!, duration: parts.at(-1)! };
    });
}

test('gantt: every stage once, in pipeline order, at its real start with its real duration and status tag', () => {
  const text = ganttChart(FAILED_RUN, { now: T0 + 200_000 })!;
  assert.match(text, /^gantt\n/);
  assert.match(text, /\n {2}dateFormat YYYY-MM-DD HH:mm:ss\.SSS\n/);
  assert.match(text, /\n {2}axisFormat %H:%M:%S\n/);
  const tasks = ganttTasks(text);
  assert.deepEqual(
    tasks.map((t) => t.id),
    NAMES.map(ID),
  );
  assert.deepEqual(
    tasks.map((t) => t.tags),
    [['done'], ['done'], ['done'], ['done'], ['milestone'], ['crit'], ['milestone']],
  );
  assert.deepEqual(
    tasks.map((t) => t.duration),
    ['12345ms', '50ms', '1200ms', '50ms', '0ms', '180000ms', '0ms'],
  );
  assert.equal(tasks[0].start, '2025-03-01 12:00:00.000');
  assert.equal(tasks[5].start, '2025-03-01 12:00:14.000');
  // Untimed stages sit where the pipeline stood: after the stage before them ended.
  assert.equal(tasks[4].start, '2025-03-01 12:00:13.750');
  assert.equal(tasks[6].start, '2025-03-01 12:03:14.000');
  assert.equal(tasks[0].label, 'Data preparation · 12.3 s');
  assert.equal(tasks[4].label, 'Hyper-parameter tuning · skipped');
  assert.equal(tasks[5].label, 'Model training · FAILED after 3 min 00 s');
  assert.equal(tasks[6].label, 'Evaluation · not run');
  // Sections in workflow order, each once.
  assert.deepEqual(text.match(/section .*/g), [
    'section Data',
    'section Model design',
    'section Training',
    'section Evaluation',
  ]);
  // A 3-minute run gets a tick every minute.
  assert.match(text, /\n {2}tickInterval 1minute\n/);
});

test('gantt: a running stage lasts until now; nothing started means no chart', () => {
  const running = checkPipeline(
    {
      stages: [
        {
          name: 'data-preparation',
          title: 'Data: preparation; #1',
          status: 'done',
          startedAt: at(0),
          endedAt: at(1000),
          summary: {},
        },
        {
          name: 'model-training',
          title: 'Model training',
          status: 'running',
          startedAt: at(1000),
          endedAt: null,
          summary: null,
        },
        { name: 'evaluation', title: 'Evaluation', status: 'pending', startedAt: null, endedAt: null, summary: null },
      ],
    },
    'p',
  );
  const tasks = ganttTasks(ganttChart(running, { now: T0 + 61_000 })!);
  assert.deepEqual(tasks[1].tags, ['active']);
  assert.equal(tasks[1].duration, '60000ms');
  assert.equal(tasks[1].label, 'Model training · running for 1 min 00 s');
  // Mermaid syntax characters never reach the chart.
  assert.equal(tasks[0].label, 'Data preparation 1 · 1.00 s');
  const notStarted = checkPipeline(
    {
      stages: NAMES.map((name) => ({
        name,
        title: name,
        status: 'pending',
        startedAt: null,
        endedAt: null,
        summary: null,
      })),
    },
    'p',
  );
  assert.equal(ganttChart(notStarted), null);
});

test('state diagram: [*] → every stage in order → [*], a class per final status, the failure noted', () => {
  const text = stateDiagram(FAILED_RUN);
  const lines = text.split('\n').map((l) => l.trim());
  assert.equal(lines[0], 'stateDiagram-v2');
  for (const status of ['done', 'failed', 'skipped', 'pending', 'running']) {
    assert.equal(lines.filter((l) => l.startsWith(`classDef ${status} `)).length, 1, `classDef ${status}`);
  }
  // Each stage declared once, with its title and how it ended.
  for (const stage of FAILED_RUN.stages) {
    const declared = lines.filter((l) => l.startsWith('state ') && l.endsWith(` as ${ID(stage.name)}`));
    assert.equal(declared.length, 1, stage.name);
    assert.ok(declared[0].includes(stage.title), declared[0]);
  }
  assert.ok(lines.includes('state "✓ Data preparation (12.3 s)" as stage_data_preparation'));
  assert.ok(lines.includes('state "✗ Model training (failed, 3 min 00 s)" as stage_model_training'));
  assert.ok(lines.includes('state "… Evaluation (pending)" as stage_evaluation'));
  const transitions = lines.filter((l) => l.includes('-->')).map((l) => l.split(' --> '));
  assert.deepEqual(
    transitions,
    ['[*]', ...NAMES.map(ID)].map((from, i, all) => [from, all[i + 1] ?? '[*]']),
  );
  const classes = lines.filter((l) => l.startsWith('class ')).map((l) => l.split(' ').slice(1));
  assert.deepEqual(
    classes,
    FAILED_RUN.stages.map((s) => [ID(s.name), s.status]),
  );
  const note = lines.indexOf('note right of stage_model_training');
  assert.ok(note > 0, 'the failed stage has a note');
  assert.equal(lines[note + 1], 'failed - loss became NaN at epoch 3, batch 17 lower --lr');
  assert.equal(lines[note + 2], 'end note');
  assert.equal(lines.filter((l) => l.startsWith('note ')).length, 1, 'only the failed stage has a note');
});

test('pipeline.json problems are named', () => {
  assert.throws(
    () => checkPipeline({ stage: [] }, 'run/pipeline.json'),
    /run\/pipeline\.json: expected \{ "stages": \[\.\.\.\] \}/,
  );
  assert.throws(
    () => checkPipeline({ stages: [{ name: 'x', status: 'finished' }] }, 'p.json'),
    /p\.json: stages\[0\]\.status is "finished"; expected one of pending, running, done, failed, skipped/,
  );
  assert.throws(
    () => checkPipeline({ stages: [{ name: 'x', status: 'done', startedAt: 'yesterday' }] }, 'p.json'),
    /stages\[0\]\.startedAt is "yesterday"; expected an ISO time or null/,
  );
});

test('state diagram as SVG (report.html): a box per stage in order with its status class, the failure noted', () => {
  const svg = stateDiagramSvg(FAILED_RUN);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
  const stages = [...svg.matchAll(/<g class="stage (\w+)" id="([^"]+)">/g)].map((m) => [m[2], m[1]]);
  assert.deepEqual(
    stages,
    FAILED_RUN.stages.map((s) => [ID(s.name), s.status]),
  );
  // Left to right, in pipeline order, joined by arrows from the start dot to the end dot.
  const lefts = [...svg.matchAll(/<g class="stage[^>]*><title>[^<]*<\/title><rect x="(\d+)"/g)].map((m) =>
    Number(m[1]),
  );
  assert.deepEqual(
    lefts,
    [...lefts].sort((a, b) => a - b),
  );
  assert.equal((svg.match(/marker-end="url\(#arrow\)"/g) ?? []).length, FAILED_RUN.stages.length + 1);
  assert.ok(svg.includes('<title>✗ Model training (failed, 3 min 00 s)</title>'));
  assert.ok(svg.includes('>(12.3 s)</text>'), 'a done stage shows how long it took');
  assert.match(svg, /<g class="stage failed"[^>]*>.*?stroke="#b91c1c" stroke-width="4"/);
  const notes = [...svg.matchAll(/<g class="note">(.*?)<\/g>/g)];
  assert.equal(notes.length, 1, 'only the failed stage has a note');
  const noteText = [...notes[0][1].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).join(' ');
  assert.equal(noteText, 'failed - loss became NaN at epoch 3, batch 17 lower --lr');
  assert.doesNotMatch(stateDiagramSvg(checkPipeline({ stages: [{ name: 'a', status: 'done' }] }, 'p')), /class="note"/);
});

test('gantt as SVG (report.html): a bar per timed stage, a diamond per untimed one, on a UTC time axis', async () => {
  const spec = ganttSpec(FAILED_RUN, T0 + 200_000)!;
  const rows = (spec as { data: { values: { stage: string; start: number; end: number; status: string }[] } }).data
    .values;
  assert.deepEqual(
    rows.map((r) => [r.status, r.end - r.start]),
    [
      ['done', 12_345],
      ['done', 50],
      ['done', 1200],
      ['done', 50],
      ['skipped', 0],
      ['failed', 180_000],
      ['pending', 0],
    ],
  );
  assert.equal(rows[4].start, T0 + 13_750, 'the skipped stage sits where the pipeline stood, as in the Mermaid chart');
  assert.equal(rows[5].stage, 'Model training · FAILED after 3 min 00 s');
  const svg = await renderSvg(spec);
  const labels = (type: string) =>
    [...svg.matchAll(new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>(.*?)</g>`, 'gs'))].flatMap((g) =>
      [...g[1].matchAll(/aria-label="([^"]*)"/g)].map((m) => m[1]),
    );
  assert.equal(labels('rect').length, 5);
  assert.deepEqual(
    labels('symbol').map((l) => /stage: ([^;]*)/.exec(l)?.[1]),
    ['Hyper-parameter tuning · skipped', 'Evaluation · not run'],
  );
  // Times read in UTC whatever the machine's zone: the run started at 12:00:00 UTC.
  const ticks = [...svg.matchAll(/<text[^>]*>(\d\d:\d\d:\d\d)<\/text>/g)].map((m) => m[1]);
  assert.equal(ticks[0], '12:00:00', ticks.join(' '));
  assert.match(svg, /fill="#b91c1c"/, 'the failed bar is red');
  const notStarted = checkPipeline({ stages: [{ name: 'a', status: 'pending' }] }, 'p');
  assert.equal(ganttSpec(notStarted, T0), null);
});
