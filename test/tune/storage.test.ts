import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { StudyStorage, type ClaimOptions, type WorkerIdentity } from '../../src/tune/storage.js';
import { openStudy } from '../../src/tune/study.js';
import { parseSpace, spaceToJson } from '../../src/tune/space.js';
import { gridOf, paramsKey } from '../../src/tune/samplers/index.js';
import { WORKER_SPACE, workerValue } from './worker.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');

function tempDb(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'senet-study-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'study.db');
}

const me = (suffix: string): WorkerIdentity => ({ id: `test:${suffix}`, host: hostname(), pid: process.pid });
const elsewhere = (suffix: string): WorkerIdentity => ({ id: `far:${suffix}`, host: 'another-host', pid: 1 });

function newStudy(storage: StudyStorage, name = 's') {
  return storage.createOrLoadStudy({
    name,
    direction: 'maximize',
    space: spaceToJson(parseSpace(WORKER_SPACE)),
    sampler: { type: 'random', seed: 0 },
    pruner: { type: 'none' },
    baseConfig: null,
    budget: { trials: null, maxEpochsTotal: null },
  }).study;
}

let sampled = 0;
const claimOptions = (overrides: Partial<ClaimOptions> = {}): ClaimOptions => ({
  sample: () => ({ x: sampled++ }),
  maxTrials: null,
  staleAfterMs: 60_000,
  maxLost: 3,
  ...overrides,
});

test('a new database has the tables, WAL mode and one study per name', (t) => {
  const path = tempDb(t);
  const storage = StudyStorage.open(path);
  const first = newStudy(storage);
  const again = storage.createOrLoadStudy({ ...first, name: 's' });
  assert.equal(again.created, false);
  assert.equal(again.study.id, first.id);
  assert.deepEqual(
    storage.listStudies().map((s) => s.name),
    ['s'],
  );
  storage.close();
  const raw = new Database(path);
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(
    (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
      (r) => r.name,
    ),
    ['intermediate_values', 'studies', 'trials'],
  );
  raw.pragma('user_version = 99');
  raw.close();
  assert.throws(() => StudyStorage.open(path), /is a study database of schema version 99; this senet reads version 1/);
});

test('claiming numbers trials in order, respects the trial budget and an exhausted sampler', (t) => {
  const storage = StudyStorage.open(tempDb(t));
  t.after(() => storage.close());
  const study = newStudy(storage);
  const a = storage.claimTrial(study.id, me('a'), claimOptions());
  const b = storage.claimTrial(study.id, me('b'), claimOptions());
  assert.equal(a.kind === 'claimed' && a.trial.number, 0);
  assert.equal(b.kind === 'claimed' && b.trial.number, 1);
  assert.equal(a.kind === 'claimed' && a.trial.state, 'running');
  assert.deepEqual(
    storage.claimTrial(study.id, me('c'), claimOptions({ maxTrials: 2 })).kind === 'none' && 'trials',
    'trials',
  );
  const none = storage.claimTrial(study.id, me('c'), claimOptions({ sample: () => null }));
  assert.equal(none.kind === 'none' && none.reason, 'exhausted');
  // The sampler sees the trials so far, and the new number.
  let seen: [number, number] | null = null;
  storage.claimTrial(
    study.id,
    me('d'),
    claimOptions({
      sample: (trials, number) => {
        seen = [trials.length, number];
        return {};
      },
    }),
  );
  assert.deepEqual(seen, [2, 2]);
});

test('a worker writes only about its own running trial', (t) => {
  const storage = StudyStorage.open(tempDb(t));
  t.after(() => storage.close());
  const study = newStudy(storage);
  storage.claimTrial(study.id, me('a'), claimOptions());
  assert.equal(storage.reportIntermediate(study.id, 0, 'test:b', 1, 0.5), false);
  assert.equal(storage.heartbeat(study.id, 0, 'test:b'), false);
  assert.equal(storage.finishTrial(study.id, 0, 'test:b', { state: 'complete', value: 1, note: null }), false);
  assert.equal(storage.reportIntermediate(study.id, 0, 'test:a', 1, 0.5), true);
  assert.equal(storage.reportIntermediate(study.id, 0, 'test:a', 2, NaN), true);
  assert.equal(storage.reportIntermediate(study.id, 0, 'test:a', 1, 0.25), true, 'a redone step replaces its value');
  assert.equal(storage.finishTrial(study.id, 0, 'test:a', { state: 'complete', value: 0.7, note: null }), true);
  assert.equal(
    storage.finishTrial(study.id, 0, 'test:a', { state: 'failed', value: null, note: 'again' }),
    false,
    'a final state is final',
  );
  const [trial] = storage.trials(study.id);
  assert.equal(trial.state, 'complete');
  assert.equal(trial.value, 0.7);
  assert.deepEqual(
    [...trial.intermediate],
    [
      [1, 0.25],
      [2, NaN],
    ],
  );
  assert.equal(storage.epochsUsed(study.id), 2);
  assert.ok(trial.endedAt! >= trial.startedAt!);
});

test('trials of dead workers are re-queued and resumed; a trial that keeps losing workers fails', (t) => {
  const storage = StudyStorage.open(tempDb(t));
  t.after(() => storage.close());
  const study = newStudy(storage);
  const t0 = 1_000_000;
  // A worker on another host: only its heartbeat tells whether it lives.
  storage.claimTrial(study.id, elsewhere('1'), claimOptions({ now: t0 }));
  const early = storage.claimTrial(study.id, me('x'), claimOptions({ now: t0 + 30_000 }));
  assert.deepEqual(early.requeue, { requeued: [], failed: [] });
  assert.equal(early.kind === 'claimed' && early.trial.number, 1, 'a fresh heartbeat keeps the trial with its worker');
  storage.finishTrial(study.id, 1, 'test:x', { state: 'complete', value: 1, note: null });
  const late = storage.claimTrial(study.id, me('y'), claimOptions({ now: t0 + 61_000 }));
  assert.deepEqual(late.requeue, { requeued: [0], failed: [] });
  assert.ok(late.kind === 'claimed');
  assert.equal(late.trial.number, 0, 'the re-queued trial goes before new ones');
  assert.equal(late.resumed, true);
  assert.equal(late.trial.lost, 1);
  assert.match(late.trial.note!, /re-queued: its worker far:1 sent no heartbeat for 61 s/);
  // The old worker, back from the dead, can no longer write about it.
  assert.equal(storage.reportIntermediate(study.id, 0, 'far:1', 1, 0.5), false);
  // Two more lost workers (maxLost 3): the trial fails instead of being re-queued a third time.
  // y falls silent: z takes trial 0 over; z falls silent: trial 0 fails.
  storage.claimTrial(study.id, me('z'), claimOptions({ now: t0 + 200_000 }));
  const last = storage.claimTrial(study.id, me('w'), claimOptions({ now: t0 + 400_000 }));
  const zero = storage.trial(study.id, 0)!;
  assert.equal(zero.state, 'failed');
  assert.equal(zero.lost, 3);
  assert.match(zero.note!, /failed: its worker test:z sent no heartbeat for 200 s; this trial has now lost 3 workers/);
  assert.ok(last.requeue.failed.includes(0));
});

test('a worker whose process is gone loses its trial at once, whatever its heartbeat', (t) => {
  const storage = StudyStorage.open(tempDb(t));
  t.after(() => storage.close());
  const study = newStudy(storage);
  const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(exited.stdout);
  storage.claimTrial(study.id, me('alive'), claimOptions());
  storage.claimTrial(study.id, { id: 'gone', host: hostname(), pid: deadPid }, claimOptions());
  const next = storage.claimTrial(study.id, me('new'), claimOptions());
  assert.deepEqual(next.requeue.requeued, [1], 'the dead process loses trial 1; this live one keeps trial 0');
  assert.ok(next.kind === 'claimed' && next.trial.number === 1 && next.resumed);
  assert.match(next.trial.note!, new RegExp(`its worker gone \\(pid ${deadPid}\\) stopped`));
  assert.equal(storage.trial(study.id, 0)!.state, 'running');
});

test('released and enqueued trials wait in the queue, the released one resuming', (t) => {
  const storage = StudyStorage.open(tempDb(t));
  t.after(() => storage.close());
  const study = newStudy(storage);
  storage.claimTrial(study.id, me('a'), claimOptions());
  assert.equal(storage.releaseTrial(study.id, 0, 'test:a', 'interrupted'), true);
  assert.equal(storage.trial(study.id, 0)!.state, 'waiting');
  const queued = storage.enqueueTrial(study.id, { batchSize: 64, epochs: 2 });
  assert.equal(queued, 1);
  const first = storage.claimTrial(study.id, me('b'), claimOptions());
  const second = storage.claimTrial(study.id, me('b'), claimOptions());
  assert.ok(first.kind === 'claimed' && second.kind === 'claimed');
  assert.deepEqual([first.trial.number, first.resumed], [0, true]);
  assert.deepEqual(
    [second.trial.number, second.resumed, second.trial.params],
    [1, false, { batchSize: 64, epochs: 2 }],
  );
});

test('openStudy stores the definition once and refuses a different one', (t) => {
  const storage = StudyStorage.open(tempDb(t));
  t.after(() => storage.close());
  const definition = {
    direction: 'maximize' as const,
    space: parseSpace(WORKER_SPACE),
    sampler: { type: 'tpe' as const, seed: 1 },
    pruner: { type: 'asha' as const },
    baseConfig: { model: 'simple-cnn' },
  };
  assert.throws(
    () => openStudy(storage, { name: 'n', definition: {} }),
    /there is no study 'n' in .* yet; to create it, give direction, space, sampler, pruner/,
  );
  const { study, created } = openStudy(storage, { name: 'n', definition, budget: { trials: 5 } });
  assert.equal(created, true);
  assert.deepEqual(study.budget, { trials: 5, maxEpochsTotal: null });
  // Given again (any key order) or left out: the stored study.
  const same = openStudy(storage, { name: 'n', definition: { ...definition, sampler: { seed: 1, type: 'tpe' } } });
  assert.equal(same.created, false);
  const resumed = openStudy(storage, { name: 'n', definition: {}, budget: { trials: 9 } });
  assert.deepEqual(resumed.study.budget, { trials: 9, maxEpochsTotal: null }, 'the budget may change');
  assert.deepEqual(resumed.study.space, definition.space);
  assert.throws(
    () =>
      openStudy(storage, {
        name: 'n',
        definition: { space: parseSpace({ lr: { type: 'float', low: 0.1, high: 1 } }) },
        optionNames: { space: '--space' },
      }),
    /study 'n' in .* was created with another space \(stored: .*; given: .*\); leave --space out to continue the study as it was/,
  );
  assert.throws(
    () => openStudy(storage, { name: 'n', definition: { pruner: { type: 'median' } } }),
    /created with another pruner/,
  );
  assert.throws(
    () =>
      openStudy(storage, {
        name: 'm',
        definition: {
          ...definition,
          sampler: { type: 'grid', seed: 0 },
          space: parseSpace({ lr: { type: 'float', low: 0.1, high: 1 } }),
        },
      }),
    /the grid sampler needs a finite set of values/,
  );
});

interface WorkerRun {
  lines: string[];
  code: number | null;
}

/** Starts a worker process; resolves with its output lines when it ends. */
function startWorker(args: string[], onLine?: (line: string, kill: () => void) => void): Promise<WorkerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let buffer = '';
    child.stdout!.on('data', (chunk) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        onLine?.(line, () => child.kill('SIGKILL'));
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ lines, code }));
  });
}

/** A go file for `workers` workers, and the line handler that creates it once all of them said "ready". */
function startingLine(db: string, workers: number): { go: string; onLine: (line: string) => void } {
  const go = `${db}.go`;
  let ready = 0;
  return {
    go,
    onLine: (line) => {
      if (line === 'ready' && ++ready === workers) writeFileSync(go, '');
    },
  };
}

test('two worker processes on one study share the grid: every point run exactly once, none lost', async (t) => {
  const db = tempDb(t);
  const start = startingLine(db, 2);
  const runs = await Promise.all(
    [0, 1].map(() => startWorker([db, 'grid', 'grid', '-', '2', '10', start.go], start.onLine)),
  );
  for (const run of runs) assert.equal(run.code, 0, run.lines.join('\n'));
  const ended = runs.map((run) => run.lines.filter((l) => l.startsWith('end ')).map((l) => Number(l.split(' ')[1])));
  assert.ok(
    ended[0].length > 0 && ended[1].length > 0,
    `both workers ran trials: ${ended[0].length} and ${ended[1].length}`,
  );
  assert.deepEqual(
    [...ended[0], ...ended[1]].sort((a, b) => a - b),
    Array.from({ length: 24 }, (_, i) => i),
    'each trial ended once, by one worker',
  );
  for (const run of runs) assert.equal(JSON.parse(run.lines.at(-1)!).stopReason, 'exhausted');

  const storage = StudyStorage.open(db);
  t.after(() => storage.close());
  const study = storage.loadStudy('grid')!;
  const trials = storage.trials(study.id);
  assert.equal(trials.length, 24);
  assert.deepEqual(
    new Set(trials.map((tr) => paramsKey(tr.params))),
    new Set(gridOf(parseSpace(WORKER_SPACE)).map(paramsKey)),
  );
  for (const tr of trials) {
    assert.equal(tr.state, 'complete');
    assert.deepEqual([...tr.intermediate.keys()], [1, 2]);
    assert.equal(tr.value, workerValue(tr.params, 2));
  }
});

test('a worker killed mid-trial: the other worker re-queues its trial and finishes it; none lost or repeated', async (t) => {
  const db = tempDb(t);
  const start = startingLine(db, 2);
  let starts = 0;
  let killedAt: number | null = null;
  const victim = startWorker([db, 'random', 'random', '30', '3', '15', start.go], (line, kill) => {
    start.onLine(line);
    if (line.startsWith('start ') && ++starts === 3) {
      killedAt = Number(line.split(' ')[1]);
      kill();
    }
  });
  const survivor = startWorker([db, 'random', 'random', '30', '3', '15', start.go], start.onLine);
  const [dead, alive] = await Promise.all([victim, survivor]);
  assert.notEqual(dead.code, 0, 'the victim was killed');
  assert.equal(alive.code, 0, alive.lines.join('\n'));
  assert.notEqual(killedAt, null);
  assert.ok(
    alive.lines.includes(`requeued ${killedAt}`),
    `the survivor re-queued trial ${killedAt}:\n${alive.lines.join('\n')}`,
  );
  assert.ok(alive.lines.includes(`start ${killedAt} resumed`));

  const storage = StudyStorage.open(db);
  t.after(() => storage.close());
  const study = storage.loadStudy('random')!;
  const trials = storage.trials(study.id);
  assert.deepEqual(
    trials.map((tr) => tr.number),
    Array.from({ length: 30 }, (_, i) => i),
  );
  for (const tr of trials) {
    assert.equal(tr.state, 'complete', `trial ${tr.number}: ${tr.state} ${tr.note}`);
    assert.deepEqual([...tr.intermediate.keys()], [1, 2, 3]);
  }
  assert.equal(storage.trial(study.id, killedAt!)!.lost, 1);
  const endedBy = [...dead.lines, ...alive.lines]
    .filter((l) => l.startsWith('end '))
    .map((l) => Number(l.split(' ')[1]))
    .sort((a, b) => a - b);
  assert.deepEqual(
    endedBy,
    Array.from({ length: 30 }, (_, i) => i),
    'every trial ended exactly once',
  );
});
