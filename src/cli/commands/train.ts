// `senet train`: trains a model from the command line. The config is resolved as defaults < --recipe <
// --config file < flags; `--resume DIR` continues a run with the config stored in it. Ctrl-C finishes the current
// step, saves a resumable checkpoint and exits with code 130 (a second Ctrl-C quits at once, losing only
// the steps since the last checkpoint).
import type { Command } from 'commander';
import { NORMALIZATIONS, AUGMENTATIONS, DATA_MODES } from '../../data/index.js';
import { SE_PLACEMENTS } from '../../models/index.js';
import {
  DEFAULT_CONFIG, MIXED_PRECISIONS, OPTIMIZERS, SCHEDULES, readConfigFile, resolveConfig, fileSource,
  type ConfigKey, type ConfigLayer, type TrainConfig,
} from '../../train/config.js';
import { RECIPES, RECIPE_DESCRIPTIONS } from '../../train/recipes.js';
import { TTA_MODES } from '../../train/tta.js';
import { MEMORY_FORMATS } from '../../models/memory-format.js';
import { defaultRunPath } from '../../train/run-dir.js';
import { trainRun } from '../../train/trainer.js';
import { TrainProgress, formatPercent } from '../progress.js';
import { choiceOption, intOption, intListOption, jsonObjectOption, numberListOption, numberOption } from '../options.js';
import { withInterrupt } from '../interrupt.js';

/** Flags that set one config field each: option attribute name → config key. */
const FIELD_FLAGS: [string, ConfigKey][] = [
  ['model', 'model'], ['data', 'data'], ['imageSize', 'imageSize'], ['epochs', 'epochs'], ['batchSize', 'batchSize'],
  ['shuffle', 'shuffle'], ['optimizer', 'optimizer'], ['lr', 'lr'], ['momentum', 'momentum'], ['nesterov', 'nesterov'],
  ['weightDecay', 'weightDecay'], ['decayBnBias', 'decayBnAndBias'],
  ['biasLrScale', 'biasLrScale'], ['freezeBnScale', 'freezeBnScale'], ['schedule', 'schedule'], ['warmupEpochs', 'warmupEpochs'],
  ['stepSize', 'stepSize'], ['milestones', 'milestones'], ['gamma', 'gamma'], ['labelSmoothing', 'labelSmoothing'],
  ['augment', 'augment'], ['mean', 'mean'], ['std', 'std'], ['seed', 'seed'], ['threads', 'threads'], ['out', 'out'],
  ['evalEvery', 'evalEvery'], ['attention', 'attention'], ['sePlacement', 'sePlacement'], ['recipe', 'recipe'], ['tta', 'tta'],
  ['mixedPrecision', 'mixedPrecision'], ['whiten', 'whiten'], ['memoryFormat', 'memoryFormat'],
  ['dataMode', 'dataMode'], ['colorJitter', 'colorJitter'],
  ['identityInit', 'identityInit'],
];

/** The flag a config key is set by (for messages). */
const FLAG_OF: Partial<Record<ConfigKey, string>> = Object.fromEntries(FIELD_FLAGS.map(([attr, key]) => [key,
  attr === 'decayBnBias' ? '--no-decay-bn-bias' : attr === 'shuffle' ? '--no-shuffle' : `--${attr.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`]));

const flagSource = { describe: (key: ConfigKey) => FLAG_OF[key] ?? `--${key}` };

type Options = Record<string, unknown> & {
  config?: string; resume?: string; normalize?: keyof typeof NORMALIZATIONS; seReduction?: number; ema?: number | false; bf16?: boolean;
};

/** The config layer the command line sets: only the flags actually given. */
function flagLayer(command: Command, options: Options, fileLayer: Partial<TrainConfig>): Partial<TrainConfig> {
  const given = (attr: string) => command.getOptionValueSource(attr) === 'cli';
  const values: Partial<TrainConfig> = {};
  const set = <K extends ConfigKey>(key: K, value: TrainConfig[K]) => { values[key] = value; };
  if (options.normalize) {
    const { mean, std } = NORMALIZATIONS[options.normalize];
    set('mean', [...mean]);
    set('std', [...std]);
  }
  for (const [attr, key] of FIELD_FLAGS) if (given(attr)) set(key, options[attr] as never);
  // --ema <decay> or --no-ema (null: no averaging); --bf16 is short for --mixed-precision bf16.
  if (given('ema')) set('ema', options.ema === false ? null : options.ema as number);
  if (given('bf16')) set('mixedPrecision', 'bf16');
  if (given('channelsLast')) set('memoryFormat', 'channelsLast');
  if (options.seReduction !== undefined) {
    // Merged onto the attention the other layers give, so `--se-reduction 8` keeps e.g. a type from --config.
    set('attention', { ...(values.attention ?? fileLayer.attention ?? {}), reduction: options.seReduction });
  }
  return values;
}

function given(command: Command, options: Options): string[] {
  return Object.keys(options).filter((attr) => command.getOptionValueSource(attr) === 'cli')
    .map((attr) => command.options.find((o) => o.attributeName() === attr)?.long ?? attr);
}

export function registerTrain(program: Command): void {
  const d = DEFAULT_CONFIG;
  program.command('train')
    .summary('train a model (defaults: the seed recipe); resume a stopped run')
    .description('train a model; the defaults are the seed recipe (SimpleCNN with one SE block on CIFAR-10, ' +
      'Normalize(0.5, 0.5), batch 64 shuffled, Adam lr 0.001, 10 epochs, cross-entropy); --recipe picks another set of ' +
      'defaults that --config and the flags still override. Prints one line per epoch: ' +
      '"Epoch [e/N], Loss: <the epoch\'s mean training loss>, Test accuracy: <on the test split>"')
    .option('-r, --recipe <name>', `defaults to start from: ${RECIPES.map((r) => `${r} (${RECIPE_DESCRIPTIONS[r]})`).join('; ')} (default seed)`,
      choiceOption('--recipe', RECIPES))
    .option('-m, --model <name>', `model name, see \`senet models\` (default ${d.model})`)
    .option('-d, --data <name|dir>', `cifar10, cifar100, or a folder with train/<class>/ and test/<class>/ images (default ${d.data})`)
    .option('--image-size <n>', 'image folders: resize images to n×n (default: their own size)', intOption('--image-size'))
    .option('-e, --epochs <n>', `epochs (default ${d.epochs})`, intOption('--epochs'))
    .option('-b, --batch-size <n>', `batch size (default ${d.batchSize})`, intOption('--batch-size'))
    .option('--optimizer <name>', `${OPTIMIZERS.join(', ')} (default ${d.optimizer})`, choiceOption('--optimizer', OPTIMIZERS))
    .option('--lr <x>', `learning rate (default ${d.lr})`, numberOption('--lr'))
    .option('--momentum <x>', `SGD momentum (default ${d.momentum})`, numberOption('--momentum'))
    .option('--nesterov', 'SGD with Nesterov momentum')
    .option('--weight-decay <x>', 'weight decay (default 0; AdamW 0.01)', numberOption('--weight-decay'))
    .option('--no-decay-bn-bias', 'no weight decay on BatchNorm parameters and biases')
    .option('--decay-bn-bias', 'weight decay on BatchNorm parameters and biases too (when a recipe turns it off)')
    .option('--bias-lr-scale <x>', 'lr multiplier for biases and BatchNorm parameters (their decay is divided by it) (default 1)',
      numberOption('--bias-lr-scale'))
    .option('--freeze-bn-scale', 'BatchNorm scales fixed at 1, not trained (a learned shift only)')
    .option('--no-freeze-bn-scale', 'train the BatchNorm scales (when a recipe or config file freezes them)')
    .option('--schedule <name>', `learning-rate schedule, stepped every batch: ${SCHEDULES.join(', ')} (default ${d.schedule})`,
      choiceOption('--schedule', SCHEDULES))
    .option('--warmup-epochs <n>', 'epochs of linear warmup from lr/100 (default 0)', intOption('--warmup-epochs'))
    .option('--step-size <n>', 'step schedule: epochs between decays (default: a third of the epochs)', intOption('--step-size'))
    .option('--milestones <list>', 'multistep schedule: epochs to decay at, e.g. 30,60,90 (default: 50% and 75%)', intListOption('--milestones'))
    .option('--gamma <x>', `step/multistep decay factor (default ${d.gamma})`, numberOption('--gamma'))
    .option('--label-smoothing <x>', 'label smoothing of the training loss (default 0)', numberOption('--label-smoothing'))
    .option('--augment <name>', `training augmentation: ${AUGMENTATIONS.join(', ')} (default ${d.augment})`, choiceOption('--augment', AUGMENTATIONS))
    .option('--data-mode <mode>', `image folders: ${DATA_MODES.join(', ')} (default auto: see the README's data section)`,
      choiceOption('--data-mode', DATA_MODES))
    .option('--color-jitter <x>', 'streamed training: ColorJitter strength, 0..1 (default 0)', numberOption('--color-jitter', 0))
    .option('--normalize <name>', `normalisation preset: ${Object.keys(NORMALIZATIONS).join(', ')} (default half = 0.5/0.5)`,
      choiceOption('--normalize', Object.keys(NORMALIZATIONS) as (keyof typeof NORMALIZATIONS)[]))
    .option('--mean <list>', 'per-channel mean, e.g. 0.4914,0.4822,0.4465', numberListOption('--mean'))
    .option('--std <list>', 'per-channel std, e.g. 0.2470,0.2435,0.2616', numberListOption('--std'))
    .option('--no-shuffle', 'keep the training images in dataset order')
    .option('--seed <n>', `random seed (default ${d.seed})`, intOption('--seed'))
    .option('--threads <n>', 'libtorch threads (default: every core)', intOption('--threads'))
    .option('-o, --out <dir>', 'run directory (default runs/<model>-<timestamp>)')
    .option('--eval-every <n>', 'evaluate on the test split every n epochs, and after the last (default 1)', intOption('--eval-every'))
    .option('--attention <json>', 'attention unit options, e.g. \'{"type":"eca"}\' or \'{"reduction":8}\'',
      jsonObjectOption('--attention', '{"type":"se","reduction":8}'))
    .option('--se-reduction <n>', 'SE reduction ratio r (shorthand for --attention \'{"reduction":n}\')', intOption('--se-reduction'))
    .option('--ema <decay>', 'evaluate and save an exponential moving average of the weights, e.g. 0.99 (per step)',
      numberOption('--ema'))
    .option('--no-ema', 'no weight averaging (when a recipe or config file asks for it)')
    .option('--tta <mode>', `test-time augmentation of the evaluation: ${TTA_MODES.join(', ')} (default none)`, choiceOption('--tta', TTA_MODES))
    .option('--mixed-precision <mode>', `${MIXED_PRECISIONS.join(', ')}: bf16 runs forward and loss under CPU bfloat16 autocast (default none)`,
      choiceOption('--mixed-precision', MIXED_PRECISIONS))
    .option('--bf16', 'short for --mixed-precision bf16')
    .option('--memory-format <format>', `${MEMORY_FORMATS.join(', ')}: the memory order of weights and batches (default contiguous)`,
      choiceOption('--memory-format', MEMORY_FORMATS))
    .option('--channels-last', 'short for --memory-format channelsLast (faster convolutions on the CPU)')
    .option('--whiten', 'FastNets: whiten and freeze the 2×2 stem from the training images\' patch statistics')
    .option('--no-whiten', 'FastNets: train the stem from its default initialisation')
    .option('--identity-init', 'FastNets: start each group\'s convolutions as partial identities (airbench)')
    .option('--no-identity-init', 'FastNets: keep the default random initialisation of the convolutions')
    .option('--se-placement <where>', `CIFAR ResNets: where SE sits in a block: ${SE_PLACEMENTS.join(', ')}`, choiceOption('--se-placement', SE_PLACEMENTS))
    .option('--config <file>', 'JSON file of settings (any TrainConfig fields); flags override it')
    .option('--resume <dir>', 'continue the run in <dir> from its last checkpoint, with its own config')
    .action(async (options: Options, command: Command) => {
      let config: TrainConfig | undefined;
      if (options.resume !== undefined) {
        const others = given(command, options).filter((flag) => flag !== '--resume' && flag !== '--threads');
        if (others.length > 0) {
          throw new Error(`--resume continues ${options.resume} with the config it was started with; ` +
            `${others.join(', ')} cannot be changed mid-run (start a new run instead)`);
        }
      } else {
        const layers: ConfigLayer[] = [];
        let fileLayer: Partial<TrainConfig> = {};
        if (options.config) {
          fileLayer = readConfigFile(options.config);
          layers.push({ values: fileLayer, source: fileSource(options.config) });
        }
        layers.push({ values: flagLayer(command, options, fileLayer), source: flagSource });
        config = resolveConfig(...layers);
        config.out ??= defaultRunPath(config.model);
      }

      const progress = new TrainProgress();
      let result;
      try {
        result = await withInterrupt({
          stopping: 'Stopping after the current step to save a checkpoint (Ctrl-C again to quit at once)...',
          quit: 'stopped without saving; the last checkpoint is intact',
        },
          (signal) => trainRun({
            config, resume: options.resume, threads: options.resume !== undefined ? (options.threads as number | undefined) : undefined,
            signal, onEvent: (event) => progress.handle(event),
          }), () => progress.stop());
      } finally {
        progress.stop();
      }
      if (result.status === 'interrupted') {
        console.log(result.checkpoint
          ? `Interrupted after batch ${result.batch} of epoch ${result.epoch + 1}; checkpoint saved in ${result.checkpoint}.`
          : 'Interrupted before the first checkpoint; the run starts from the beginning when resumed.');
        console.log(`Resume with: senet train --resume ${result.runDir}`);
        process.exitCode = 130;
        return;
      }
      console.log(`Final test accuracy: ${formatPercent(result.evaluation!.accuracy)} (best ${formatPercent(result.bestAccuracy)}); ` +
        `run directory: ${result.runDir}`);
      if (result.evaluation!.top5 !== null) console.log(`Final top-5 accuracy: ${formatPercent(result.evaluation!.top5)}`);
    });
}
