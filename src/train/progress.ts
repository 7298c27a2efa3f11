// Progress of long work on stderr: on a terminal a live bar (cli-progress) with rate, loss and ETA; when
// piped, or when CI is set, plain lines at every tenth of the work (and at least every 30 s), so that logs
// stay readable. Results (epoch lines, tables) go to stdout and are never mixed into a bar. The commands
// use it, and so does `fit({ progress: true })`: a library run shows what `senet train` shows.
import cliProgress from 'cli-progress';
import type { TrainEvent } from './events.js';

/** Plain lines unless stderr is a terminal and CI is unset. */
export function wantsPlainProgress(stream: NodeJS.WriteStream = process.stderr): boolean {
  return !stream.isTTY || Boolean(process.env.CI);
}

const PLAIN_INTERVAL_MS = 30_000;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  plain?: boolean;
}

/**
 * One task at a time (downloading, decoding, an epoch, an evaluation): `update` it as work gets done,
 * `done` when it ends. `details` is appended to the line (loss, images/s, ...).
 */
export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly plain: boolean;
  private bar: cliProgress.SingleBar | null = null;
  private task: {
    label: string;
    total: number | undefined;
    started: number;
    lastTenth: number;
    lastLine: number;
  } | null = null;

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.plain = options.plain ?? wantsPlainProgress(this.stream);
  }

  update(label: string, done: number, total: number | undefined, details = ''): void {
    if (!this.task || this.task.label !== label) this.begin(label, total, done);
    const task = this.task!;
    if (!this.plain) {
      this.bar!.update(done, { details });
      return;
    }
    const now = performance.now();
    const tenth = total ? Math.floor((10 * done) / total) : 0;
    const finished = total !== undefined && done >= total; // the line that ends the task says it
    if (!finished && (tenth > task.lastTenth || now - task.lastLine >= PLAIN_INTERVAL_MS)) {
      task.lastTenth = tenth;
      task.lastLine = now;
      const elapsed = (now - task.started) / 1000;
      const fraction = total ? done / total : null;
      const eta =
        fraction && fraction > 0 && fraction < 1
          ? `  ETA ${formatDuration((elapsed * (1 - fraction)) / fraction)}`
          : '';
      const where = total ? `${done}/${total} (${Math.floor(100 * fraction!)}%)` : `${done}`;
      this.stream.write(`${label}  ${where}${details ? `  ${details}` : ''}${eta}\n`);
    }
  }

  /** Whether progress is shown as plain lines (not a live bar). */
  get isPlain(): boolean {
    return this.plain;
  }

  /** Ends the current task (clears its bar). */
  done(): void {
    this.bar?.stop();
    this.bar = null;
    this.task = null;
  }

  private begin(label: string, total: number | undefined, start: number): void {
    this.done();
    const now = performance.now();
    this.task = { label, total, started: now, lastTenth: total ? Math.floor((10 * start) / total) : 0, lastLine: now };
    if (this.plain) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `${label} |{bar}| {value}/{total} {details} ETA {eta_formatted}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total ?? 0, start, { details: '' });
  }
}

/**
 * What a run trains, from its config: a TrainConfig's model and data (images), or fit()'s model, named
 * with its size (samples of any kind); and the batch size when the config has one.
 */
function describeRun(config: unknown): { what: string; items: string; batchSize: number | null } {
  const { model, data, batchSize } = (config ?? {}) as { model?: unknown; data?: unknown; batchSize?: unknown };
  const batch = typeof batchSize === 'number' ? batchSize : null;
  if (typeof model === 'string') {
    return { what: typeof data === 'string' ? `${model} on ${data}` : model, items: 'images', batchSize: batch };
  }
  const fitted = model as { name?: unknown; parameters?: unknown } | undefined;
  const what =
    typeof fitted?.name === 'string' && typeof fitted.parameters === 'number'
      ? `${fitted.name} (${fitted.parameters} parameters)`
      : 'the model';
  return { what, items: 'samples', batchSize: batch };
}

export function formatPercent(fraction: number | null): string {
  return fraction === null ? '-' : `${(100 * fraction).toFixed(2)}%`;
}

/**
 * Shows a training run: bars for data preparation, each epoch and each evaluation on stderr, and one
 * line per epoch on stdout in the seed program's format plus time and rate:
 *   Epoch [3/10], Loss: 1.2345, Test accuracy: 55.12%  (31.2 s, 1654 images/s)
 */
export class TrainProgress {
  private readonly progress: Progress;
  private readonly print: (line: string) => void;
  private readonly note: (line: string) => void;

  constructor(options: ProgressOptions & { print?: (line: string) => void } = {}) {
    this.progress = new Progress(options);
    const stream = options.stream ?? process.stderr;
    this.print = options.print ?? ((line) => console.log(line));
    this.note = (line) => stream.write(`${line}\n`);
  }

  /** Shows one event of `senet train` (trainRun) or of fit(). */
  handle(event: TrainEvent<unknown, unknown>): void {
    switch (event.type) {
      case 'data-progress':
        this.progress.update(event.what, event.done, event.total);
        break;
      case 'stage':
        if (event.status !== 'running') this.progress.done();
        break;
      case 'start': {
        this.progress.done();
        const from = event.resumedAt
          ? `, resuming at epoch ${event.resumedAt.epoch} batch ${event.resumedAt.batch}`
          : '';
        const { what, items, batchSize } = describeRun(event.config);
        const batches = `${event.batchesPerEpoch} batches${batchSize === null ? '' : ` of ${batchSize}`} per epoch`;
        this.note(
          `Training ${what}: ${event.trainSize} train / ${event.testSize} test ${items}, ${batches}, ` +
            `${event.threads} thread${event.threads > 1 ? 's' : ''}${from}`,
        );
        this.note(`Run directory: ${event.runDir}`);
        break;
      }
      case 'pretrained':
      case 'backbone':
        this.progress.done();
        this.note(event.message);
        break;
      case 'batch':
        this.progress.update(
          `Epoch ${event.epoch}/${event.epochs}`,
          event.batch,
          event.batches,
          `loss ${event.loss.toFixed(4)}  ${Math.round(event.imagesPerSecond)} img/s`,
        );
        break;
      case 'eval-progress':
        // Evaluations are short next to an epoch: a bar on a terminal, no lines in logs.
        if (!this.progress.isPlain) this.progress.update(`Evaluating epoch ${event.epoch}`, event.done, event.total);
        break;
      case 'epoch': {
        this.progress.done();
        const m = event.metrics;
        const test = m.test_acc === null ? '' : `, Test accuracy: ${formatPercent(m.test_acc)}`;
        this.print(
          `Epoch [${m.epoch}/${event.epochs}], Loss: ${m.train_loss.toFixed(4)}${test}  ` +
            `(${m.seconds.toFixed(1)} s, ${Math.round(m.images_per_s)} images/s)`,
        );
        break;
      }
      case 'interrupted':
        this.progress.done();
        break;
      case 'done':
        this.progress.done();
        break;
      default:
        break;
    }
  }

  stop(): void {
    this.progress.done();
  }
}
