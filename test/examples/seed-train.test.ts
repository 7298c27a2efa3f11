// The README's TypeScript example (examples/seed-train.ts) runs as written: a small image folder cut from the
// real CIFAR-10 JPEGs, two epochs, one "Epoch [e/N], Loss: x" line each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SHARED } from '../helpers.js';

test('the seed-program example trains and prints one loss line per epoch', (t) => {
  const source = join(SHARED, 'datasets', 'cifar10-jpeg');
  const root = mkdtempSync(join(tmpdir(), 'senet-example-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const split of ['train', 'test']) {
    for (const cls of ['cat', 'dog', 'ship']) {
      mkdirSync(join(root, split, cls), { recursive: true });
      for (const file of readdirSync(join(source, split, cls)).slice(0, 64)) {
        cpSync(join(source, split, cls, file), join(root, split, cls, file));
      }
    }
  }
  const output = execFileSync(process.execPath, [join(ROOT, 'dist', 'examples', 'seed-train.js'), root, '2'], {
    encoding: 'utf8',
    env: { ...process.env, SENET_DATA: join(root, '.cache') },
  });
  const losses = [...output.matchAll(/^Epoch \[(\d)\/2\], Loss: (\d+\.\d{4})$/gm)].map((m) => Number(m[2]));
  assert.equal(losses.length, 2, `two epoch lines in:\n${output}`);
  for (const loss of losses) assert.ok(Number.isFinite(loss) && loss > 0 && loss < 10, `a sensible loss: ${loss}`);
});
