// Time to accuracy: trains a recipe (default: the fast one) on the CIFAR-10 JPEG folder with an SE network
// and records, after every epoch, the wall-clock time and the test accuracy as the recipe evaluates it
// (its weight averaging and test-time augmentation included), then the minutes at which the accuracy first
// reached each target (90%, 93%, 94% by default; the best reached otherwise) and the training work done
// in FLOPs — 3 × 2 × MACs × training images (forward = 2·MACs FLOPs, backward ≈ twice the forward) — next to
// the 0.36 PFLOP that airbench needs for 94% (Keller Jordan, "94% on CIFAR-10 in 3.29 seconds on a single GPU").
// Writes bench/results/time-to-accuracy.md (and .json beside it).
// Usage: node dist/bench/time-to-accuracy.js [--recipe fast] [--model se-fastnet] [--epochs N] [--seed 0]
//        [--threads N] [--data DIR] [--targets 0.90,0.93,0.94] [--bf16] [--out RUN_DIR] [--results FILE.md]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/torch/index.js';
import { createModel, modelName, summarizeModel } from '../src/models/index.js';
import { resolveConfig, type TrainConfig } from '../src/train/config.js';
import { RECIPES, type RecipeName } from '../src/train/recipes.js';
import { trainRun } from '../src/train/trainer.js';
import type { EpochMetrics } from '../src/train/run-dir.js';
import { arg } from './args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = [process.env.SENET_SHARED_DIR, join(ROOT, '..', 'shared'), '/work/shared']
  .filter((d): d is string => !!d)
  .map((d) => join(d, 'datasets', 'cifar10-jpeg'))
  .find(existsSync);
/** airbench94's training work for 94% on CIFAR-10. */
const AIRBENCH_PFLOP = 0.36;

const recipe = (arg('recipe') ?? 'fast') as RecipeName;
if (!RECIPES.includes(recipe)) throw new Error(`--recipe must be one of ${RECIPES.join(', ')}, got '${recipe}'`);
const data = arg('data') ?? DATA;
if (!data || !existsSync(data))
  throw new Error(
    `the CIFAR-10 JPEG folder was not found (looked for ../shared/datasets/cifar10-jpeg); give --data DIR`,
  );
const targets = (arg('targets') ?? '0.90,0.93,0.94').split(',').map(Number);
const threads = Number(arg('threads') ?? availableParallelism());
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
const out = arg('out') ?? join(ROOT, 'runs', `time-to-accuracy-${recipe}-${stamp}`);
const results = resolve(arg('results') ?? join(ROOT, 'bench', 'results', 'time-to-accuracy.md'));

const values: Partial<TrainConfig> = {
  recipe,
  data: resolve(data),
  threads,
  out,
  ...(arg('model') ? { model: arg('model') } : {}),
  ...(arg('epochs') ? { epochs: Number(arg('epochs')) } : {}),
  ...(arg('seed') ? { seed: Number(arg('seed')) } : {}),
  ...(process.argv.includes('--bf16') ? { mixedPrecision: 'bf16' as const } : {}),
};
const config = resolveConfig({ values, source: { describe: (k) => `--${k}` } });

const probe = createModel(modelName(config.model), config.attention ? { attention: config.attention } : {});
const { macs, params } = summarizeModel(probe, probe.inputShape);
probe.dispose();

interface Point extends EpochMetrics {
  /** Minutes since the run started (data loading, model building, training and evaluations so far). */
  wallMinutes: number;
  /** Minutes of training alone (no evaluation, no data loading) up to the end of this epoch. */
  trainMinutes: number;
  /** Training FLOPs so far. */
  pflop: number;
}

const points: Point[] = [];
let trainImages = 0;
let trainSeconds = 0;
const started = performance.now();
console.error(
  `time to accuracy: ${config.model} (${(macs / 1e6).toFixed(1)}M MACs), recipe ${recipe}, ${config.epochs} epochs, ` +
    `${threads} threads, ${config.mixedPrecision === 'bf16' ? 'bf16' : 'float32'} → ${out}`,
);
const result = await trainRun({
  config,
  runDir: out,
  threads,
  onEvent: (event) => {
    if (event.type === 'start') trainImages = event.trainSize;
    if (event.type !== 'epoch') return;
    const m = event.metrics;
    trainSeconds += trainImages / m.images_per_s;
    const point: Point = {
      ...m,
      wallMinutes: (performance.now() - started) / 60000,
      trainMinutes: trainSeconds / 60,
      pflop: (6 * macs * trainImages * m.epoch) / 1e15,
    };
    points.push(point);
    console.error(
      `epoch ${m.epoch}/${config.epochs}: test accuracy ${m.test_acc === null ? '-' : (100 * m.test_acc).toFixed(2)}%, ` +
        `${point.wallMinutes.toFixed(1)} min, ${point.pflop.toFixed(3)} PFLOP`,
    );
  },
});
if (result.status !== 'completed') throw new Error('the run did not complete');

const reached = targets.map((target) => ({
  target,
  at: points.find((p) => p.test_acc !== null && p.test_acc >= target) ?? null,
}));
const best = points.reduce(
  (b, p) => (p.test_acc !== null && (b === null || p.test_acc > b.test_acc!) ? p : b),
  null as Point | null,
);
const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
const info = torch.buildInfo();
const command = ['node dist/bench/time-to-accuracy.js', ...process.argv.slice(2)].join(' ');
const lines = [
  '# Time to accuracy on CIFAR-10',
  '',
  `The **${recipe}** recipe (${config.model}, ${params.toLocaleString('en-US')} parameters, ${(macs / 1e6).toFixed(1)}M MACs per image) ` +
    `trained on the CIFAR-10 JPEG folder (50,000 training / 10,000 test images; re-encoded JPEGs, so a little harder than the originals), ` +
    `seed ${config.seed}, ${config.mixedPrecision === 'bf16' ? 'bfloat16 autocast' : 'float32'}. Test accuracy as the recipe evaluates it: ` +
    `${config.lookahead !== null ? 'Lookahead-averaged weights' : config.ema === null ? 'raw weights' : `EMA weights (decay ${config.ema})`}, ` +
    `test-time augmentation '${config.tta}'${config.ttaMean === 'logits' ? ' over logits' : ''}.`,
  '',
  '```',
  command,
  '```',
  '',
  `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${threads} libtorch threads, libtorch ${info.torchVersion}, Node ${process.version}. ` +
    'Wall minutes count everything from the start (data loading, per-epoch evaluations included); training minutes only the training steps.',
  '',
  '| target | reached at epoch | wall minutes | training minutes | training PFLOP |',
  '|---|---:|---:|---:|---:|',
  ...reached.map(({ target, at }) =>
    at
      ? `| ${pct(target)} | ${at.epoch} | ${at.wallMinutes.toFixed(1)} | ${at.trainMinutes.toFixed(1)} | ${at.pflop.toFixed(3)} |`
      : `| ${pct(target)} | not reached (best ${pct(best?.test_acc ?? null)} at epoch ${best?.epoch ?? '-'}) | | | |`,
  ),
  '',
  `Training work: 3 × 2 × ${(macs / 1e6).toFixed(1)}M MACs × ${trainImages.toLocaleString('en-US')} images per epoch = ` +
    `${((6 * macs * trainImages) / 1e15).toFixed(4)} PFLOP per epoch, ${(points.at(-1)?.pflop ?? 0).toFixed(3)} PFLOP in all ` +
    `(airbench: ${AIRBENCH_PFLOP} PFLOP for 94%).`,
  '',
  '## Per-epoch curve',
  '',
  '| epoch | test accuracy | train loss | train accuracy | lr (last step) | train images/s | wall minutes | training minutes | PFLOP |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...points.map(
    (p) =>
      `| ${p.epoch} | ${pct(p.test_acc)} | ${p.train_loss.toFixed(4)} | ${pct(p.train_acc)} | ${p.lr.toPrecision(3)} | ` +
      `${p.images_per_s.toFixed(0)} | ${p.wallMinutes.toFixed(1)} | ${p.trainMinutes.toFixed(1)} | ${p.pflop.toFixed(3)} |`,
  ),
  '',
];
mkdirSync(dirname(results), { recursive: true });
writeFileSync(results, lines.join('\n'));
writeFileSync(
  results.replace(/\.md$/, '.json'),
  `${JSON.stringify({ command, config, macs, params, points, reached }, null, 2)}\n`,
);
console.error(`wrote ${results}`);
