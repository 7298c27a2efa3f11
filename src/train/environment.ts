// What a training session ran on, recorded in the run's environment.json (one entry per session: the
// first started the run, later ones resumed it), so that a report can say how the run was made: the
// command line, the senet, libtorch and Node versions, the CPU and the libtorch threads.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import * as torch from '../torch/index.js';
import { readJsonFile } from '../util/json-files.js';

export interface TrainingSession {
  startedAt: string;
  /** The command line (process.argv) and the folder it ran in. */
  argv: string[];
  cwd: string;
  senet: string;
  libtorch: string;
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  threads: number;
}

/** senet's version, from its package.json (three levels above this file in dist/). */
export function senetVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** This process as a training session with `threads` libtorch threads. */
export function describeSession(threads: number, now = new Date()): TrainingSession {
  return {
    startedAt: now.toISOString(),
    argv: [...process.argv],
    cwd: process.cwd(),
    senet: senetVersion(),
    libtorch: torch.buildInfo().torchVersion,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    threads,
  };
}

/** Appends `session` to the sessions in `path` (environment.json), written atomically. */
export function recordSession(path: string, session: TrainingSession): void {
  // Without environment.json (a new run, or one made before senet recorded it) this session starts it.
  const previous = existsSync(path) ? (readJsonFile(path, 'the run environment') as { sessions?: unknown }) : {};
  const sessions = Array.isArray(previous.sessions) ? previous.sessions : [];
  const text = `${JSON.stringify({ sessions: [...sessions, session] }, null, 2)}\n`;
  torch.io.writeFileAtomic(path, new TextEncoder().encode(text));
}
