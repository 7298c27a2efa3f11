// The airbench recipe over seeds: senet against bench/pytorch_airbench.py, and each with its SE twin. Reads what
// the runs wrote (the .json beside time-to-accuracy.js's markdown, the Python script's JSON lines), one file per
// seed in the same seed order for every engine, and prints markdown: per seed, the epoch and training minutes at
// which each engine first reached each target, its final accuracy and its median epoch's minutes (evaluation and data
// loading left out on both sides); then mean ± standard deviation over the seeds, and the medians and ranges of
// the per-seed ratios senet/PyTorch (below 1: senet is faster) and SE/plain (the time SE adds).
// Usage: node dist/bench/airbench-comparison.js --senet S0.json,S1.json,... --pytorch P0.jsonl,P1.jsonl,...
//          [--senet-se ...json] [--pytorch-se ...jsonl] [--targets 0.90,0.93,0.94]
import { readFileSync } from 'node:fs';
import { median } from '../src/util/statistics.js';
import { arg } from './args.js';

interface Point {
  epoch: number;
  /** Undefined for an epoch that was not evaluated. */
  accuracy: number | undefined;
  trainMinutes: number;
}

interface Run {
  seed: number;
  points: Point[];
}

function senetRun(file: string): Run {
  const { config, points } = JSON.parse(readFileSync(file, 'utf8')) as {
    config: { seed: number };
    points: { epoch: number; test_acc: number; trainMinutes: number }[];
  };
  return {
    seed: config.seed,
    points: points.map((p) => ({ epoch: p.epoch, accuracy: p.test_acc, trainMinutes: p.trainMinutes })),
  };
}

function pytorchRun(file: string): Run {
  const records = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map(
      (line) => JSON.parse(line) as { epoch?: number; seed?: number; test_acc?: number | null; train_seconds: number },
    );
  const summary = records.find((r) => r.epoch === undefined);
  if (summary?.seed === undefined) throw new Error(`${file}: no summary line (the run did not finish)`);
  return {
    seed: summary.seed,
    points: records
      .filter((r) => r.epoch !== undefined)
      .map((r) => ({ epoch: r.epoch!, accuracy: r.test_acc ?? undefined, trainMinutes: r.train_seconds / 60 })),
  };
}

const engines = [
  { option: 'senet', label: 'senet', read: senetRun },
  { option: 'pytorch', label: 'PyTorch', read: pytorchRun },
  { option: 'senet-se', label: 'senet SE', read: senetRun },
  { option: 'pytorch-se', label: 'PyTorch SE', read: pytorchRun },
]
  .filter((e) => arg(e.option))
  .map((e) => ({ label: e.label, runs: arg(e.option)!.split(',').map(e.read) }));
if (!engines.some((e) => e.label === 'senet') || !engines.some((e) => e.label === 'PyTorch')) {
  throw new Error('give --senet and --pytorch, each a comma-separated list of files (usage at the top of this file)');
}
const seeds = engines[0].runs.map((r) => r.seed);
for (const { label, runs } of engines) {
  if (runs.map((r) => r.seed).join() !== seeds.join()) {
    throw new Error(`${label}'s files hold seeds ${runs.map((r) => r.seed).join(', ')}; expected ${seeds.join(', ')}`);
  }
}
const targets = (arg('targets') ?? '0.90,0.93,0.94').split(',').map(Number);

const reached = (run: Run, target: number) => run.points.find((p) => (p.accuracy ?? 0) >= target);
const final = (run: Run) => run.points.at(-1)!;
/** The median epoch's training minutes: an epoch slowed by other work on the machine moves it little. */
const perEpoch = (run: Run) =>
  median(run.points.map((p, i) => p.trainMinutes - (i > 0 ? run.points[i - 1].trainMinutes : 0)));
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

function meanSd(xs: number[], digits: number, scale = 1): string {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${(mean * scale).toFixed(digits)} ± ${(sd * scale).toFixed(digits)}`;
}

/** The median and range of per-seed ratios, and how many seeds they cover when not all `of` did. */
function medianRange(xs: number[], of: number): string {
  if (xs.length === 0) return '–';
  const s = [...xs].sort((a, b) => a - b);
  const mid = median(s);
  const seedsCovered = xs.length < of ? `, ${xs.length} of ${of} seeds` : '';
  return `${mid.toFixed(2)} (${s[0].toFixed(2)}–${s.at(-1)!.toFixed(2)}${seedsCovered})`;
}

const lines: string[] = [];
for (const target of targets) {
  lines.push(
    `### ${pct(target)}`,
    '',
    `| seed | ${engines.map((e) => `${e.label}: epoch (training minutes)`).join(' | ')} |`,
    `|---:|${engines.map(() => '---:').join('|')}|`,
  );
  seeds.forEach((seed, i) => {
    const cells = engines.map(({ runs }) => {
      const at = reached(runs[i], target);
      return at ? `${at.epoch} (${at.trainMinutes.toFixed(1)})` : 'not reached';
    });
    lines.push(`| ${seed} | ${cells.join(' | ')} |`);
  });
  const over = engines.map(({ runs }) => {
    const hits = runs.map((r) => reached(r, target)).filter((p) => p !== undefined);
    if (hits.length < runs.length) return `reached in ${hits.length} of ${runs.length}`;
    return `${meanSd(
      hits.map((p) => p.epoch),
      1,
    )} (${meanSd(
      hits.map((p) => p.trainMinutes),
      1,
    )})`;
  });
  lines.push(`| mean ± sd | ${over.join(' | ')} |`, '');
}

lines.push(
  "### Final accuracy and the median epoch's training minutes",
  '',
  `| seed | ${engines.map((e) => `${e.label}: final (median epoch, min)`).join(' | ')} |`,
  `|---:|${engines.map(() => '---:').join('|')}|`,
);
seeds.forEach((seed, i) => {
  const cells = engines.map(({ runs }) => `${pct(final(runs[i]).accuracy ?? 0)} (${perEpoch(runs[i]).toFixed(2)})`);
  lines.push(`| ${seed} | ${cells.join(' | ')} |`);
});
const overFinal = engines.map(
  ({ runs }) =>
    `${meanSd(
      runs.map((r) => final(r).accuracy ?? 0),
      2,
      100,
    )}% (${meanSd(runs.map(perEpoch), 2)})`,
);
lines.push(`| mean ± sd | ${overFinal.join(' | ')} |`, '');

// Ratios per seed, then their median and range: the median epoch, and time to each target.
const runsOf = (label: string) => engines.find((e) => e.label === label)?.runs;
const pairs = [
  ['senet', 'PyTorch'],
  ['senet SE', 'PyTorch SE'],
  ['senet SE', 'senet'],
  ['PyTorch SE', 'PyTorch'],
].filter(([a, b]) => runsOf(a) && runsOf(b));
lines.push(
  `| ratio (median of seeds, range) | median epoch | ${targets.map((t) => `time to ${pct(t)}`).join(' | ')} |`,
);
lines.push(`|---|---:|${targets.map(() => '---:').join('|')}|`);
for (const [a, b] of pairs) {
  const [ra, rb] = [runsOf(a)!, runsOf(b)!];
  const epochRatios = medianRange(
    ra.map((r, i) => perEpoch(r) / perEpoch(rb[i])),
    seeds.length,
  );
  const targetRatios = targets.map((t) =>
    medianRange(
      ra.flatMap((r, i) => {
        const [x, y] = [reached(r, t), reached(rb[i], t)];
        return x && y ? [x.trainMinutes / y.trainMinutes] : [];
      }),
      seeds.length,
    ),
  );
  lines.push(`| ${a} / ${b} | ${epochRatios} | ${targetRatios.join(' | ')} |`);
}
console.log(lines.join('\n'));
