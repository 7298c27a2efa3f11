// A run's metrics as a TensorBoard event file (`tensorboard --logdir DIR` shows them): one TFRecord per
// Event message, encoded after TensorFlow's event.proto and summary.proto:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; HistogramProto histo = 5; }
//   HistogramProto { double min = 1, max = 2, num = 3, sum = 4, sum_squares = 5;
//                    repeated double bucket_limit = 6 [packed]; repeated double bucket = 7 [packed]; }
// Scalars per epoch (losses, accuracies, learning rate, throughput); the SE analysis as histograms of
// each unit's mean gate per channel and its class-specificity.
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ProtoWriter } from './protobuf.js';
import { tfRecord } from './tfrecord.js';
import type { RunFiles } from './run-files.js';
import type { ExcitationAnalysis } from './se-analysis.js';

type SummaryValue = { tag: string; scalar: number } | { tag: string; histogram: readonly number[] };

const HISTOGRAM_BUCKETS = 30;

/** HistogramProto of some values: equal-width buckets from min to max (bucket i ends at bucket_limit[i]). */
export function histogramProto(values: readonly number[]): ProtoWriter {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const count = max > min ? HISTOGRAM_BUCKETS : 1;
  const width = (max - min) / count;
  const limits = Array.from({ length: count }, (_, i) => (i === count - 1 ? max : min + width * (i + 1)));
  const buckets = new Array<number>(count).fill(0);
  for (const v of values) buckets[Math.min(count - 1, width > 0 ? Math.floor((v - min) / width) : 0)]++;
  return new ProtoWriter()
    .double(1, min)
    .double(2, max)
    .double(3, values.length)
    .double(
      4,
      values.reduce((a, b) => a + b, 0),
    )
    .double(
      5,
      values.reduce((a, b) => a + b * b, 0),
    )
    .packedDoubles(6, limits)
    .packedDoubles(7, buckets);
}

function summaryEvent(wallTime: number, step: number, values: SummaryValue[]): Uint8Array {
  const summary = new ProtoWriter();
  for (const v of values) {
    const value = new ProtoWriter().string(1, v.tag);
    if ('scalar' in v) value.float(2, v.scalar);
    else value.message(5, histogramProto(v.histogram));
    summary.message(1, value);
  }
  return new ProtoWriter().double(1, wallTime).int(2, step).message(5, summary).finish();
}

/** Seconds since the epoch of the end of each epoch: training start + the epochs' recorded durations. */
function epochTimes(run: RunFiles, fallback: number): number[] {
  const training = run.pipeline?.stages.find((s) => s.name === 'model-training');
  let t = training?.startedAt ? Date.parse(training.startedAt) / 1000 : fallback;
  return run.metrics.map((m) => (t += typeof m.seconds === 'number' ? m.seconds : 0));
}

/** Writes events.out.tfevents.<time>.<host> into `dir`; returns its path. */
export function writeTensorboard(dir: string, run: RunFiles, analysis: ExcitationAnalysis | null, now: Date): string {
  const start = now.getTime() / 1000;
  const records: Uint8Array[] = [new ProtoWriter().double(1, start).int(2, 0).string(3, 'brain.Event:2').finish()];
  const times = epochTimes(run, start);
  run.metrics.forEach((m, i) => {
    const values: SummaryValue[] = [];
    const add = (tag: string, x: number | null | undefined) => {
      if (typeof x === 'number' && Number.isFinite(x)) values.push({ tag, scalar: x });
    };
    add('loss/train', m.train_loss);
    add('loss/test', m.test_loss);
    add('accuracy/train', m.train_acc);
    add('accuracy/test', m.test_acc);
    add('learning_rate', m.lr);
    add('images_per_second', m.images_per_s);
    records.push(summaryEvent(times[i], m.epoch, values));
  });
  const lastStep = run.metrics.at(-1)?.epoch ?? 0;
  const finalValues: SummaryValue[] = [];
  if (run.evaluation)
    finalValues.push(
      { tag: 'eval/accuracy', scalar: run.evaluation.accuracy },
      { tag: 'eval/loss', scalar: run.evaluation.loss },
    );
  for (const unit of analysis?.units ?? []) {
    finalValues.push({ tag: `excitation/${unit.name}/mean_per_channel`, histogram: unit.overall });
    finalValues.push({ tag: `excitation/${unit.name}/class_specificity`, scalar: unit.classSpecificity });
  }
  if (finalValues.length) records.push(summaryEvent(start, lastStep, finalValues));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `events.out.tfevents.${Math.floor(start)}.${hostname().replace(/[^\w.-]/g, '_')}`);
  writeFileSync(path, Buffer.concat(records.map(tfRecord)));
  return path;
}
