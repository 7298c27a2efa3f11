// Dynamic batching: requests that arrive close together share one forward pass. Items wait in a queue;
// a batch runs when `maxBatch` items are waiting or the oldest has waited `maxWaitMs`, one batch at a
// time (the model has one set of threads), and the queue is bounded so that an overloaded service
// answers "busy" at once instead of making every client wait.

export interface BatcherOptions {
  /** The most items in one batch. */
  maxBatch: number;
  /** How long the oldest waiting item may wait for others before its batch runs anyway. */
  maxWaitMs: number;
  /** The most items waiting (not yet in a running batch); more are refused with QueueFullError. */
  maxQueue: number;
}

/** Thrown by submit() when the queue cannot take the items. */
export class QueueFullError extends Error {}

export interface BatcherStats {
  /** Batches run, and the items in them. */
  batches: number;
  items: number;
  /** The largest batch run so far. */
  largestBatch: number;
  /** How many batches of each size ran ({"1": 4, "8": 2}). */
  batchSizes: Record<string, number>;
  /** Items waiting for a batch, and whether a batch is running now. */
  waiting: number;
  running: boolean;
  /** Items refused because the queue was full. */
  refused: number;
}

interface Waiting<I, O> {
  item: I;
  since: number;
  resolve(output: O): void;
  reject(error: unknown): void;
}

export class DynamicBatcher<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly counts = { batches: 0, items: 0, largestBatch: 0, refused: 0 };
  private readonly sizes = new Map<number, number>();

  /** `runBatch` gets the items of one batch and returns one output per item, in order. */
  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    readonly options: BatcherOptions,
  ) {
    for (const key of ['maxBatch', 'maxQueue'] as const) {
      if (!Number.isSafeInteger(options[key]) || options[key] < 1)
        throw new Error(`DynamicBatcher: ${key} must be an integer >= 1, got ${options[key]}`);
    }
    if (!Number.isFinite(options.maxWaitMs) || options.maxWaitMs < 0)
      throw new Error(`DynamicBatcher: maxWaitMs must be a number >= 0, got ${options.maxWaitMs}`);
  }

  /**
   * The outputs for these items (queued together, so that they can share a batch). All are refused
   * (QueueFullError) when the queue has no room for all of them.
   */
  submit(items: readonly I[]): Promise<O[]> {
    if (this.queue.length + items.length > this.options.maxQueue) {
      this.counts.refused += items.length;
      return Promise.reject(
        new QueueFullError(
          `the service is busy: ${this.queue.length} images are waiting and the queue holds at most ` +
            `${this.options.maxQueue} (--max-queue); retry later`,
        ),
      );
    }
    const since = performance.now();
    const outputs = items.map(
      (item) => new Promise<O>((resolve, reject) => this.queue.push({ item, since, resolve, reject })),
    );
    this.schedule();
    return Promise.all(outputs);
  }

  stats(): BatcherStats {
    return {
      ...this.counts,
      batchSizes: Object.fromEntries([...this.sizes].sort(([a], [b]) => a - b).map(([n, c]) => [String(n), c])),
      waiting: this.queue.length,
      running: this.running,
    };
  }

  /** Resolves once no item is waiting and no batch is running (for a graceful shutdown). */
  drain(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts a batch if one is due, else arms the timer for when the oldest item has waited long enough. */
  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const waited = performance.now() - this.queue[0].since;
    if (this.queue.length >= this.options.maxBatch || waited >= this.options.maxWaitMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.running = true;
      // On the next turn of the event loop: requests already received are queued first, and the
      // batch never runs inside the call that submitted an item.
      setImmediate(() => void this.runNext());
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.options.maxWaitMs - waited);
    }
  }

  private async runNext(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxBatch);
    try {
      const outputs = await this.runBatch(batch.map((w) => w.item));
      if (outputs.length !== batch.length)
        throw new Error(`a batch of ${batch.length} items gave ${outputs.length} outputs`);
      batch.forEach((w, i) => w.resolve(outputs[i]));
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.counts.batches++;
      this.counts.items += batch.length;
      this.counts.largestBatch = Math.max(this.counts.largestBatch, batch.length);
      this.sizes.set(batch.length, (this.sizes.get(batch.length) ?? 0) + 1);
      this.running = false;
      this.schedule();
      if (!this.running && this.queue.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
