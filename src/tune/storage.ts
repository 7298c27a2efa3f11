// Where studies live: one SQLite database (`study.db`), shared safely by every worker of a study.
//
//   studies              one row per study: name, direction, search space, sampler, pruner, base config
//                        and budget, as JSON text
//   trials               one row per trial: number (0, 1, ...), state, params JSON, value, start/end
//                        times, the worker holding it (id, host, pid) and its last heartbeat
//   intermediate_values  (trial, step) → value: what the trial reported after each epoch
// Times are milliseconds since 1970 (Date.now()).
//
// Concurrency: the database runs in WAL mode (readers never block the writer) with a busy timeout, and
// every change that depends on what is there — claiming a trial, above all — runs in a `BEGIN IMMEDIATE`
// transaction, which takes the write lock before reading. So two workers never sample the same grid
// point or give two trials one number, and nothing they write is lost.
//
// Dead workers: a running trial whose worker has stopped — its process is gone (same host), or its
// heartbeat is older than `staleAfterMs` — goes back to `waiting` when the next worker claims, and is
// resumed from its run directory's last checkpoint by whichever worker takes it. A trial whose worker
// has died `maxLost` times is marked failed instead (something about it kills workers). Every write a
// worker makes about a trial names the worker, and is refused once the trial is no longer its own, so a
// worker that was presumed dead but comes back can never record a result twice.
//
// better-sqlite3 is an optional dependency, loaded when the first study is opened: `import('senet')` does
// not need it, and a project that never tunes need not build it.
import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Direction, Params, TrialRecord, TrialState } from './trial.js';

/** Bumped when the tables change; a database of another version is refused, not misread. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS studies (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  direction TEXT NOT NULL CHECK (direction IN ('maximize', 'minimize')),
  space TEXT NOT NULL,
  sampler TEXT NOT NULL,
  pruner TEXT NOT NULL,
  base_config TEXT,
  budget TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
  id INTEGER PRIMARY KEY,
  study_id INTEGER NOT NULL REFERENCES studies(id),
  number INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'running', 'complete', 'pruned', 'failed')),
  params TEXT NOT NULL,
  value REAL,
  started_at INTEGER,
  ended_at INTEGER,
  worker TEXT,
  worker_host TEXT,
  worker_pid INTEGER,
  heartbeat_at INTEGER,
  lost INTEGER NOT NULL DEFAULT 0,
  note TEXT,
  UNIQUE (study_id, number)
);
CREATE INDEX IF NOT EXISTS trials_by_state ON trials (study_id, state);
CREATE TABLE IF NOT EXISTS intermediate_values (
  trial_id INTEGER NOT NULL REFERENCES trials(id),
  step INTEGER NOT NULL,
  value REAL,
  PRIMARY KEY (trial_id, step)
);
`;

/** Who is running trials: unique per process and call, with what it takes to tell whether it is alive. */
export interface WorkerIdentity {
  id: string;
  host: string;
  pid: number;
}

export function newWorkerIdentity(): WorkerIdentity {
  const host = hostname();
  return { id: `${host}:${process.pid}:${randomBytes(3).toString('hex')}`, host, pid: process.pid };
}

/** Whether a process with this id exists on this host (one owned by another user counts). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StudyBudget {
  /** Trials the study may have in all (null: no limit). */
  trials: number | null;
  /** Epochs all trials together may train (null: no limit). */
  maxEpochsTotal: number | null;
}

/** What a study is, as stored; the JSON fields are kept as parsed JSON. */
export interface StudyRecord {
  id: number;
  name: string;
  direction: Direction;
  space: unknown;
  sampler: unknown;
  pruner: unknown;
  baseConfig: unknown;
  budget: StudyBudget;
  createdAt: number;
}

export type NewStudy = Omit<StudyRecord, 'id' | 'createdAt'>;

export interface ClaimOptions {
  /**
   * The parameters of a new trial with the given number, from the study's trials so far; null when
   * there is nothing left to try. Called inside the write transaction.
   */
  sample(trials: TrialRecord[], number: number): Params | null;
  /** No new trial once the study has this many (re-queued trials are still taken). */
  maxTrials: number | null;
  staleAfterMs: number;
  /** A trial whose worker died this many times fails instead of being re-queued. */
  maxLost: number;
  now?: number;
}

export type ClaimResult =
  | { kind: 'claimed'; trial: TrialRecord; resumed: boolean }
  /** trials: the trial budget is used up; exhausted: the sampler has nothing left (a finished grid). */
  | { kind: 'none'; reason: 'trials' | 'exhausted' };

export interface RequeueResult {
  requeued: number[];
  failed: number[];
}

interface TrialRow {
  id: number;
  number: number;
  state: TrialState;
  params: string;
  value: number | null;
  started_at: number | null;
  ended_at: number | null;
  worker: string | null;
  worker_host: string | null;
  worker_pid: number | null;
  heartbeat_at: number | null;
  lost: number;
  note: string | null;
}

interface StudyRow {
  id: number;
  name: string;
  direction: Direction;
  space: string;
  sampler: string;
  pruner: string;
  base_config: string | null;
  budget: string;
  created_at: number;
}

/** Sleeps the thread (the database is synchronous; so is waiting for it). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface OpenStorageOptions {
  /** How long a write waits for another worker's transaction before giving up (default 30 s). */
  busyTimeoutMs?: number;
}

const OPTIONAL_PACKAGE = 'better-sqlite3';
let sqlite: typeof Database | undefined;

/** better-sqlite3, required on first use; one error naming the fix when it is missing. */
function loadSqlite(): typeof Database {
  if (sqlite) return sqlite;
  try {
    sqlite = createRequire(import.meta.url)(OPTIONAL_PACKAGE) as typeof Database;
    return sqlite;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== 'MODULE_NOT_FOUND' || !message.includes(`'${OPTIONAL_PACKAGE}'`)) throw error;
    throw new Error(
      `senet stores tuning studies with the optional package ${OPTIONAL_PACKAGE}, which is not installed: ` +
        `run \`npm install ${OPTIONAL_PACKAGE}\` in your project (with npm 11, add it to allowScripts: ` +
        'it builds a native addon)',
    );
  }
}

export class StudyStorage {
  private readonly db: Database.Database;

  private constructor(
    readonly path: string,
    busyTimeoutMs: number,
  ) {
    const Sqlite = loadSqlite();
    try {
      this.db = new Sqlite(path, { timeout: busyTimeoutMs });
    } catch (error) {
      const message = (error as Error).message;
      if (message.includes('Could not locate the bindings file')) {
        // Installed with its install script not run (npm 11 without allowScripts, --ignore-scripts).
        throw new Error(
          `${OPTIONAL_PACKAGE}, which stores tuning studies, is installed but its native addon is not built: ` +
            `run \`npm rebuild ${OPTIONAL_PACKAGE}\` in your project (with npm 11, add it to allowScripts first)`,
        );
      }
      throw new Error(`cannot open the study database ${path}: ${message}`);
    }
  }

  /** Opens (creating if needed) the database at `path`. */
  static open(path: string, options: OpenStorageOptions = {}): StudyStorage {
    const full = resolve(path);
    mkdirSync(dirname(full), { recursive: true });
    const storage = new StudyStorage(full, options.busyTimeoutMs ?? 30_000);
    try {
      storage.setUp();
    } catch (error) {
      storage.close();
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new Error(
          `${full} is not a study database (SQLite says: ${(error as Error).message}); ` +
            'move it away to start a new study there, or give --study another folder',
        );
      }
      throw error;
    }
    return storage;
  }

  private setUp(): void {
    // Switching to WAL needs a moment alone with the file, and does not wait on the busy handler:
    // retry while another worker is opening the same database.
    for (let attempt = 0; ; attempt++) {
      try {
        this.db.pragma('journal_mode = WAL');
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 100) throw error;
        sleepMs(20 + attempt * 5);
      }
    }
    this.db.pragma('foreign_keys = ON');
    this.db
      .transaction(() => {
        const version = this.db.pragma('user_version', { simple: true }) as number;
        const hasTables = this.db
          .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'studies'")
          .get() as { n: number };
        if (version === 0 && hasTables.n === 0) {
          this.db.exec(SCHEMA);
          this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
        } else if (version !== SCHEMA_VERSION) {
          throw new Error(
            `${this.path} is a study database of schema version ${version}; this senet reads version ${SCHEMA_VERSION}`,
          );
        }
      })
      .immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- studies ----

  private static study(row: StudyRow): StudyRecord {
    return {
      id: row.id,
      name: row.name,
      direction: row.direction,
      space: JSON.parse(row.space),
      sampler: JSON.parse(row.sampler),
      pruner: JSON.parse(row.pruner),
      baseConfig: row.base_config === null ? null : JSON.parse(row.base_config),
      budget: JSON.parse(row.budget) as StudyBudget,
      createdAt: row.created_at,
    };
  }

  loadStudy(name: string): StudyRecord | null {
    const row = this.db.prepare('SELECT * FROM studies WHERE name = ?').get(name) as StudyRow | undefined;
    return row ? StudyStorage.study(row) : null;
  }

  listStudies(): StudyRecord[] {
    return (this.db.prepare('SELECT * FROM studies ORDER BY id').all() as StudyRow[]).map(StudyStorage.study);
  }

  /** The study of that name: the stored one if it exists (the caller checks it matches), else a new one. */
  createOrLoadStudy(study: NewStudy): { study: StudyRecord; created: boolean } {
    return this.db
      .transaction(() => {
        const existing = this.loadStudy(study.name);
        if (existing) return { study: existing, created: false };
        this.db
          .prepare(`INSERT INTO studies (name, direction, space, sampler, pruner, base_config, budget, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(
            study.name,
            study.direction,
            JSON.stringify(study.space),
            JSON.stringify(study.sampler),
            JSON.stringify(study.pruner),
            study.baseConfig === null ? null : JSON.stringify(study.baseConfig),
            JSON.stringify(study.budget),
            Date.now(),
          );
        return { study: this.loadStudy(study.name)!, created: true };
      })
      .immediate();
  }

  setBudget(studyId: number, budget: StudyBudget): void {
    this.db.prepare('UPDATE studies SET budget = ? WHERE id = ?').run(JSON.stringify(budget), studyId);
  }

  // ---- reading trials ----

  /** Every trial of the study with its intermediate values, by number. */
  trials(studyId: number): TrialRecord[] {
    const rows = this.db.prepare('SELECT * FROM trials WHERE study_id = ? ORDER BY number').all(studyId) as TrialRow[];
    const values = this.db
      .prepare(`SELECT v.trial_id, v.step, v.value FROM intermediate_values v
      JOIN trials t ON t.id = v.trial_id WHERE t.study_id = ? ORDER BY v.trial_id, v.step`)
      .all(studyId) as { trial_id: number; step: number; value: number | null }[];
    const byTrial = new Map<number, Map<number, number>>();
    for (const v of values) {
      if (!byTrial.has(v.trial_id)) byTrial.set(v.trial_id, new Map());
      byTrial.get(v.trial_id)!.set(v.step, v.value ?? NaN); // SQLite stores NaN as NULL
    }
    return rows.map((r) => ({
      number: r.number,
      state: r.state,
      params: JSON.parse(r.params) as Params,
      value: r.value,
      intermediate: byTrial.get(r.id) ?? new Map(),
      startedAt: r.started_at,
      endedAt: r.ended_at,
      worker: r.worker,
      heartbeatAt: r.heartbeat_at,
      lost: r.lost,
      note: r.note,
    }));
  }

  trial(studyId: number, number: number): TrialRecord | null {
    return this.trials(studyId).find((t) => t.number === number) ?? null;
  }

  /** Epochs trained by all trials together (one per reported step). */
  epochsUsed(studyId: number): number {
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM intermediate_values v JOIN trials t ON t.id = v.trial_id
      WHERE t.study_id = ?`)
      .get(studyId) as { n: number };
    return row.n;
  }

  // ---- claiming ----

  private requeueStaleIn(studyId: number, now: number, staleAfterMs: number, maxLost: number): RequeueResult {
    const running = this.db
      .prepare("SELECT * FROM trials WHERE study_id = ? AND state = 'running'")
      .all(studyId) as TrialRow[];
    const here = hostname();
    const result: RequeueResult = { requeued: [], failed: [] };
    for (const t of running) {
      const gone = t.worker_host === here && t.worker_pid !== null && !processAlive(t.worker_pid);
      const silent = t.heartbeat_at === null || now - t.heartbeat_at > staleAfterMs;
      if (!gone && !silent) continue;
      const why = gone
        ? `its worker ${t.worker} (pid ${t.worker_pid}) stopped`
        : `its worker ${t.worker} sent no heartbeat for ${Math.round((now - (t.heartbeat_at ?? 0)) / 1000)} s`;
      if (t.lost + 1 >= maxLost) {
        this.db
          .prepare("UPDATE trials SET state = 'failed', lost = lost + 1, ended_at = ?, note = ? WHERE id = ?")
          .run(now, `failed: ${why}; this trial has now lost ${t.lost + 1} workers`, t.id);
        result.failed.push(t.number);
      } else {
        this.db
          .prepare(
            "UPDATE trials SET state = 'waiting', lost = lost + 1, worker = NULL, heartbeat_at = NULL, note = ? WHERE id = ?",
          )
          .run(`re-queued: ${why}`, t.id);
        result.requeued.push(t.number);
      }
    }
    return result;
  }

  /** Re-queues (or fails) the running trials whose workers are gone; see the top of this file. */
  requeueStale(studyId: number, options: { staleAfterMs: number; maxLost: number; now?: number }): RequeueResult {
    return this.db
      .transaction(() => this.requeueStaleIn(studyId, options.now ?? Date.now(), options.staleAfterMs, options.maxLost))
      .immediate();
  }

  /**
   * In one write transaction: re-queues the trials of dead workers, then hands this worker the oldest
   * waiting trial, or else a new trial with freshly sampled parameters — unless the trial budget is used
   * up or the sampler has nothing left.
   */
  claimTrial(studyId: number, worker: WorkerIdentity, options: ClaimOptions): ClaimResult & { requeue: RequeueResult } {
    return this.db
      .transaction(() => {
        const now = options.now ?? Date.now();
        const requeue = this.requeueStaleIn(studyId, now, options.staleAfterMs, options.maxLost);
        const waiting = this.db
          .prepare("SELECT * FROM trials WHERE study_id = ? AND state = 'waiting' ORDER BY number LIMIT 1")
          .get(studyId) as TrialRow | undefined;
        if (waiting) {
          this.db
            .prepare(`UPDATE trials SET state = 'running', worker = ?, worker_host = ?, worker_pid = ?, heartbeat_at = ?,
          started_at = coalesce(started_at, ?) WHERE id = ?`)
            .run(worker.id, worker.host, worker.pid, now, now, waiting.id);
          // Resumed: it ran before (a dead worker's or an interrupted trial), so its run directory may hold a checkpoint.
          return {
            kind: 'claimed' as const,
            trial: this.trial(studyId, waiting.number)!,
            resumed: waiting.started_at !== null,
            requeue,
          };
        }
        const trials = this.trials(studyId);
        if (options.maxTrials !== null && trials.length >= options.maxTrials)
          return { kind: 'none' as const, reason: 'trials' as const, requeue };
        const number = trials.length === 0 ? 0 : Math.max(...trials.map((t) => t.number)) + 1;
        const params = options.sample(trials, number);
        if (params === null) return { kind: 'none' as const, reason: 'exhausted' as const, requeue };
        this.db
          .prepare(`INSERT INTO trials (study_id, number, state, params, started_at, worker, worker_host, worker_pid, heartbeat_at)
        VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)`)
          .run(studyId, number, JSON.stringify(params), now, worker.id, worker.host, worker.pid, now);
        return { kind: 'claimed' as const, trial: this.trial(studyId, number)!, resumed: false, requeue };
      })
      .immediate();
  }

  /** Puts a trial in the queue by hand (Optuna's enqueue_trial): it runs before newly sampled ones. */
  enqueueTrial(studyId: number, params: Params): number {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT max(number) AS n FROM trials WHERE study_id = ?').get(studyId) as {
          n: number | null;
        };
        const number = row.n === null ? 0 : row.n + 1;
        this.db
          .prepare("INSERT INTO trials (study_id, number, state, params) VALUES (?, ?, 'waiting', ?)")
          .run(studyId, number, JSON.stringify(params));
        return number;
      })
      .immediate();
  }

  // ---- a worker's writes about its own trial (false: the trial is no longer this worker's) ----

  private ownedId(studyId: number, number: number, workerId: string): number | null {
    const row = this.db
      .prepare("SELECT id FROM trials WHERE study_id = ? AND number = ? AND state = 'running' AND worker = ?")
      .get(studyId, number, workerId) as { id: number } | undefined;
    return row?.id ?? null;
  }

  heartbeat(studyId: number, number: number, workerId: string, now = Date.now()): boolean {
    const info = this.db
      .prepare(
        "UPDATE trials SET heartbeat_at = ? WHERE study_id = ? AND number = ? AND state = 'running' AND worker = ?",
      )
      .run(now, studyId, number, workerId);
    return info.changes === 1;
  }

  /** Records the trial's value after `step` (replacing an earlier one of that step: a resumed epoch). */
  reportIntermediate(
    studyId: number,
    number: number,
    workerId: string,
    step: number,
    value: number,
    now = Date.now(),
  ): boolean {
    return this.db
      .transaction(() => {
        const id = this.ownedId(studyId, number, workerId);
        if (id === null) return false;
        this.db
          .prepare('INSERT OR REPLACE INTO intermediate_values (trial_id, step, value) VALUES (?, ?, ?)')
          .run(id, step, Number.isNaN(value) ? null : value);
        this.db.prepare('UPDATE trials SET heartbeat_at = ? WHERE id = ?').run(now, id);
        return true;
      })
      .immediate();
  }

  /** Ends the trial in a final state. */
  finishTrial(
    studyId: number,
    number: number,
    workerId: string,
    outcome: { state: 'complete' | 'pruned' | 'failed'; value: number | null; note: string | null },
    now = Date.now(),
  ): boolean {
    const info = this.db
      .prepare(`UPDATE trials SET state = ?, value = ?, note = ?, ended_at = ?, heartbeat_at = NULL
      WHERE study_id = ? AND number = ? AND state = 'running' AND worker = ?`)
      .run(
        outcome.state,
        outcome.value !== null && Number.isNaN(outcome.value) ? null : outcome.value,
        outcome.note,
        now,
        studyId,
        number,
        workerId,
      );
    return info.changes === 1;
  }

  /** Gives the trial back to the queue (stopped by Ctrl-C): the next worker resumes it. */
  releaseTrial(studyId: number, number: number, workerId: string, note: string): boolean {
    const info = this.db
      .prepare(`UPDATE trials SET state = 'waiting', worker = NULL, heartbeat_at = NULL, note = ?
      WHERE study_id = ? AND number = ? AND state = 'running' AND worker = ?`)
      .run(note, studyId, number, workerId);
    return info.changes === 1;
  }
}
