// CosineAnnealingLR: the lr follows half a cosine from the initial lr down to etaMin over tMax steps
// (then back up, periodically), computed recursively exactly as torch.optim.lr_scheduler's.
import type { HyperParams, Optimizer } from './optimizer.js';
import { LRScheduler, type StateReader, checkInteger, type SchedulerStateDict } from './lr_scheduler.js';

export interface CosineAnnealingOptions {
  /** The lowest learning rate (default 0). */
  etaMin?: number;
  /** Resume at this step (the groups must already have initialLr); default -1 starts afresh. */
  lastEpoch?: number;
}

export class CosineAnnealingLR extends LRScheduler {
  /** Steps from the initial lr to etaMin (PyTorch's T_max). */
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer<HyperParams>, tMax: number, options: CosineAnnealingOptions = {}) {
    super(optimizer);
    checkInteger('CosineAnnealingLR', 'tMax', tMax, 1);
    const etaMin = options.etaMin ?? 0;
    if (typeof etaMin !== 'number' || !Number.isFinite(etaMin)) {
      throw new RangeError(`CosineAnnealingLR: etaMin must be a finite number, got ${String(etaMin)}`);
    }
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.start(options.lastEpoch);
  }

  protected getLr(): number[] {
    const { lastEpoch: t, tMax, etaMin } = this;
    if (t === 0) return this.groups.map((g) => g.lr);
    if (this.stepCount === 1 && t > 0) {
      // Resuming at step t: the closed form, as PyTorch.
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((t * Math.PI) / tMax))) / 2);
    }
    // At the bottom of each period (t - 1 - tMax divisible by 2 tMax) the lr climbs back up. Only
    // divisibility is tested, so JS's signed % agrees with Python's.
    if ((t - 1 - tMax) % (2 * tMax) === 0) {
      return this.groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return this.groups.map(
      (g) =>
        ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) * (g.lr - etaMin) + etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    const { lastEpoch: t, tMax, etaMin } = this;
    return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2);
  }

  protected ownState(): SchedulerStateDict {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }

  protected loadOwnState(state: StateReader): void {
    this.tMax = state.number('T_max') ?? this.tMax;
    this.etaMin = state.number('eta_min') ?? this.etaMin;
  }
}
