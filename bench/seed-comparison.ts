// The seed program side by side: `senet train` with its defaults (the original recipe) and the original
// PyTorch program (../shared/reference/pytorch_seed_train.py, Debian's python3-torch) on the same image
// folder, machine and thread count, one after the other; writes a per-epoch table of loss, test accuracy
// and seconds to bench/results/seed-comparison.md.
// Usage: npx tsc -p . && node dist/bench/seed-comparison.js [DATA_DIR] [--epochs 10] [--threads 2]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REFERENCE = resolve(ROOT, '..', 'shared', 'reference');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const data = resolve(
  process.argv[2] && !process.argv[2].startsWith('--')
    ? process.argv[2]
    : join(ROOT, '..', 'shared', 'datasets', 'cifar10-jpeg'),
);
const epochs = Number(arg('epochs', '10'));
const threads = Number(arg('threads', '2'));

interface EpochRow {
  loss: number;
  acc: number;
  seconds: number;
}

const out = mkdtempSync(join(tmpdir(), 'senet-seed-'));
const senetCommand = [
  'bin/senet.js',
  'train',
  '--data',
  data,
  '--epochs',
  String(epochs),
  '--threads',
  String(threads),
  '--out',
  join(out, 'run'),
];
console.log(`$ node ${senetCommand.join(' ')}`);
const senetStart = performance.now();
const senetRun = spawnSync(process.execPath, senetCommand, {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, CI: '1' },
});
const senetWall = (performance.now() - senetStart) / 1000;
if (senetRun.status !== 0) throw new Error(`senet train failed (${senetRun.status})`);
const senet: EpochRow[] = readFileSync(join(out, 'run', 'metrics.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const m = JSON.parse(line) as { train_loss: number; test_acc: number; seconds: number };
    return { loss: m.train_loss, acc: m.test_acc, seconds: m.seconds };
  });

const pyCommand = ['pytorch_seed_train.py', data, String(epochs), String(threads)];
console.log(`$ /usr/bin/python3 ${pyCommand.join(' ')}   (in ${REFERENCE})`);
const pyStart = performance.now();
const pyText = execFileSync('/usr/bin/python3', pyCommand, { cwd: REFERENCE, encoding: 'utf8' });
const pyWall = (performance.now() - pyStart) / 1000;
process.stdout.write(pyText);
// "Epoch [1/10], Loss: 1.2345, test_acc 0.5765, epoch_s 45.1" (Loss: the epoch's last batch)
const pytorch: EpochRow[] = [...pyText.matchAll(/Loss: ([\d.]+), test_acc ([\d.]+), epoch_s ([\d.]+)/g)].map((m) => ({
  loss: Number(m[1]),
  acc: Number(m[2]),
  seconds: Number(m[3]),
}));
rmSync(out, { recursive: true, force: true });

const lines = [
  `# The seed program: senet vs the original PyTorch (${new Date().toISOString()})`,
  '',
  `Data: ${data} (50,000 train / 10,000 test JPEGs); ${threads} threads; ${epochs} epochs; one run each, back to back.`,
  '',
  '```',
  `node ${senetCommand.join(' ').replace(join(out, 'run'), '<tmp>/run')}`,
  `/usr/bin/python3 ${REFERENCE}/${pyCommand.join(' ')}`,
  '```',
  '',
  '| epoch | senet loss (epoch mean) | senet test acc | senet s/epoch | PyTorch loss (last batch) | PyTorch test acc | PyTorch s/epoch |',
  '|---|---|---|---|---|---|---|',
  ...senet.map((s, i) => {
    const p = pytorch[i];
    return (
      `| ${i + 1} | ${s.loss.toFixed(4)} | ${(100 * s.acc).toFixed(2)}% | ${s.seconds.toFixed(1)} | ` +
      `${p ? p.loss.toFixed(4) : '-'} | ${p ? `${(100 * p.acc).toFixed(2)}%` : '-'} | ${p ? p.seconds.toFixed(1) : '-'} |`
    );
  }),
  '',
  `Mean seconds per epoch (training + test evaluation): senet ${(senet.reduce((a, s) => a + s.seconds, 0) / senet.length).toFixed(1)}, ` +
    `PyTorch ${(pytorch.reduce((a, p) => a + p.seconds, 0) / Math.max(1, pytorch.length)).toFixed(1)}. ` +
    `Whole process (data loading included): senet ${senetWall.toFixed(0)} s, PyTorch ${pyWall.toFixed(0)} s.`,
  '',
];
const file = join(ROOT, 'bench', 'results', 'seed-comparison.md');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, lines.join('\n'));
console.log(lines.join('\n'));
