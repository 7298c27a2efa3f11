// LinearLR: scales each group's lr by a factor moving linearly from startFactor to endFactor over
// totalIters steps (a warmup when startFactor < endFactor), computed recursively as PyTorch's.
import type { HyperParams, Optimizer } from './optimizer.js';
import { LRScheduler, type StateReader, checkInteger, type SchedulerStateDict } from './lr_scheduler.js';

export interface LinearLROptions {
  /** The factor at step 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** The factor from step totalIters on, in [0, 1] (default 1). */
  endFactor?: number;
  /** Steps over which the factor changes (default 5). */
  totalIters?: number;
  /** Resume at this step (the groups must already have initialLr); default -1 starts afresh. */
  lastEpoch?: number;
}

export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;

  constructor(optimizer: Optimizer<HyperParams>, options: LinearLROptions = {}) {
    super(optimizer);
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = options;
    // PyTorch 1.13 accepts startFactor 0 and then divides by zero at the first step; PyTorch 2 rejects it.
    if (typeof startFactor !== 'number' || !(startFactor > 0 && startFactor <= 1)) {
      throw new RangeError(
        `LinearLR: Starting multiplicative factor expected to be greater than 0 and less or equal to 1, got ${String(startFactor)}`,
      );
    }
    if (typeof endFactor !== 'number' || !(endFactor >= 0 && endFactor <= 1)) {
      throw new RangeError(
        `LinearLR: Ending multiplicative factor expected to be between 0 and 1, got ${String(endFactor)}`,
      );
    }
    checkInteger('LinearLR', 'totalIters', totalIters, 1);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.start(options.lastEpoch);
  }

  protected getLr(): number[] {
    const { lastEpoch: t, startFactor, endFactor, totalIters } = this;
    if (t === 0) return this.groups.map((g) => g.lr * startFactor);
    if (t > totalIters) return this.groups.map((g) => g.lr);
    return this.groups.map(
      (g) => g.lr * (1 + (endFactor - startFactor) / (totalIters * startFactor + (t - 1) * (endFactor - startFactor))),
    );
  }

  protected override closedFormLr(): number[] {
    const { lastEpoch: t, startFactor, endFactor, totalIters } = this;
    return this.baseLrs.map(
      (base) => base * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, t)) / totalIters),
    );
  }

  protected ownState(): SchedulerStateDict {
    return { start_factor: this.startFactor, end_factor: this.endFactor, total_iters: this.totalIters };
  }

  protected loadOwnState(state: StateReader): void {
    this.startFactor = state.number('start_factor') ?? this.startFactor;
    this.endFactor = state.number('end_factor') ?? this.endFactor;
    this.totalIters = state.number('total_iters') ?? this.totalIters;
  }
}
