// A PyTorch-style synchronous training loop with no tidy and no dispose (issue 13) keeps bounded memory:
// the tensors it drops are freed by the garbage collector while the loop runs. Run in a child process
// so that its RSS is its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers.js';

const MIB = 2 ** 20;

test('2,000 steps of a 512x512 Linear without tidy stay under 600 MB RSS and a bounded tensor count', () => {
  const index = pathToFileURL(join(ROOT, 'dist', 'src', 'torch', 'index.js')).href;
  const script = `
    import * as torch from ${JSON.stringify(index)};
    torch.setNumThreads(1);
    torch.manualSeed(0);
    const linear = new torch.nn.Linear(512, 512);
    const optimizer = new torch.optim.SGD(linear.parameters(), { lr: 1e-3 });
    let maxTensors = 0, maxRss = 0, first = 0, last = 0;
    for (let step = 1; step <= 2000; step++) {
      const x = torch.randn([64, 512]);
      const y = linear.forward(x);
      const loss = y.pow(2).mean();
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad();
      if (step === 1) first = loss.item();
      if (step % 20 === 0) {
        maxTensors = Math.max(maxTensors, torch.memory().tensors);
        maxRss = Math.max(maxRss, process.memoryUsage().rss);
      }
      last = loss.item();
    }
    console.log(JSON.stringify({ maxTensors, maxRss, first, last }));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const { maxTensors, maxRss, first, last } = JSON.parse(run.stdout) as Record<string, number>;
  // The loop trained (SGD on ||Wx + b||^2 drives the loss down), so each step did its real work ...
  assert.ok(last < first, `loss went from ${first} to ${last}`);
  // ... and of the 8,000 tensors it dropped, at most the GC budget (4,096) were waiting at any time.
  assert.ok(maxTensors <= 4096 + 2, `${maxTensors} live tensors at most`);
  assert.ok(maxRss < 600 * MIB, `RSS reached ${(maxRss / MIB).toFixed(0)} MB`);
});
