// `senet eval`: accuracy, per-class accuracy and the confusion matrix of trained weights on the evaluation
// split (val/ or validation/ when present, else test/; --split names another), from a run directory (its config names the data,
// the data mode, the test-time augmentation and the precision) or a weights file; --tta and --bf16 override them;
// --int8 evaluates the run's int8 model (`senet quantize`).
import type { Command } from 'commander';
import * as torch from '../../torch/index.js';
import { NAMED_DATASETS } from '../../train/config.js';
import { TTA_MODES, type TTAMode } from '../../train/tta.js';
import { evaluationLoader } from '../../train/data.js';
import { evaluate } from '../../train/evaluate.js';
import { availableParallelism } from 'node:os';
import { renderEvaluation } from '../tables.js';
import { Progress } from '../../train/progress.js';
import { choiceOption, intOption, threadsOption } from '../options.js';
import { int8Option, loadModelSource, modelSourceOptions, type ModelSourceOptions } from './model-source.js';
import { MAX_BATCH_SIZE } from '../../train/config-schema.js';

/** What --split accepts, and the split role each reads. */
const SPLIT_CHOICES = { train: 'train', val: 'validation', test: 'test' } as const;
type SplitChoice = keyof typeof SPLIT_CHOICES;

interface EvalOptions extends ModelSourceOptions {
  data?: string;
  split?: SplitChoice;
  batchSize: number;
  threads?: number;
  json?: boolean;
  tta?: TTAMode;
  bf16?: boolean;
}

export function registerEval(program: Command): void {
  const command = program
    .command('eval')
    .description('evaluate trained weights on a test split: accuracy, per-class accuracy, confusion matrix');
  int8Option(modelSourceOptions(command))
    .option(
      '-d, --data <name|dir>',
      `test data: ${NAMED_DATASETS.join(', ')} or an image folder (default: the run's data)`,
    )
    .option(
      '--split <name>',
      'the split to evaluate: train, val (val/ or validation/) or test (default: val or validation when present, else test)',
      choiceOption('--split', Object.keys(SPLIT_CHOICES) as SplitChoice[]),
    )
    .option('-b, --batch-size <n>', 'batch size', intOption('--batch-size', 1, MAX_BATCH_SIZE), 256)
    .option('--threads <n>', 'libtorch threads (default: every core)', threadsOption())
    .option(
      '--tta <mode>',
      `test-time augmentation: ${TTA_MODES.join(', ')} (default: the run's, else none)`,
      choiceOption('--tta', TTA_MODES),
    )
    .option('--bf16', 'run the model under CPU bfloat16 autocast')
    .option('--no-bf16', 'run the model in float32 (when the run trained in bf16)')
    .option('--json', 'print the evaluation as JSON')
    .action(async (o: EvalOptions) => {
      torch.setNumThreads(o.threads ?? availableParallelism());
      const trained = loadModelSource(o);
      try {
        const data = o.data ?? trained.config?.data;
        if (!data) throw new Error('name the test data with --data (cifar10, cifar100 or an image folder)');
        const [, height, width] = trained.model.inputShape;
        const isFolder = !(NAMED_DATASETS as readonly string[]).includes(data);
        const imageSize = o.imageSize ?? trained.config?.imageSize ?? (isFolder && height === width ? height : null);
        const progress = new Progress();
        // The split (by default the evaluation split), read as the model was trained: in memory or streamed.
        const loader = await evaluationLoader(data, {
          split: o.split ? SPLIT_CHOICES[o.split] : 'evaluation',
          imageSize,
          dataMode: trained.config?.dataMode,
          augment: trained.config?.augment,
          batchSize: o.batchSize,
          mean: trained.context.mean,
          std: trained.context.std,
          onProgress: (what, done, total) => progress.update(what, done, total),
        });
        progress.done();
        const tta = o.tta ?? trained.config?.tta ?? 'none';
        if (o.int8 && o.bf16) throw new Error('--int8 and --bf16 are two precisions: choose one');
        const mixedPrecision = o.int8
          ? 'none'
          : o.bf16 === undefined
            ? (trained.config?.mixedPrecision ?? 'none')
            : o.bf16
              ? 'bf16'
              : 'none';
        const evaluation = await evaluate(trained.model, loader, {
          tta,
          ttaMean: trained.config?.ttaMean ?? 'probabilities',
          mixedPrecision,
          onBatch: (done, total) => progress.update('Evaluating', done, total),
        }).finally(() => loader.dispose());
        progress.done();
        if (o.json) {
          console.log(
            JSON.stringify({
              weights: trained.weightsFile,
              model: trained.spec.name,
              data,
              split: o.split ?? 'evaluation',
              tta,
              mixedPrecision,
              int8: o.int8 ?? false,
              ...evaluation,
            }),
          );
        } else {
          const how = [
            tta !== 'none' ? `TTA ${tta}` : '',
            mixedPrecision === 'bf16' ? 'bfloat16 autocast' : '',
            o.int8 ? 'int8' : '',
          ]
            .filter(Boolean)
            .join(', ');
          console.log(
            `${trained.spec.name} (${trained.weightsFile}) on ${data}, ${o.split ?? 'evaluation'} split${how ? ` (${how})` : ''}`,
          );
          console.log(renderEvaluation(evaluation));
        }
      } finally {
        trained.model.dispose();
      }
    });
}
