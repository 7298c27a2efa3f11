// The airbench recipe, senet against bench/pytorch_airbench.py, epoch by epoch: reads what the two wrote (the
// .json beside time-to-accuracy.js's markdown, and the Python script's JSON lines) and prints a markdown table of
// test accuracy and training minutes (evaluation and data loading left out on both sides), then the minutes to
// each target and their ratio senet/PyTorch (below 1: senet is faster).
// Usage: node dist/bench/airbench-comparison.js --senet RESULTS.json --pytorch RUN.jsonl [--targets 0.93,0.94]
import { readFileSync } from 'node:fs';

interface Point {
  epoch: number;
  /** Undefined for an epoch that was not evaluated. */
  accuracy: number | undefined;
  trainMinutes: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function required(name: string): string {
  const value = arg(name);
  if (!value) throw new Error(`give --${name} FILE (usage at the top of bench/airbench-comparison.ts)`);
  return value;
}

function senetPoints(file: string): Point[] {
  const { points } = JSON.parse(readFileSync(file, 'utf8')) as {
    points: { epoch: number; test_acc: number; trainMinutes: number }[];
  };
  return points.map((p) => ({ epoch: p.epoch, accuracy: p.test_acc, trainMinutes: p.trainMinutes }));
}

function pytorchPoints(file: string): Point[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { epoch?: number; test_acc?: number | null; train_seconds: number })
    .filter((r) => r.epoch !== undefined)
    .map((r) => ({ epoch: r.epoch!, accuracy: r.test_acc ?? undefined, trainMinutes: r.train_seconds / 60 }));
}

const senet = senetPoints(required('senet'));
const pytorch = pytorchPoints(required('pytorch'));
const targets = (arg('targets') ?? '0.93,0.94').split(',').map(Number);
const pct = (x: number | undefined) => (x === undefined ? '–' : `${(100 * x).toFixed(2)}%`);
const min = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));

const lines = [
  '| epoch | senet test accuracy | senet training minutes | PyTorch test accuracy | PyTorch training minutes |',
  '|---:|---:|---:|---:|---:|',
];
for (let e = 1; e <= Math.max(senet.length, pytorch.length); e++) {
  const [s, p] = [senet.find((x) => x.epoch === e), pytorch.find((x) => x.epoch === e)];
  lines.push(
    `| ${e} | ${pct(s?.accuracy)} | ${min(s?.trainMinutes)} | ${pct(p?.accuracy)} | ${min(p?.trainMinutes)} |`,
  );
}
lines.push(
  '',
  '| target | senet minutes (epoch) | PyTorch minutes (epoch) | ratio senet/PyTorch |',
  '|---|---:|---:|---:|',
);
for (const target of targets) {
  const [s, p] = [senet, pytorch].map((points) => points.find((x) => (x.accuracy ?? 0) >= target));
  const cell = (x: Point | undefined, points: Point[]) =>
    x
      ? `${x.trainMinutes.toFixed(1)} (${x.epoch})`
      : `not reached (best ${pct(Math.max(...points.map((q) => q.accuracy ?? 0)))})`;
  const ratio = s && p ? (s.trainMinutes / p.trainMinutes).toFixed(2) : '–';
  lines.push(`| ${pct(target)} | ${cell(s, senet)} | ${cell(p, pytorch)} | ${ratio} |`);
}
const last = (points: Point[]) => points.at(-1)!;
const perEpoch = (points: Point[]) => last(points).trainMinutes / last(points).epoch;
lines.push(
  '',
  `Training minutes per epoch: senet ${perEpoch(senet).toFixed(2)}, PyTorch ${perEpoch(pytorch).toFixed(2)} ` +
    `(ratio ${(perEpoch(senet) / perEpoch(pytorch)).toFixed(2)}).`,
);
console.log(lines.join('\n'));
