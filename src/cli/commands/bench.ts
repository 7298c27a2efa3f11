// `senet bench`: synthetic train/inference throughput of one model, as one JSON line with the keys of
// ../shared/reference/pytorch_bench.py (or a short table without --json).
import type { Command } from 'commander';
import { benchmarkModel } from '../../train/benchmark.js';
import { intOption, threadsOption } from '../options.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'measure training and inference images/s of a model on random data (same workload as pytorch_bench.py)',
    )
    .requiredOption('-m, --model <name>', 'model name (see `senet models`)')
    .option('-b, --batch <n>', 'batch size', intOption('--batch', 1), 128)
    .option('-s, --size <n>', 'input height and width', intOption('--size', 8), 32)
    .option('-t, --threads <n>', 'libtorch threads', threadsOption(), 2)
    .option('--steps <n>', 'timed steps (after 2 warm-up steps)', intOption('--steps', 1), 5)
    .option('--json', 'print one JSON line')
    .action((o: { model: string; batch: number; size: number; threads: number; steps: number; json?: boolean }) => {
      const result = benchmarkModel(o.model, o);
      if (o.json) {
        console.log(JSON.stringify(result));
      } else {
        console.log(
          `${result.model}  batch ${result.batch}  ${result.size}×${result.size}  ${result.threads} thread(s)`,
        );
        console.log(`  train      ${result.train_img_s.toFixed(1)} images/s`);
        console.log(`  inference  ${result.infer_img_s.toFixed(1)} images/s`);
      }
    });
}
