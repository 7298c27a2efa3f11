// `senet tune`: a hyper-parameter search over a base training config. The study lives in --study DIR
// (study.db, one run directory per trial under trials/, best-config.json, plots/). Running the same
// command again — or just `senet tune --study DIR` — continues the study where it stopped, resuming a
// trial that was cut off from its checkpoint; several such commands at once share the trials between
// them. `--show` prints the table of trials without running anything.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  DEFAULT_CONFIG,
  NAMED_DATASETS,
  checkCompleteConfig,
  fileSource,
  readConfigFile,
  resolveConfig,
  type ConfigLayer,
  type TrainConfig,
} from '../../train/config.js';
import {
  PRUNERS,
  SAMPLERS,
  StudyStorage,
  checkSpaceFitsConfig,
  formatCounts,
  formatTrialTable,
  gridOf,
  loadStudy,
  openStudy,
  optimize,
  parseSpace,
  studyPaths,
  trainingObjective,
  trialRows,
  writeStudyOutputs,
  bestTrial,
  type PrunerConfig,
  type PrunerName,
  type SamplerConfig,
  type SamplerName,
  type Study,
  type StudyEvent,
} from '../../tune/index.js';
import { choiceOption, intOption, jsonObjectOption, numberOption, threadsOption } from '../options.js';
import { formatDuration, formatPercent } from '../../train/progress.js';
import { readJsonFile } from '../../util/json-files.js';
import { exitCodeOf, withInterrupt } from '../interrupt.js';
import { MAX_EPOCHS } from '../../train/config-schema.js';

const WORKERS_NOTE = `Several workers can share one study: start \`senet tune --study DIR\` in more terminals of the
machine that holds DIR (SQLite's WAL mode needs the workers on that machine: not over NFS). Each
worker claims trials in a write transaction of DIR/study.db, so no trial is run twice and none is
lost; the trial budget counts all workers together.
A worker that dies leaves its trial 'running' until another worker sees its process gone (same host)
or its heartbeat older than --stale-minutes; then the trial is re-queued and resumed from its last
checkpoint (after 3 lost workers it is marked failed). Give each worker --threads so that together
they do not use more cores than there are.`;

const NO_BUDGET =
  'give a budget: --trials N, --max-epochs-total E or --timeout-minutes M (the tpe and random samplers never run out of trials)';

interface TuneOptions {
  study: string;
  config?: string;
  space?: string;
  sampler?: SamplerName;
  samplerOptions?: Record<string, unknown>;
  pruner?: PrunerName;
  prunerOptions?: Record<string, unknown>;
  trials?: number;
  timeoutMinutes?: number;
  maxEpochsTotal?: number;
  seed?: number;
  data?: string;
  threads?: number;
  staleMinutes: number;
  show?: boolean;
  workersNote?: boolean;
}

/** The base config: defaults < --config file < --data. */
function baseConfig(options: TuneOptions): TrainConfig | undefined {
  if (options.config === undefined && options.data === undefined) return undefined;
  const layers: ConfigLayer[] = [];
  if (options.config !== undefined)
    layers.push({ values: readConfigFile(options.config), source: fileSource(options.config) });
  if (options.data !== undefined) layers.push({ values: { data: options.data }, source: { describe: () => '--data' } });
  const config = resolveConfig(...layers);
  // A data folder is stored as an absolute path, so that the study continues from any folder.
  if (!(NAMED_DATASETS as readonly string[]).includes(config.data)) config.data = resolve(config.data);
  // Where each trial writes and how many threads it uses are the study's business, not the search's.
  return { ...config, out: null, threads: null };
}

function printStudy(study: Study, storage: StudyStorage, base: TrainConfig | null): void {
  const trials = storage.trials(study.id);
  console.log(formatCounts(trials));
  if (trials.length === 0) return;
  console.log(formatTrialTable(trialRows(trials, study.direction), study.space, 'accuracy'));
  const best = bestTrial(trials, study.direction);
  if (best && base) console.log(`\nBest: trial #${best.number}, test accuracy ${formatPercent(best.value)}`);
}

function describeEvent(event: StudyEvent): string | null {
  const params = (p: Record<string, unknown>) =>
    Object.entries(p)
      .map(
        ([k, v]) =>
          `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : JSON.stringify(v)}`,
      )
      .join(' ');
  switch (event.type) {
    case 'requeued':
      return [
        ...event.requeue.requeued.map((n) => `trial ${n}: its worker is gone; re-queued to resume`),
        ...event.requeue.failed.map((n) => `trial ${n}: its worker is gone again; marked failed`),
      ].join('\n');
    case 'trial-start':
      return `trial ${event.number} ${event.resumed ? 'resumed' : 'started'}: ${params(event.params)}`;
    case 'trial-report':
      return (
        `trial ${event.number} epoch ${event.step}: test accuracy ${formatPercent(event.value)}` +
        (event.decision.reason ? ` (${event.decision.reason})` : '') +
        (event.budgetStop ? ` (${event.budgetStop})` : '')
      );
    case 'trial-end':
      return (
        `trial ${event.number} ${event.state}` +
        (event.value !== null ? `: ${formatPercent(event.value)}` : '') +
        (event.note && event.state !== 'pruned' ? ` (${event.note})` : '')
      );
    case 'stop':
      return `stopped: ${event.message}`;
  }
}

async function run(options: TuneOptions): Promise<void> {
  const paths = studyPaths(options.study);
  if (options.show) {
    if (!existsSync(paths.db))
      throw new Error(
        `${paths.dir} holds no study (no ${paths.db}); create one with senet tune --study ${options.study} --space ...`,
      );
    const storage = StudyStorage.open(paths.db);
    try {
      const study = loadStudy(storage, paths.name);
      if (!study) throw new Error(`${paths.db} holds no study named '${paths.name}'`);
      printStudy(study, storage, study.baseConfig as TrainConfig | null);
    } finally {
      storage.close();
    }
    return;
  }

  const base = baseConfig(options);
  const space =
    options.space !== undefined
      ? parseSpace(readJsonFile(options.space, 'the search space'), options.space)
      : undefined;
  const seed = options.seed ?? 0;
  const sampler =
    options.sampler !== undefined || options.samplerOptions !== undefined || options.seed !== undefined
      ? ({ type: options.sampler ?? 'tpe', seed, ...options.samplerOptions } as SamplerConfig)
      : undefined;
  const pruner =
    options.pruner !== undefined || options.prunerOptions !== undefined
      ? ({ type: options.pruner ?? 'asha', ...options.prunerOptions } as PrunerConfig)
      : undefined;
  const newStudy = !existsSync(paths.db);
  if (newStudy) {
    if (!space)
      throw new Error(
        `${paths.dir} holds no study yet: give --space (and --config for the base training config) to create it`,
      );
    checkSpaceFitsConfig(space, base ?? (structuredClone(DEFAULT_CONFIG) as TrainConfig));
    if (
      options.trials === undefined &&
      options.maxEpochsTotal === undefined &&
      options.timeoutMinutes === undefined &&
      sampler?.type !== 'grid'
    ) {
      throw new Error(NO_BUDGET);
    }
  }

  const storage = StudyStorage.open(paths.db);
  try {
    const { study, created } = openStudy(storage, {
      name: paths.name,
      definition: {
        direction: 'maximize',
        space,
        sampler: sampler ?? (newStudy ? { type: 'tpe', seed } : undefined),
        pruner: pruner ?? (newStudy ? { type: 'asha' } : undefined),
        baseConfig: base ?? (newStudy ? { ...structuredClone(DEFAULT_CONFIG), out: null, threads: null } : undefined),
      },
      budget: {
        ...(options.trials !== undefined ? { trials: options.trials } : {}),
        ...(options.maxEpochsTotal !== undefined ? { maxEpochsTotal: options.maxEpochsTotal } : {}),
      },
      optionNames: {
        space: '--space',
        sampler: '--sampler/--sampler-options/--seed',
        pruner: '--pruner/--pruner-options',
        baseConfig: '--config/--data',
      },
    });
    const studyBase = checkCompleteConfig(study.baseConfig, `the base config stored in ${paths.db}`);
    const budget = {
      trials: study.budget.trials ?? (study.sampler.type === 'grid' ? gridOf(study.space).length : null),
      maxEpochsTotal: study.budget.maxEpochsTotal,
      timeoutMs: options.timeoutMinutes !== undefined ? options.timeoutMinutes * 60_000 : null,
    };
    if (budget.trials === null && budget.maxEpochsTotal === null && budget.timeoutMs === null)
      throw new Error(NO_BUDGET);
    const limits = [
      budget.trials !== null && `${budget.trials} trials`,
      budget.maxEpochsTotal !== null && `${budget.maxEpochsTotal} epochs in all`,
      budget.timeoutMs !== null && `${options.timeoutMinutes} minutes`,
    ]
      .filter(Boolean)
      .join(', ');
    console.log(
      `${created ? 'New study' : 'Continuing study'} ${paths.dir}: ${studyBase.model} on ${studyBase.data}, sampler ${study.sampler.type}, ` +
        `pruner ${study.pruner.type}, budget ${limits}`,
    );

    const started = performance.now();
    const { result, stoppedBy } = await withInterrupt(
      {
        stopping: 'Stopping after the current step; the trial is queued to resume',
        quit: 'stopped at once; the running trial resumes from its last checkpoint next time',
      },
      (signal) =>
        optimize({
          storage,
          study,
          budget,
          signal,
          staleAfterMs: options.staleMinutes * 60_000,
          objective: trainingObjective({ base: studyBase, studyDir: paths.dir, threads: options.threads ?? null }),
          onEvent: (event) => {
            const line = describeEvent(event);
            if (line) console.log(line);
          },
        }),
    );
    console.log(
      `This run: ${result.finished.length} trial${result.finished.length === 1 ? '' : 's'} in ${formatDuration((performance.now() - started) / 1000)}\n`,
    );
    printStudy(study, storage, studyBase);
    const outputs = await writeStudyOutputs(paths.dir, {
      trials: storage.trials(study.id),
      space: study.space,
      direction: study.direction,
      base: studyBase,
      valueTitle: 'test accuracy',
    });
    if (outputs.bestConfig)
      console.log(`Best config: ${outputs.bestConfig} (train it with: senet train --config ${outputs.bestConfig})`);
    else console.log('No trial has completed yet, so there is no best config.');
    console.log(`Plots: ${outputs.plots.join(', ')}`);
    if (result.stopReason === 'interrupted') {
      console.log(`Continue with: senet tune --study ${options.study}`);
      process.exitCode = exitCodeOf(stoppedBy ?? 'SIGINT');
    }
  } finally {
    storage.close();
  }
}

export function registerTune(program: Command): void {
  program
    .command('tune')
    .description(
      'search hyper-parameters of a training config: trials sampled by TPE, random or grid search, ' +
        'pruned early by ASHA or the median rule, stored in DIR/study.db; run again to continue, or in several terminals at once',
    )
    // Checked in the action rather than by commander: --workers-note needs no study.
    .option(
      '--study <dir>',
      'the study directory (created if new; continued if it exists); required but with --workers-note',
    )
    .option(
      '--config <file>',
      'base training config (JSON, as for senet train --config); default: the senet train defaults',
    )
    .option(
      '--space <file>',
      'search space (JSON): { "lr": { "type": "float", "low": 1e-4, "high": 0.1, "log": true }, ... }',
    )
    .option('--sampler <name>', `${SAMPLERS.join(', ')} (default tpe)`, choiceOption('--sampler', SAMPLERS))
    .option(
      '--sampler-options <json>',
      'tpe: {"startupTrials":10,"candidates":24,"priorWeight":1}',
      jsonObjectOption('--sampler-options', '{"startupTrials":5}'),
    )
    .option('--pruner <name>', `${PRUNERS.join(', ')} (default asha)`, choiceOption('--pruner', PRUNERS))
    .option(
      '--pruner-options <json>',
      'asha: {"minResource":1,"reductionFactor":3,"minEarlyStoppingRate":0}; ' +
        'median: {"startupTrials":5,"warmupSteps":0,"intervalSteps":1,"minTrials":1}',
      jsonObjectOption('--pruner-options', '{"reductionFactor":2}'),
    )
    .option(
      '--trials <n>',
      'trials in the study in all (default for grid: the grid size)',
      intOption('--trials', 1, 100_000),
    )
    .option(
      '--timeout-minutes <m>',
      'stop this worker after m minutes (the running trial stops at its next epoch)',
      numberOption('--timeout-minutes', 0),
    )
    .option(
      '--max-epochs-total <n>',
      'epochs all trials together may train',
      intOption('--max-epochs-total', 1, 100 * MAX_EPOCHS),
    )
    .option(
      '--seed <n>',
      "sampler seed (default 0); trials train with the base config's seed",
      intOption('--seed', 0, Number.MAX_SAFE_INTEGER),
    )
    .option('--data <name|dir>', 'dataset of the base config (overrides its data)')
    .option(
      '--threads <n>',
      "libtorch threads per trial (default: the base config's, else every core)",
      threadsOption(),
    )
    .option(
      '--stale-minutes <m>',
      'a running trial whose worker sent no heartbeat for this long is re-queued',
      numberOption('--stale-minutes', 0.1),
      5,
    )
    .option('--show', 'print the table of trials and exit')
    .option('--workers-note', 'explain how to run several workers on one study, and exit')
    .action(async (options: Omit<TuneOptions, 'study'> & { study?: string }) => {
      if (options.workersNote) {
        console.log(options.study === undefined ? WORKERS_NOTE : WORKERS_NOTE.replaceAll('DIR', options.study));
        return;
      }
      if (options.study === undefined) {
        throw new Error(
          "tune needs --study DIR, the study's folder (created if new, continued if it exists), e.g. senet tune --study studies/lr --space space.json",
        );
      }
      await run({ ...options, study: options.study });
    });
}
