// `senet ablate`: trains several networks under one recipe, epoch count and seed — a plain net, its SE
// twin and SE variants — and writes a table of test accuracy, parameters, MACs and training speed
// (src/train/ablation.ts). Running the same command again continues where it stopped.
import type { Command } from 'commander';
import { join } from 'node:path';
import { resolveConfig, type ConfigLayer, type TrainConfig } from '../../train/config.js';
import { RECIPES, type RecipeName } from '../../train/recipes.js';
import { parseVariant, runAblation, writeAblation, variantFolder } from '../../pipeline/ablation.js';
import { TrainProgress, formatPercent } from '../../train/progress.js';
import { choiceOption, intOption, threadsOption } from '../options.js';
import { exitCodeOf, withInterrupt } from '../interrupt.js';
import { MAX_EPOCHS } from '../../train/config-schema.js';

interface AblateOptions {
  models: string;
  recipe: RecipeName;
  epochs?: number;
  seed: number;
  data?: string;
  threads?: number;
  out?: string;
  results?: string;
  bf16?: boolean;
  channelsLast?: boolean;
}

const flags = { describe: (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` };

export function registerAblate(program: Command): void {
  program
    .command('ablate')
    .description(
      'train networks with and without SE (and SE variants) under one recipe, epoch count and seed; ' +
        'write a table of test accuracy, parameters, MACs and training images/s. A variant is model[:modifier]...: ' +
        'pre|post|identity|standard (SE placement), se|eca|sse|scse (attention type), r<N> (reduction ratio), ' +
        'e.g. resnet20,se-resnet20,se-resnet20:pre,se-resnet20:r4,resnet20:eca. Rerun the same command to continue an interrupted ablation.',
    )
    .requiredOption('--models <list>', 'comma-separated variants, e.g. resnet20,se-resnet20')
    .option(
      '-r, --recipe <name>',
      `training recipe: ${RECIPES.join(', ')}`,
      choiceOption('--recipe', RECIPES),
      'resnet',
    )
    .option('-e, --epochs <n>', "epochs per run (default: the recipe's)", intOption('--epochs', 1, MAX_EPOCHS))
    .option('--seed <n>', 'random seed of every run', intOption('--seed', 0, Number.MAX_SAFE_INTEGER), 0)
    .option('-d, --data <name|dir>', 'cifar10, cifar100 or an image folder (default cifar10)')
    .option('--threads <n>', 'libtorch threads (default: every core)', threadsOption())
    .option('--bf16', 'train (and evaluate) every network under bfloat16 autocast')
    .option('--channels-last', 'train every network in channels-last memory order')
    .option('-o, --out <dir>', 'folder of the runs, one per variant (default runs/ablation-<recipe>-<epochs>e-s<seed>)')
    .option('--results <file.md>', 'where the table goes (JSON beside it; default <out>/ablation.md)')
    .action(async (o: AblateOptions) => {
      const variants = o.models
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map(parseVariant);
      if (variants.length === 0) throw new Error('--models names no variant; give e.g. resnet20,se-resnet20');
      const labels = variants.map((v) => variantFolder(v.label));
      const twice = labels.find((l, i) => labels.indexOf(l) !== i);
      if (twice) throw new Error(`--models names the variant '${twice}' twice`);
      const shared: Partial<TrainConfig> = {
        recipe: o.recipe,
        seed: o.seed,
        ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
        ...(o.data !== undefined ? { data: o.data } : {}),
        ...(o.threads !== undefined ? { threads: o.threads } : {}),
        ...(o.bf16 ? { mixedPrecision: 'bf16' as const } : {}),
        ...(o.channelsLast ? { memoryFormat: 'channelsLast' as const } : {}),
      };
      const layers: ConfigLayer[] = [{ values: shared, source: flags }];
      const epochs = resolveConfig(...layers).epochs;
      const out = o.out ?? join('runs', `ablation-${o.recipe}-${epochs}e-s${o.seed}`);
      const results = o.results ?? join(out, 'ablation.md');

      let progress: TrainProgress | null = null;
      let current = '';
      try {
        const stopped = await withInterrupt(
          {
            stopping: 'Stopping after the current step; run the same command again to continue',
            quit: 'stopped at once; run the same command again to continue from the last checkpoint',
          },
          (signal) =>
            runAblation({
              variants,
              layers,
              out,
              signal,
              onEvent: (variant, event) => {
                if (variant.label !== current) {
                  progress?.stop();
                  progress = new TrainProgress();
                  current = variant.label;
                  process.stderr.write(`\n== ${variant.label} ==\n`);
                }
                progress!.handle(event);
              },
              onRow: (row) =>
                console.log(
                  `${row.variant}: test accuracy ${formatPercent(row.testAccuracy)} after ${row.epochs} epochs, ` +
                    `${row.params.toLocaleString('en-US')} parameters, ${(row.macs / 1e6).toFixed(2)}M MACs, ${row.trainImagesPerSecond.toFixed(0)} train images/s`,
                ),
            }),
          () => (progress as TrainProgress | null)?.stop(),
        );
        const { rows, interrupted } = stopped.result;
        if (interrupted) {
          process.exitCode = exitCodeOf(stopped.stoppedBy ?? 'SIGINT');
          console.log(
            `Interrupted; ${rows.length} of ${variants.length} variants done. Run the same command to continue.`,
          );
          return;
        }
        const command = ['senet', ...process.argv.slice(2)]
          .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
          .join(' ');
        const json = writeAblation(results, rows, {
          command,
          recipe: o.recipe,
          epochs,
          seed: o.seed,
          data: o.data ?? 'cifar10',
          threads: o.threads ?? null,
          precision: o.bf16 ? 'bf16' : 'float32',
        });
        console.log(`Table: ${results} (rows: ${json})`);
      } finally {
        (progress as TrainProgress | null)?.stop();
      }
    });
}
