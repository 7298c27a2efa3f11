// runPipeline (`senet run`) in this process on the tiny CIFAR-10 sample: the run config's checks, a full
// run with a 3-trial study that trains its best config (the same run `senet train` makes of that config),
// the report of its directory with the tuning stage in the Gantt chart, a re-run that does nothing, a
// changed training config (new training, same study), a changed search space (new study and training),
// a failing stage, and a study interrupted by Ctrl-C and continued.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunSpec, readRunSpec, type RunSpec } from '../../src/pipeline/run-spec.js';
import { runPipeline, StageFailedError, type PipelineEvent } from '../../src/pipeline/run-pipeline.js';
import { readPipeline, STAGES, type StageRecord } from '../../src/train/stages.js';
import { trainRun } from '../../src/train/trainer.js';
import { StudyStorage } from '../../src/tune/storage.js';
import { ganttChart, readRun, writeReport } from '../../src/report/index.js';
import { tempDir } from '../data/support.js';
import { makeTinyCifar, metricsWithoutTimings } from '../cli/support.js';

let work: string;
let cacheDir: string;

before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-run-pipeline-');
  cacheDir = makeTinyCifar(join(work, 'data'));
});

const TRAIN = { model: 'simple-cnn', data: 'cifar10', epochs: 2, batchSize: 50, seed: 1, threads: 1 };
const SPACE = { lr: { type: 'float', low: 1e-4, high: 3e-2, log: true }, 'attention.reduction': { choices: [4, 8] } };
const TUNE = { space: SPACE, sampler: 'random', pruner: 'none', trials: 3, epochs: 1, seed: 2 };

const spec = (out: string, fields: Record<string, unknown> = {}): RunSpec =>
  parseRunSpec({ out: join(work, out), train: TRAIN, tune: TUNE, ...fields });
const statuses = (stages: StageRecord[]) => stages.map((s) => s.status);
const stage = (stages: StageRecord[], name: string) => stages.find((s) => s.name === name)!;

test('the run config is checked field by field, each error naming the field', () => {
  const bad = (raw: unknown, pattern: RegExp) => assert.throws(() => parseRunSpec(raw, { path: 'run.json' }), pattern);
  bad([], /run\.json must be a JSON object with 'out', 'train'/);
  bad({ train: TRAIN }, /'out' in run\.json is missing; expected the run directory/);
  bad(
    { out: 'o', train: TRAIN, extra: 1 },
    /run\.json: unknown field 'extra'; expected some of out, train, tune, report/,
  );
  bad({ out: 'o', train: 5 }, /'train' in run\.json is 5; expected a training config object/);
  bad({ out: 'o', train: { ...TRAIN, lr: -1 } }, /'train\.lr' in run\.json is -1; expected a number > 0/);
  bad(
    { out: 'o', train: { ...TRAIN, out: 'x' } },
    /'train\.out' in run\.json: the run directory is the top-level 'out'/,
  );
  bad({ out: 'o', train: TRAIN, report: 'yes' }, /'report' in run\.json is "yes"; expected true or false/);
  bad(
    { out: 'o', train: TRAIN, tune: { ...TUNE, trials: 0 } },
    /'tune\.trials' in run\.json is 0; expected an integer >= 1/,
  );
  bad(
    { out: 'o', train: TRAIN, tune: { ...TUNE, sampler: 'bayes' } },
    /'tune\.sampler' in run\.json is "bayes"; expected one of tpe, random, grid/,
  );
  bad(
    { out: 'o', train: TRAIN, tune: { ...TUNE, prunerOptions: { eta: 3 } } },
    /'tune\.prunerOptions' in run\.json: the none pruner has no option 'eta'/,
  );
  bad(
    { out: 'o', train: TRAIN, tune: { space: SPACE, sampler: 'tpe' } },
    /'tune' in run\.json has no budget: give 'trials', 'maxEpochsTotal' or 'timeoutMinutes'/,
  );
  bad(
    { out: 'o', train: TRAIN, tune: { ...TUNE, space: { momentum: { type: 'float', low: 0.5, high: 1.5 } } } },
    /search space parameter 'momentum' cannot take the value 1\.5/,
  );
  bad(
    { out: 'o', train: TRAIN, tune: { ...TUNE, space: { epochs: { type: 'int', low: 1, high: 2 } } } },
    /'tune\.epochs' in run\.json fixes the epochs of every trial, but the search space also searches 'epochs'/,
  );
  bad({ out: 'o', train: TRAIN, tune: { ...TUNE, banana: 1 } }, /'tune' in run\.json: unknown field 'banana'/);

  // Paths are taken from the run config's folder; train and space may be files.
  writeFileSync(join(work, 'train.json'), JSON.stringify({ ...TRAIN, data: 'images' }));
  writeFileSync(join(work, 'space.json'), JSON.stringify(SPACE));
  writeFileSync(
    join(work, 'run.json'),
    JSON.stringify({ out: 'runs/a', train: 'train.json', tune: { ...TUNE, space: 'space.json' } }),
  );
  const read = readRunSpec(join(work, 'run.json'));
  assert.equal(read.out, join(work, 'runs/a'));
  assert.equal(read.train.out, join(work, 'runs/a'));
  assert.equal(read.train.data, join(work, 'images'));
  assert.deepEqual(
    read.tune!.space.map((p) => p.name),
    ['lr', 'attention.reduction'],
  );
  assert.deepEqual(read.tune!.sampler, { type: 'random', seed: 2 });
  assert.equal(read.report, false);
});

test('a full run, a re-run that does nothing, more final epochs (a new training, the same study), then another space (a new study)', async () => {
  const events: PipelineEvent[] = [];
  const first = await runPipeline(spec('full'), { cacheDir, onEvent: (e) => events.push(e) });
  const out = join(work, 'full');
  assert.equal(first.status, 'completed');
  assert.deepEqual(
    statuses(first.stages),
    STAGES.map(() => 'done'),
  );
  const tuning = stage(first.stages, 'hyperparameter-tuning').summary!;
  assert.equal(tuning.study, join(out, 'tuning'));
  assert.equal(tuning.trials, 3);
  assert.equal((tuning.complete as number) + (tuning.pruned as number) + (tuning.failed as number), 3);
  assert.equal(events.filter((e) => e.type === 'study' && e.event.type === 'trial-end').length, 3);
  for (const name of ['study.db', 'best-config.json', 'plots', 'trials/0', 'trials/2'])
    assert.ok(existsSync(join(out, 'tuning', name)), name);

  // config.json is the tuned config: the training config with the best trial's parameters.
  const overrides = tuning.overrides as { lr: number; 'attention.reduction': number };
  const trained = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(trained.lr, overrides.lr);
  assert.deepEqual(trained.attention, { reduction: overrides['attention.reduction'] });
  assert.equal(trained.epochs, 2, "the trials train 1 epoch; the final training the train config's 2");
  assert.equal(first.config.lr, overrides.lr);
  const evaluation = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
  assert.equal(evaluation.accuracy, first.evaluation!.accuracy);
  assert.equal(metricsWithoutTimings(out).length, 2);

  // The model was rebuilt from the tuned config after seeding: the training is exactly that of `senet train` of it.
  const alone = join(work, 'alone');
  await trainRun({ config: { ...trained, out: alone }, runDir: alone, cacheDir });
  assert.deepEqual(metricsWithoutTimings(out), metricsWithoutTimings(alone));

  // The report renders, with the tuning stage as a bar of the Gantt chart.
  const gantt = ganttChart(readRun(out).pipeline!)!;
  assert.match(gantt, /Hyper-parameter tuning · [^:]+:done, stage_hyperparameter_tuning, /);
  const report = await writeReport(out, { seImages: 20, dataRoot: cacheDir });
  assert.match(readFileSync(report.markdown, 'utf8'), /Hyper-parameter tuning/);
  assert.ok(statSync(report.html).size > 0);

  // Again with the same config: every stage skipped as unchanged, carrying its earlier summary; no training.
  const metricsBefore = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  const checkpointTime = statSync(join(out, 'checkpoints', 'last')).mtimeMs;
  const trainEvents: PipelineEvent[] = [];
  const again = await runPipeline(spec('full'), { cacheDir, onEvent: (e) => trainEvents.push(e) });
  assert.deepEqual(
    statuses(again.stages),
    STAGES.map(() => 'skipped'),
  );
  for (const s of again.stages) {
    const before = stage(first.stages, s.name);
    assert.equal(s.summary!.reason, `unchanged since ${before.endedAt}`, s.name);
    assert.equal(s.summary!.fingerprint, before.summary!.fingerprint, s.name);
    assert.deepEqual(s.summary!.previous, before.summary, s.name);
  }
  assert.ok(!trainEvents.some((e) => e.type !== 'stage'), 'nothing loaded, tuned or trained');
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), metricsBefore);
  assert.equal(statSync(join(out, 'checkpoints', 'last')).mtimeMs, checkpointTime);
  assert.equal(again.evaluation!.accuracy, first.evaluation!.accuracy);
  assert.deepEqual(again.config, first.config);
  // A third run still points at the first run's results, not at the second's skip records.
  const third = await runPipeline(spec('full'), { cacheDir });
  assert.deepEqual(
    third.stages.map((s) => s.summary!.reason),
    again.stages.map((s) => s.summary!.reason),
  );

  // More epochs for the final training: the study (its trials train 1 epoch) is reused; a new training
  // from scratch replaces the old one in the same directory.
  const longer = await runPipeline(spec('full', { train: { ...TRAIN, epochs: 3 } }), {
    cacheDir,
    onEvent: (e) => trainEvents.push(e),
  });
  assert.deepEqual(statuses(longer.stages), ['done', 'done', 'done', 'done', 'skipped', 'done', 'done']);
  assert.equal(
    stage(longer.stages, 'hyperparameter-tuning').summary!.reason,
    `unchanged since ${stage(first.stages, 'hyperparameter-tuning').endedAt}`,
  );
  assert.ok(!trainEvents.some((e) => e.type === 'study'), 'no trial runs');
  assert.equal(longer.config.lr, overrides.lr);
  assert.equal(longer.config.epochs, 3);
  const longerMetrics = metricsWithoutTimings(out);
  assert.equal(longerMetrics.length, 3);
  assert.deepEqual(
    longerMetrics.slice(0, 1),
    metricsWithoutTimings(alone).slice(0, 1),
    'epoch 1 trained again from the same start',
  );
  assert.equal(stage(longer.stages, 'model-training').summary!.resumedAt, null, 'from scratch, not resumed');

  // Another search space: a new study replaces the old one, and training and evaluation run again.
  const newSpace = { lr: { type: 'float', low: 1e-3, high: 1e-2, log: true } };
  const changed = await runPipeline(spec('full', { tune: { ...TUNE, space: newSpace } }), { cacheDir });
  assert.deepEqual(
    statuses(changed.stages),
    STAGES.map(() => 'done'),
  );
  for (const name of ['hyperparameter-tuning', 'model-training', 'evaluation']) {
    assert.notEqual(
      stage(changed.stages, name).summary!.fingerprint,
      stage(first.stages, name).summary!.fingerprint,
      name,
    );
  }
  for (const name of ['data-preparation', 'cnn-model-design']) {
    assert.equal(
      stage(changed.stages, name).summary!.fingerprint,
      stage(first.stages, name).summary!.fingerprint,
      name,
    );
  }
  const newTuning = stage(changed.stages, 'hyperparameter-tuning').summary!;
  assert.equal(newTuning.continued, false);
  assert.deepEqual(Object.keys(newTuning.overrides as object), ['lr']);
  const storage = StudyStorage.open(join(out, 'tuning', 'study.db'));
  try {
    const study = storage.loadStudy('tuning')!;
    assert.deepEqual(Object.keys(study.space as object), ['lr']);
    assert.equal(storage.trials(study.id).length, 3);
  } finally {
    storage.close();
  }
  const retrained = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(retrained.lr, (newTuning.overrides as { lr: number }).lr);
  assert.equal(retrained.attention, null, "the reduction is no longer searched: the train config's own");
  assert.equal(metricsWithoutTimings(out).length, 2, 'a new training from scratch, not appended to the old one');
  assert.equal(statuses(readPipeline(join(out, 'pipeline.json')).stages).join(), STAGES.map(() => 'done').join());
});

test('a failing stage is recorded failed with its message; the stages before it keep their outputs', async () => {
  const failing = parseRunSpec({
    out: join(work, 'failing'),
    train: { ...TRAIN, attention: { type: 'eca', kernelSize: 4 } },
  });
  await assert.rejects(runPipeline(failing, { cacheDir }), (error: unknown) => {
    assert.ok(error instanceof StageFailedError);
    assert.equal(error.stage, 'se-module-design');
    assert.match(error.message, /^stage 'se-module-design' failed: .*kernelSize must be odd/);
    return true;
  });
  const stages = readPipeline(join(work, 'failing', 'pipeline.json')).stages;
  assert.deepEqual(statuses(stages), ['done', 'done', 'failed', 'pending', 'pending', 'pending', 'pending']);
  assert.match(stage(stages, 'se-module-design').summary!.error as string, /kernelSize must be odd/);
  assert.equal(stage(stages, 'data-preparation').summary!.train, 800);
  assert.ok(existsSync(join(work, 'failing', 'config.json')));
});

test('Ctrl-C during tuning stops the run; the same config again continues the study, then trains', async () => {
  const controller = new AbortController();
  const stopped = await runPipeline(spec('interrupted'), {
    cacheDir,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'study' && e.event.type === 'trial-end') controller.abort();
    },
  });
  assert.equal(stopped.status, 'interrupted');
  const cut = readPipeline(join(work, 'interrupted', 'pipeline.json')).stages;
  assert.deepEqual(statuses(cut), ['done', 'done', 'done', 'done', 'failed', 'pending', 'pending']);
  assert.match(
    stage(cut, 'hyperparameter-tuning').summary!.error as string,
    /interrupted during hyper-parameter tuning; run the same senet run command/,
  );

  const studyEvents: string[] = [];
  const resumed = await runPipeline(spec('interrupted'), {
    cacheDir,
    onEvent: (e) => {
      if (e.type === 'study' && e.event.type === 'trial-start') studyEvents.push(String(e.event.number));
    },
  });
  assert.equal(resumed.status, 'completed');
  assert.deepEqual(
    statuses(resumed.stages),
    STAGES.map(() => 'done'),
  );
  const tuning = stage(resumed.stages, 'hyperparameter-tuning').summary!;
  assert.equal(tuning.continued, true);
  assert.equal(tuning.trials, 3);
  assert.deepEqual(studyEvents, ['1', '2'], 'trial 0 is not run again');
});
