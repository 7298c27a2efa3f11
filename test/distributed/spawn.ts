// Starts the ranks of a test group as child processes on 127.0.0.1 and collects what each prints.
import { spawn } from 'node:child_process';
import { freePort } from '../../src/torch/distributed/index.js';

export interface RankResult {
  rank: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `script` (a compiled .js file) once per rank with torchrun's variables set; resolves when all exit. */
export async function runRanks(
  script: string,
  worldSize: number,
  extraEnv: (rank: number) => Record<string, string> = () => ({}),
  command: (rank: number) => string[] = () => [process.execPath, script],
): Promise<RankResult[]> {
  const port = await freePort();
  return Promise.all(
    Array.from({ length: worldSize }, (_, rank) => {
      const [file, ...args] = command(rank);
      const child = spawn(file, args, {
        env: {
          ...process.env,
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(port),
          RANK: String(rank),
          LOCAL_RANK: String(rank),
          WORLD_SIZE: String(worldSize),
          SENET_TEST_WORKER: '1',
          ...extraEnv(rank),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      return new Promise<RankResult>((resolve) => {
        child.on('close', (code) => resolve({ rank, code, stdout, stderr }));
      });
    }),
  );
}

/** The last JSON line a rank printed. */
export function lastJson(result: RankResult): Record<string, unknown> {
  const lines = result.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    throw new Error(
      `rank ${result.rank} exited with ${result.code} and printed no JSON:\n${result.stdout}${result.stderr}`,
    );
  }
}
