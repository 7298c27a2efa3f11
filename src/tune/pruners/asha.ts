// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter Tuning",
// MLSys 2020), as Optuna's SuccessiveHalvingPruner: rungs at minResource·η^(s+k) steps (k = 0, 1, ...);
// a trial reaching a rung goes on only if its value there is among the best ⌈1/η⌉ part — the top
// max(1, ⌊n/η⌋) — of the n trials that have reached that rung so far, in any state. No trial waits for
// the others: early trials compete with few, later ones with more, so the first trials tend to pass
// and the bar rises as the study fills.
import { bestFirst } from '../trial.js';
import { KEEP_GOING, type PruneDecision, type PruneRequest, type Pruner } from './pruner.js';

export interface AshaOptions {
  /** Steps (epochs) before the first rung (Optuna's min_resource; default 1). */
  minResource?: number;
  /** η: each rung keeps the best 1/η (default 3). */
  reductionFactor?: number;
  /** s: the first rung is at minResource·η^s (default 0). */
  minEarlyStoppingRate?: number;
}

export const ASHA_DEFAULTS: Required<AshaOptions> = { minResource: 1, reductionFactor: 3, minEarlyStoppingRate: 0 };

export class AshaPruner implements Pruner {
  readonly options: Required<AshaOptions>;

  constructor(options: AshaOptions = {}) {
    this.options = { ...ASHA_DEFAULTS, ...options };
    const { minResource, reductionFactor, minEarlyStoppingRate } = this.options;
    if (!Number.isInteger(minResource) || minResource < 1)
      throw new Error(`ASHA minResource must be an integer >= 1, got ${minResource}`);
    if (!Number.isInteger(reductionFactor) || reductionFactor < 2)
      throw new Error(`ASHA reductionFactor must be an integer >= 2, got ${reductionFactor}`);
    if (!Number.isInteger(minEarlyStoppingRate) || minEarlyStoppingRate < 0) {
      throw new Error(`ASHA minEarlyStoppingRate must be an integer >= 0, got ${minEarlyStoppingRate}`);
    }
  }

  /** The rung a step is, or -1 when the step is not a rung. */
  rungOf(step: number): number {
    const { minResource, reductionFactor, minEarlyStoppingRate } = this.options;
    for (let k = 0; ; k++) {
      const rungStep = minResource * reductionFactor ** (minEarlyStoppingRate + k);
      if (rungStep === step) return k;
      if (rungStep > step) return -1;
    }
  }

  decide({ trial, step, trials, direction }: PruneRequest): PruneDecision {
    const rung = this.rungOf(step);
    if (rung < 0) return KEEP_GOING;
    const value = trial.intermediate.get(step);
    if (value === undefined || Number.isNaN(value))
      return { prune: true, reason: `no usable value at rung ${rung} (epoch ${step})` };
    const competitors = trials
      .filter((t) => t.number !== trial.number)
      .map((t) => t.intermediate.get(step))
      .filter((v): v is number => v !== undefined && !Number.isNaN(v));
    const values = [...competitors, value].sort(bestFirst(direction));
    const kept = Math.max(1, Math.floor(values.length / this.options.reductionFactor));
    const bar = values[kept - 1];
    const passes = direction === 'maximize' ? value >= bar : value <= bar;
    const standing =
      `${value.toPrecision(4)} at rung ${rung} (epoch ${step}), bar ${bar.toPrecision(4)} = ` +
      `best ${kept} of ${values.length} trials there`;
    return { prune: !passes, reason: passes ? `promoted: ${standing}` : `pruned: ${standing}` };
  }
}
