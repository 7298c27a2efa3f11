// `senet run --config FILE`: the whole workflow from one JSON file (run-spec.ts describes it) — data
// preparation, augmentation, SE module and CNN design, hyper-parameter tuning, training, evaluation, and
// optionally the report. Running it again skips what has not changed and continues what was cut off
// (run-pipeline.ts). Ctrl-C or SIGTERM stops after the current step (exit 130 or 143); the same command continues. A failing stage
// is recorded in pipeline.json and reported as "senet: stage '<name>' failed: <message>".
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeReport } from '../../report/index.js';
import { readRunSpec } from '../../pipeline/run-spec.js';
import { runPipeline, type PipelineEvent, type PipelineResult } from '../../pipeline/run-pipeline.js';
import type { StudyEvent } from '../../tune/index.js';
import { TrainProgress, formatPercent } from '../../train/progress.js';
import { exitCodeOf, type Interrupted, withInterrupt } from '../interrupt.js';
import { TrainPhase } from '../phase.js';
import { checkOutputFolder } from '../writable.js';

function describeStudyEvent(event: StudyEvent): string | null {
  switch (event.type) {
    case 'requeued':
      return (
        event.requeue.requeued.map((n) => `  trial ${n}: its worker is gone; re-queued to resume`).join('\n') || null
      );
    case 'trial-start':
      return `  trial ${event.number} ${event.resumed ? 'resumed' : 'started'}: ${JSON.stringify(event.params)}`;
    case 'trial-report':
      return (
        `  trial ${event.number} epoch ${event.step}: test accuracy ${formatPercent(event.value)}` +
        (event.decision.reason ? ` (${event.decision.reason})` : '') +
        (event.budgetStop ? ` (${event.budgetStop})` : '')
      );
    case 'trial-end':
      return (
        `  trial ${event.number} ${event.state}${event.value !== null ? `: ${formatPercent(event.value)}` : ''}` +
        (event.note && event.state === 'failed' ? ` (${event.note})` : '')
      );
    case 'stop':
      return `  study stopped: ${event.message}`;
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .summary(
      'the whole workflow from one config file: data, design, tuning, training, evaluation (re-runs skip what is unchanged)',
    )
    .description(
      'run the workflow described by a JSON file — { "out": DIR, "train": {training config}, "tune": { "space": {...}, ' +
        '"sampler", "pruner", "trials", "maxEpochsTotal", "timeoutMinutes", "seed", "epochs" }, "report": true } — as the seven ' +
        'recorded stages of DIR/pipeline.json, with the study in DIR/tuning/. Running the same command again skips every stage whose ' +
        'inputs did not change, continues an interrupted study or training, and re-runs a changed stage and all after it',
    )
    .requiredOption('-c, --config <file>', 'the run config (JSON); relative paths in it are taken from its folder')
    .action(async (options: { config: string }) => {
      const spec = readRunSpec(options.config);
      checkOutputFolder(spec.out, `"out" of ${options.config}:`);
      const progress = new TrainProgress();
      const ran = new Set<string>();
      const onEvent = (event: PipelineEvent) => {
        if (event.type === 'study') {
          const line = describeStudyEvent(event.event);
          if (line) console.log(line);
        } else if (event.type === 'trial') {
          // Trials report through the study's lines; their own progress is not shown.
        } else {
          if (event.type === 'stage' && event.status !== 'running') {
            if (event.status === 'done') ran.add(event.stage);
            progress.handle(event);
            console.log(`stage ${event.stage}: ${event.status}`);
            return;
          }
          progress.handle(event);
        }
      };
      // The report is written inside the interrupt handling too: a signal then lets it finish.
      const phase = new TrainPhase();
      let stopped: Interrupted<PipelineResult>;
      try {
        stopped = await withInterrupt(
          {
            stopping: () => phase.stopping(),
            quit: 'stopped at once; run the same command to continue from the last checkpoint',
          },
          async (signal) => {
            const result = await runPipeline(spec, {
              signal,
              onEvent: (event) => {
                if (event.type !== 'study' && event.type !== 'trial') phase.handle(event);
                onEvent(event);
              },
            });
            if (result.status === 'completed') {
              progress.stop();
              phase.reporting();
              await finish(result);
            }
            return result;
          },
          () => progress.stop(),
        );
      } finally {
        progress.stop();
      }
      if (stopped.result.status === 'interrupted') {
        console.log(`Interrupted; continue with: senet run --config ${options.config}`);
        process.exitCode = exitCodeOf(stopped.stoppedBy ?? 'SIGINT');
      }

      async function finish(result: PipelineResult): Promise<void> {
        if (result.studyDir) console.log(`Study: ${result.studyDir}`);
        console.log(
          `Final test accuracy: ${formatPercent(result.evaluation?.accuracy ?? null)}; run directory: ${result.runDir}`,
        );
        if (!spec.report) return;
        if (ran.size === 0 && existsSync(join(result.runDir, 'report.md'))) {
          console.log(`Report unchanged: ${join(result.runDir, 'report.md')}`);
        } else {
          const report = await writeReport(result.runDir, { onProgress: (message) => console.error(message) });
          console.log(`Report: ${report.markdown}, ${report.html}`);
        }
      }
    });
}
