// `senet train --nproc-per-node N`: a launcher like torchrun. It starts N worker processes of the same command on
// this machine with torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), watches them, and when one dies stops the others (SIGTERM, then SIGKILL) and exits non-zero
// naming that rank; with --max-restarts K it starts the whole group again from the run's last checkpoint, up to
// K times. On several machines every node runs the same command with its --node-rank.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../torch/distributed/index.js';

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  /** Default: a free port when there is one node, else 29500 (torchrun's). */
  masterPort?: number;
  maxRestarts: number;
  /** The workers' arguments after `senet` for a new run. */
  args: string[];
  /** The workers' arguments to continue the run from its last checkpoint (after a failure). */
  resumeArgs: string[];
  /** The run directory (its config.json tells whether a restart can resume). */
  runDir: string;
  log?: (line: string) => void;
}

/** The launcher's own flags, which the workers do not get (each takes a value). */
export const LAUNCH_FLAGS = [
  '--nproc-per-node',
  '--nnodes',
  '--node-rank',
  '--master-addr',
  '--master-port',
  '--max-restarts',
];

/** `argv` without the launcher's flags and their values (`--flag value` or `--flag=value`). */
export function withoutLaunchFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (LAUNCH_FLAGS.includes(a)) {
      i++;
      continue;
    }
    if (LAUNCH_FLAGS.some((f) => a.startsWith(`${f}=`))) continue;
    out.push(a);
  }
  return out;
}

/** How long a worker has to exit after SIGTERM before it gets SIGKILL. */
const KILL_GRACE_MS = 5000;

/** Runs one attempt of the group; resolves with null when every worker exits 0, else what went wrong. */
async function runGroup(o: LaunchOptions, args: string[], log: (line: string) => void): Promise<string | null> {
  const port = o.masterPort ?? (o.nnodes === 1 ? await freePort(o.masterAddr) : 29500);
  const world = o.nprocPerNode * o.nnodes;
  const children: ChildProcess[] = [];
  let failure: string | null = null;
  const stopOthers = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, KILL_GRACE_MS).unref();
  };
  const forward = (signal: NodeJS.Signals) => () => {
    for (const c of children) if (c.exitCode === null) c.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const exits = Array.from({ length: o.nprocPerNode }, (_, local) => {
      const rank = o.nodeRank * o.nprocPerNode + local;
      const child = spawn(process.execPath, [process.argv[1], ...args], {
        stdio: 'inherit',
        env: {
          ...process.env,
          RANK: String(rank),
          LOCAL_RANK: String(local),
          WORLD_SIZE: String(world),
          LOCAL_WORLD_SIZE: String(o.nprocPerNode),
          MASTER_ADDR: o.masterAddr,
          MASTER_PORT: String(port),
        },
      });
      children.push(child);
      return new Promise<void>((resolve) => {
        child.on('exit', (code, signal) => {
          if ((code !== 0 || signal !== null) && failure === null) {
            failure = `rank ${rank} (pid ${child.pid}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`;
            log(`senet: ${failure}; stopping the other ranks`);
            stopOthers();
          }
          resolve();
        });
        child.on('error', (error) => {
          failure ??= `rank ${rank} could not start: ${error.message}`;
          stopOthers();
          resolve();
        });
      });
    });
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  return failure;
}

/** Runs the group, restarting it from the last checkpoint up to maxRestarts times; resolves with the exit code. */
export async function launch(o: LaunchOptions): Promise<number> {
  const log = o.log ?? ((line: string) => console.error(line));
  let args = o.args;
  for (let attempt = 0; ; ++attempt) {
    const failure = await runGroup(o, args, log);
    if (failure === null) return 0;
    if (attempt >= o.maxRestarts) {
      log(`senet: training failed: ${failure}${o.maxRestarts > 0 ? ` (after ${o.maxRestarts} restarts)` : ''}`);
      return 1;
    }
    // A run that wrote its config resumes from its last checkpoint (or from the start, if it has none yet).
    args = existsSync(join(o.runDir, 'config.json')) ? o.resumeArgs : o.args;
    log(
      `senet: restarting the group (restart ${attempt + 1} of ${o.maxRestarts}) from the last checkpoint in ${o.runDir}`,
    );
  }
}
