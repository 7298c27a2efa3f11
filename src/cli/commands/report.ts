// `senet report RUN_DIR`: the run's report as report.md (+ figures/*.svg) and a self-contained
// report.html, with the SE excitation analysis of its trained weights (se-analysis.json).
import type { Command } from 'commander';
import { writeReport } from '../../report/index.js';
import { intOption } from '../options.js';
import { checkOutputFolder } from '../writable.js';

interface ReportFlags {
  out?: string;
  seAnalysis: boolean;
  seImages?: number;
  data?: string;
  tensorboard?: string;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'write report.md and report.html for a training run: stage timeline and state diagram, training curves, ' +
        'confusion matrix, per-class accuracy, model summary and the SE excitation analysis',
    )
    .argument('<run-dir>', 'the run directory of `senet train` (holds config.json, pipeline.json, metrics.jsonl, ...)')
    .option('-o, --out <dir>', 'where to write the report (default: the run directory)')
    .option('--no-se-analysis', 'skip the SE analysis (it runs the test images through the trained model)')
    .option(
      '--se-images <n>',
      'test images for the SE analysis, balanced across classes (default: all)',
      intOption('--se-images', 1, 1_000_000),
    )
    .option(
      '--data <dir>',
      "where the run's test data is, if not where its config says (CIFAR: the folder with the extracted dataset)",
    )
    .option(
      '--tensorboard <dir>',
      'also write a TensorBoard event file (scalars per epoch, excitation histograms) into this folder',
    )
    .action(async (runDir: string, flags: ReportFlags) => {
      if (flags.out !== undefined) checkOutputFolder(flags.out, '--out');
      if (flags.tensorboard !== undefined) checkOutputFolder(flags.tensorboard, '--tensorboard');
      const result = await writeReport(runDir, {
        out: flags.out,
        seAnalysis: flags.seAnalysis,
        seImages: flags.seImages,
        dataRoot: flags.data,
        tensorboard: flags.tensorboard,
        onProgress: (message) => console.error(message),
      });
      console.log(`wrote ${result.markdown}`);
      console.log(`wrote ${result.html}`);
      console.log(`wrote ${result.figures.length} figures`);
      if (result.seAnalysis) console.log(`wrote ${result.seAnalysis}`);
      else console.log(`SE analysis not made: ${result.seAnalysisSkipped}`);
      if (result.tensorboard) console.log(`wrote ${result.tensorboard}`);
    });
}
