// `senet train`: trains a model from the command line. The config is resolved as defaults < --recipe <
// --config file < flags; `--resume DIR` continues a run with the config stored in it. Ctrl-C (or SIGTERM)
// finishes the current step, saves a resumable checkpoint and exits with code 130 (143 for SIGTERM); a second
// signal quits at once, losing only the steps since the last checkpoint.
import { Option, type Command } from 'commander';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../../torch/index.js';
import { defaultCacheDir, NORMALIZATIONS } from '../../data/index.js';
import {
  CONFIG_KEYS,
  fieldSpec,
  readConfigFile,
  resolveConfig,
  fileSource,
  type ConfigKey,
  type ConfigLayer,
  type ConfigSource,
  type TrainConfig,
} from '../../train/config.js';
import { defaultRunPath } from '../../train/run-dir.js';
import { trainRun } from '../../train/trainer.js';
import { TrainProgress, formatPercent } from '../../train/progress.js';
import { choiceOption, intOption, valueParser } from '../options.js';
import { exitCodeOf, type Interrupted, withInterrupt } from '../interrupt.js';
import { TrainPhase } from '../phase.js';
import { folderUnwritable } from '../writable.js';
import { launch, withoutLaunchFlags } from '../launch.js';

/** The options that set one config field, from its flag in the table (config-schema.ts). */
interface FieldFlags {
  key: ConfigKey;
  /** The field's flag; a valued field's '--no-x' (its negation) gives false, which stands for null. */
  main: Option;
  /** The opposite flag, which sets the same option value as `main`. */
  negation?: Option;
  /** Flags short for one value of the field ('--bf16'). */
  shorthands: { option: Option; value: unknown }[];
}

/** The help text with the default value appended, unless the text says the default itself. */
function withDefault(help: string, value: unknown): string {
  if (value === null || typeof value === 'boolean' || help.includes('(default')) return help;
  return `${help} (default ${Array.isArray(value) ? value.join(',') : String(value)})`;
}

/** The options of every field with a flag, in the table's order (new ones for each program: commander keeps them). */
function fieldFlags(): FieldFlags[] {
  return CONFIG_KEYS.flatMap((key) => {
    const { rule, default: value, flag } = fieldSpec(key);
    if (!flag) return [];
    const main = new Option(flag.flags, withDefault(flag.help, value));
    const parse = valueParser(main.long!, rule.kind);
    if (parse) main.argParser(parse);
    const opposite = main.negate ? `--${main.long!.slice('--no-'.length)}` : `--no-${main.long!.slice('--'.length)}`;
    return [
      {
        key,
        main,
        negation: flag.negation !== undefined ? new Option(opposite, flag.negation) : undefined,
        shorthands: (flag.shorthands ?? []).map((s) => ({ option: new Option(s.flags, s.help), value: s.value })),
      },
    ];
  });
}

/** Names each field by its flag in messages: '--lr', '--no-decay-bn-bias'. */
function flagSource(flags: FieldFlags[]): ConfigSource {
  return { describe: (key) => flags.find((f) => f.key === key)?.main.long ?? `--${key}` };
}

const PRESETS = Object.keys(NORMALIZATIONS) as (keyof typeof NORMALIZATIONS)[];

/** Options that set more than one field, or part of one: listed after the field they concern. */
function extraOptions(): Partial<Record<ConfigKey, Option[]>> {
  return {
    attention: [
      new Option(
        '--se-reduction <n>',
        'SE reduction ratio r (shorthand for --attention \'{"reduction":n}\')',
      ).argParser(intOption('--se-reduction', 1, 4096)),
    ],
    std: [
      new Option(
        '--normalize <name>',
        `normalisation preset, sets --mean and --std: ${PRESETS.join(', ')} (default half = 0.5/0.5)`,
      ).argParser(choiceOption('--normalize', PRESETS)),
    ],
  };
}

type Options = Record<string, unknown> & {
  config?: string;
  resume?: string;
  nprocPerNode?: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort?: number;
  maxRestarts: number;
  distTimeout: number;
  syncBatchnorm?: boolean;
  normalize?: keyof typeof NORMALIZATIONS;
  seReduction?: number;
};

/** The config layer the command line sets: only the flags actually given. */
function flagLayer(command: Command, flags: FieldFlags[], options: Options, fileLayer: Partial<TrainConfig>) {
  const given = (option: Option) => command.getOptionValueSource(option.attributeName()) === 'cli';
  const values: Record<string, unknown> = {};
  if (options.normalize) {
    const { mean, std } = NORMALIZATIONS[options.normalize];
    values.mean = [...mean];
    values.std = [...std];
  }
  for (const { key, main, shorthands } of flags) {
    if (given(main)) {
      const value = options[main.attributeName()];
      values[key] = value === false && fieldSpec(key).rule.kind.type !== 'boolean' ? null : value;
    }
    // A shorthand wins over the field's own flag: `--bf16 --mixed-precision none` trains in bf16.
    for (const { option, value } of shorthands) if (given(option)) values[key] = value;
  }
  if (options.seReduction !== undefined) {
    // Merged onto the attention the other layers give, so `--se-reduction 8` keeps e.g. a type from --config.
    values.attention = { ...(values.attention ?? fileLayer.attention ?? {}), reduction: options.seReduction };
  }
  return values as Partial<TrainConfig>;
}

function given(command: Command, options: Options): string[] {
  return Object.keys(options)
    .filter((attr) => command.getOptionValueSource(attr) === 'cli')
    .map((attr) => command.options.find((o) => o.attributeName() === attr)?.long ?? attr);
}

/**
 * Fails early, with what to do, when the run directory (new or resumed) or the data cache cannot be
 * written: otherwise that shows only after data preparation or the first epoch.
 */
function checkWritable(resume: string | undefined, out: string | null): void {
  if (resume !== undefined) {
    const reason = existsSync(resume) ? folderUnwritable(resume) : null; // a missing one: RunDir says so
    if (reason !== null) {
      throw new Error(
        `cannot resume ${resume}: ${reason}, and training writes its checkpoints there; ` +
          `copy the run to a writable place (cp -r ${resume} NEW) and resume the copy`,
      );
    }
  } else if (out !== null) {
    const reason = folderUnwritable(out);
    if (reason !== null)
      throw new Error(
        `cannot create the run directory ${out} (--out): ${reason}; give --out a new folder you can write`,
      );
  }
  const cache = defaultCacheDir();
  const reason = existsSync(cache) ? null : folderUnwritable(cache);
  if (reason !== null) {
    throw new Error(
      `cannot create the data cache folder ${cache}: ${reason}; ` +
        'set SENET_DATA to a writable folder (e.g. SENET_DATA=/tmp/senet-data)',
    );
  }
}

export function registerTrain(program: Command): void {
  const train = program
    .command('train')
    .summary('train a model (defaults: the seed recipe); resume a stopped run')
    .description(
      'train a model; the defaults are the seed recipe (SimpleCNN with one SE block on CIFAR-10, ' +
        'Normalize(0.5, 0.5), batch 64 shuffled, Adam lr 0.001, 10 epochs, cross-entropy); --recipe picks another set of ' +
        'defaults that --config and the flags still override. Prints one line per epoch: ' +
        '"Epoch [e/N], Loss: <the epoch\'s mean training loss>, Test accuracy: <on the test split>"',
    );
  const flags = fieldFlags();
  const extras = extraOptions();
  for (const { key, main, negation, shorthands } of flags) {
    for (const option of [main, negation, ...shorthands.map((s) => s.option), ...(extras[key] ?? [])]) {
      if (option) train.addOption(option);
    }
  }
  train
    .option('--config <file>', 'JSON file of settings (any TrainConfig fields); flags override it')
    .option('--resume <dir>', 'continue the run in <dir> from its last checkpoint, with its own config')
    .addOption(
      new Option(
        '--nproc-per-node <n>',
        'data-parallel training: start n worker processes here, like torchrun (--batch-size stays the global ' +
          'batch, --threads is per process)',
      ).argParser(intOption('--nproc-per-node', 1, 1024)),
    )
    .addOption(new Option('--nnodes <n>', 'machines in the group').default(1).argParser(intOption('--nnodes', 1, 4096)))
    .addOption(
      new Option('--node-rank <r>', "this machine's rank in 0..nnodes-1")
        .default(0)
        .argParser(intOption('--node-rank', 0, 4095)),
    )
    .addOption(new Option('--master-addr <host>', 'address of node 0 (the rendezvous)').default('127.0.0.1'))
    .addOption(
      new Option(
        '--master-port <port>',
        'rendezvous port on node 0 (default: a free one on one node, else 29500)',
      ).argParser(intOption('--master-port', 1, 65535)),
    )
    .addOption(
      new Option('--max-restarts <k>', 'restart the group from the last checkpoint up to k times when a rank fails')
        .default(0)
        .argParser(intOption('--max-restarts', 0, 1000)),
    )
    .option(
      '--sync-batchnorm',
      "with several processes, BatchNorm layers use the global batch's statistics (PyTorch's SyncBatchNorm)",
    )
    .addOption(
      new Option('--dist-timeout <seconds>', 'how long ranks wait for each other before failing')
        .default(1800)
        .argParser(intOption('--dist-timeout', 1, 86400)),
    )
    .action(async (options: Options, command: Command) => {
      let config: TrainConfig | undefined;
      const launchFlags = ['--resume', '--threads', '--dist-timeout', '--nproc-per-node', '--nnodes', '--node-rank'];
      if (options.resume !== undefined) {
        const others = given(command, options).filter(
          (flag) =>
            !launchFlags.includes(flag) &&
            !['--master-addr', '--master-port', '--max-restarts', '--sync-batchnorm'].includes(flag),
        );
        if (others.length > 0) {
          throw new Error(
            `--resume continues ${options.resume} with the config it was started with; ` +
              `${others.join(', ')} cannot be changed mid-run (start a new run instead)`,
          );
        }
      } else {
        const layers: ConfigLayer[] = [];
        let fileLayer: Partial<TrainConfig> = {};
        if (options.config) {
          fileLayer = readConfigFile(options.config);
          layers.push({ values: fileLayer, source: fileSource(options.config) });
        }
        layers.push({ values: flagLayer(command, flags, options, fileLayer), source: flagSource(flags) });
        config = resolveConfig(...layers);
        config.out ??= defaultRunPath(config.model);
      }

      checkWritable(options.resume, config?.out ?? null);
      if (options.nprocPerNode !== undefined) {
        const runDir = options.resume ?? (config?.out as string);
        const args = withoutLaunchFlags(process.argv.slice(2));
        if (options.resume === undefined && command.getOptionValueSource('out') !== 'cli') args.push('--out', runDir);
        const keep = (flag: string, value: unknown) =>
          given(command, options).includes(flag) ? [flag, String(value)] : [];
        const resumeArgs = [
          'train',
          '--resume',
          runDir,
          ...keep('--threads', options.threads),
          ...keep('--dist-timeout', options.distTimeout),
          ...(options.syncBatchnorm ? ['--sync-batchnorm'] : []),
        ];
        if (options.nodeRank >= options.nnodes) {
          throw new Error(`--node-rank ${options.nodeRank} must be below --nnodes ${options.nnodes}`);
        }
        process.exitCode = await launch({
          nprocPerNode: options.nprocPerNode,
          nnodes: options.nnodes,
          nodeRank: options.nodeRank,
          masterAddr: options.masterAddr,
          masterPort: options.masterPort,
          maxRestarts: options.maxRestarts,
          args,
          resumeArgs,
          runDir,
        });
        return;
      }
      const worker = distributedWorker();
      // Ranks other than 0 train the same steps but keep their files in a private folder and print nothing. A
      // run being resumed is copied before joining the group: rank 0 writes to it only once every rank has
      // joined, so the copy never meets a file being replaced.
      let scratch: string | null = null;
      let resume = options.resume;
      if (worker && worker.rank !== 0) {
        scratch = mkdtempSync(join(tmpdir(), `senet-rank${worker.rank}-`));
        if (resume !== undefined) {
          cpSync(resume, join(scratch, 'run'), { recursive: true });
          resume = join(scratch, 'run');
        } else if (config) config.out = join(scratch, 'run');
      }
      if (worker) {
        try {
          await torch.distributed.initProcessGroup({ timeoutMs: options.distTimeout * 1000 });
        } catch (error) {
          if (scratch) rmSync(scratch, { recursive: true, force: true });
          throw error;
        }
      }
      try {
        await trainCommand(options, config, resume, worker);
      } catch (error) {
        if (!worker) throw error;
        // The launcher names the rank that died; this line says which rank stopped because of it.
        throw new Error(
          `rank ${worker.rank} of ${worker.worldSize} stopped: ${(error as Error).message.replace(/^distributed: /, '')}`,
        );
      } finally {
        if (scratch) rmSync(scratch, { recursive: true, force: true });
        if (worker) await torch.distributed.destroyProcessGroup();
      }
    });
}

/** This process's place in a group started by a launcher (torchrun's variables), or null. */
function distributedWorker(): { rank: number; worldSize: number } | null {
  const { RANK, WORLD_SIZE, MASTER_ADDR } = process.env;
  if (RANK === undefined || WORLD_SIZE === undefined || MASTER_ADDR === undefined) return null;
  return { rank: Number(RANK), worldSize: Number(WORLD_SIZE) };
}

async function trainCommand(
  options: Options,
  config: TrainConfig | undefined,
  resume: string | undefined,
  worker: { rank: number; worldSize: number } | null,
): Promise<void> {
  const quiet = worker !== null && worker.rank !== 0;
  {
    const progress = new TrainProgress();
    const phase = new TrainPhase();
    let stopped: Interrupted<Awaited<ReturnType<typeof trainRun>>>;
    try {
      stopped = await withInterrupt(
        { stopping: () => phase.stopping(), quit: 'stopped without saving; the last checkpoint is intact' },
        (signal) =>
          trainRun({
            config,
            resume,
            threads: resume !== undefined ? (options.threads as number | undefined) : undefined,
            signal,
            distributed: worker ? { ...worker, syncBatchNorm: options.syncBatchnorm === true } : undefined,
            onEvent: (event) => {
              if (quiet) return;
              phase.handle(event);
              progress.handle(event);
            },
          }),
        () => progress.stop(),
      );
    } finally {
      progress.stop();
    }
    const { result, stoppedBy } = stopped;
    if (quiet) {
      if (result.status === 'interrupted') process.exitCode = exitCodeOf(stoppedBy ?? 'SIGINT');
      return;
    }
    if (result.status === 'interrupted') {
      console.log(
        result.checkpoint
          ? `Interrupted after batch ${result.batch} of epoch ${result.epoch + 1}; checkpoint saved in ${result.checkpoint}.`
          : 'Interrupted before the first checkpoint; the run starts from the beginning when resumed.',
      );
      console.log(`Resume with: senet train --resume ${result.runDir}`);
      process.exitCode = exitCodeOf(stoppedBy ?? 'SIGINT');
      return;
    }
    console.log(
      `Final test accuracy: ${formatPercent(result.evaluation!.accuracy)} (best ${formatPercent(result.bestAccuracy)}); ` +
        `run directory: ${result.runDir}`,
    );
    if (result.evaluation!.top5 !== null)
      console.log(`Final top-5 accuracy: ${formatPercent(result.evaluation!.top5)}`);
  }
}
