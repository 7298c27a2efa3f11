// Step decays: StepLR (multiply by gamma every stepSize steps) and MultiStepLR (multiply by gamma at
// each milestone), as torch.optim.lr_scheduler's.
import type { HyperParams, Optimizer } from './optimizer.js';
import { LRScheduler, type StateReader, checkInteger, type SchedulerStateDict } from './lr_scheduler.js';

export interface StepDecayOptions {
  /** Multiplicative factor of each decay (default 0.1). */
  gamma?: number;
  /** Resume at this step (the groups must already have initialLr); default -1 starts afresh. */
  lastEpoch?: number;
}

function checkGamma(owner: string, gamma: unknown): number {
  if (typeof gamma !== 'number' || !Number.isFinite(gamma))
    throw new RangeError(`${owner}: gamma must be a finite number, got ${String(gamma)}`);
  return gamma;
}

/** Decays each group's lr by gamma every stepSize steps. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer<HyperParams>, stepSize: number, options: StepDecayOptions = {}) {
    super(optimizer);
    checkInteger('StepLR', 'stepSize', stepSize, 1);
    this.stepSize = stepSize;
    this.gamma = checkGamma('StepLR', options.gamma ?? 0.1);
    this.start(options.lastEpoch);
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }

  protected ownState(): SchedulerStateDict {
    return { step_size: this.stepSize, gamma: this.gamma };
  }

  protected loadOwnState(state: StateReader): void {
    this.stepSize = state.number('step_size') ?? this.stepSize;
    this.gamma = state.number('gamma') ?? this.gamma;
  }
}

/**
 * Decays each group's lr by gamma whenever the step reaches a milestone; a milestone listed k times
 * decays by gamma^k (PyTorch keeps the milestones in a Counter).
 */
export class MultiStepLR extends LRScheduler {
  /** Milestone step -> how many times it was listed. */
  milestones: Map<number, number>;
  gamma: number;

  constructor(optimizer: Optimizer<HyperParams>, milestones: readonly number[], options: StepDecayOptions = {}) {
    super(optimizer);
    if (!Array.isArray(milestones))
      throw new TypeError(`MultiStepLR: milestones must be a list of step indices, got ${String(milestones)}`);
    for (const m of milestones) checkInteger('MultiStepLR', 'each milestone', m, 0);
    this.milestones = countMilestones(milestones);
    this.gamma = checkGamma('MultiStepLR', options.gamma ?? 0.1);
    this.start(options.lastEpoch);
  }

  protected getLr(): number[] {
    const count = this.milestones.get(this.lastEpoch);
    if (count === undefined) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    let passed = 0; // milestones <= lastEpoch, counting repeats (PyTorch's bisect_right)
    for (const [m, count] of this.milestones) if (m <= this.lastEpoch) passed += count;
    return this.baseLrs.map((base) => base * this.gamma ** passed);
  }

  protected ownState(): SchedulerStateDict {
    return { milestones: Object.fromEntries(this.milestones), gamma: this.gamma };
  }

  protected loadOwnState(state: StateReader): void {
    const raw = state.raw.milestones;
    if (raw !== undefined) {
      // PyTorch's Counter arrives as {milestone: count}; a plain list is accepted too.
      const entries = Array.isArray(raw)
        ? [...countMilestones(raw as number[])]
        : Object.entries(raw as object).map(([k, v]) => [Number(k), v]);
      if (!entries.every(([m, c]) => Number.isInteger(m) && Number.isInteger(c))) {
        throw new TypeError(
          `MultiStepLR.loadStateDict: 'milestones' should map integer steps to counts, got ${JSON.stringify(raw)}`,
        );
      }
      this.milestones = new Map(entries as [number, number][]);
    }
    this.gamma = state.number('gamma') ?? this.gamma;
  }
}

function countMilestones(milestones: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const m of milestones) counts.set(m, (counts.get(m) ?? 0) + 1);
  return counts;
}
