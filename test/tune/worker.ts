// A study worker in its own process, for the concurrency tests: runs the study loop with a fast fake
// objective on a shared database and prints one line per event ("start N", "end N <state>") and a
// final JSON line. Usage:
//   node worker.js <db> <study> <random|grid> <trials|-> <steps> <stepMs> <goFile>
// Once the study is open it prints "ready" and waits for <goFile> to exist before claiming trials.
// Without arguments it does nothing (the test runner may load it as a module).
import { existsSync } from 'node:fs';
import { StudyStorage } from '../../src/tune/storage.js';
import { openStudy } from '../../src/tune/study.js';
import { optimize } from '../../src/tune/optimize.js';
import { parseSpace } from '../../src/tune/space.js';
import { fakeObjective } from './support.js';

/** The space the workers search: 4 × 6 = 24 grid points. */
export const WORKER_SPACE = { batchSize: { choices: [16, 32, 64, 128] }, epochs: { type: 'int', low: 1, high: 6 } };

/** The fake objective's value: known for every grid point. */
export const workerValue = (params: Record<string, unknown>, step: number) =>
  (params.batchSize as number) / 128 - Math.abs((params.epochs as number) - 4) / 10 + step / 100;

async function main(args: string[]): Promise<void> {
  const [db, name, sampler, trials, steps, stepMs, goFile] = args;
  const storage = StudyStorage.open(db);
  try {
    const { study } = openStudy(storage, {
      name,
      definition: {
        direction: 'maximize',
        space: parseSpace(WORKER_SPACE),
        sampler: { type: sampler as 'grid', seed: 0 },
        pruner: { type: 'none' },
        baseConfig: null,
      },
    });
    // The test starts every worker's trials at once (it creates goFile when all are ready), so that they
    // really compete for trials however long each process took to start.
    console.log('ready');
    while (!existsSync(goFile)) await new Promise((r) => setTimeout(r, 5));
    const result = await optimize({
      storage,
      study,
      budget: { trials: trials === '-' ? null : Number(trials), maxEpochsTotal: null, timeoutMs: null },
      objective: fakeObjective({ steps: Number(steps), stepMs: Number(stepMs), value: workerValue }),
      onEvent: (event) => {
        if (event.type === 'trial-start') console.log(`start ${event.number}${event.resumed ? ' resumed' : ''}`);
        if (event.type === 'trial-end') console.log(`end ${event.number} ${event.state}`);
        if (event.type === 'requeued') console.log(`requeued ${event.requeue.requeued.join(',')}`);
      },
    });
    console.log(JSON.stringify(result));
  } finally {
    storage.close();
  }
}

const args = process.argv.slice(2);
if (args.length > 0) {
  main(args).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
