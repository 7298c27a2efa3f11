// The median stopping rule (Golovin et al., "Google Vizier", KDD 2017), as Optuna's MedianPruner: stop a
// trial whose best value so far is worse than the median of the complete trials' values at the same
// step. Nothing is pruned before `startupTrials` trials have completed, during the first `warmupSteps`
// steps, or at a step fewer than `minTrials` complete trials reached.
import { KEEP_GOING, type PruneDecision, type PruneRequest, type Pruner } from './pruner.js';
import { median } from '../../util/statistics.js';

export interface MedianOptions {
  /** Complete trials needed before anything is pruned (default 5). */
  startupTrials?: number;
  /** Steps of every trial never pruned (default 0). */
  warmupSteps?: number;
  /** Decide every intervalSteps steps after the warmup (default 1). */
  intervalSteps?: number;
  /** Complete trials that must have a value at the step (default 1). */
  minTrials?: number;
}

export const MEDIAN_DEFAULTS: Required<MedianOptions> = {
  startupTrials: 5,
  warmupSteps: 0,
  intervalSteps: 1,
  minTrials: 1,
};

export class MedianPruner implements Pruner {
  readonly options: Required<MedianOptions>;

  constructor(options: MedianOptions = {}) {
    this.options = { ...MEDIAN_DEFAULTS, ...options };
    for (const [name, min] of [
      ['startupTrials', 0],
      ['warmupSteps', 0],
      ['intervalSteps', 1],
      ['minTrials', 1],
    ] as const) {
      const v = this.options[name];
      if (!Number.isInteger(v) || v < min)
        throw new Error(`median pruner ${name} must be an integer >= ${min}, got ${v}`);
    }
  }

  decide({ trial, step, trials, direction }: PruneRequest): PruneDecision {
    const { startupTrials, warmupSteps, intervalSteps, minTrials } = this.options;
    if (step <= warmupSteps || (step - warmupSteps - 1) % intervalSteps !== 0) return KEEP_GOING;
    const complete = trials.filter((t) => t.state === 'complete' && t.number !== trial.number);
    if (complete.length < startupTrials) return KEEP_GOING;
    const atStep = complete
      .map((t) => t.intermediate.get(step))
      .filter((v): v is number => v !== undefined && !Number.isNaN(v));
    if (atStep.length < minTrials) return KEEP_GOING;
    const own = [...trial.intermediate].filter(([s, v]) => s <= step && !Number.isNaN(v)).map(([, v]) => v);
    if (own.length === 0) return { prune: true, reason: `no usable value by epoch ${step}` };
    const best = direction === 'maximize' ? Math.max(...own) : Math.min(...own);
    const bar = median(atStep);
    const worse = direction === 'maximize' ? best < bar : best > bar;
    const standing = `best ${best.toPrecision(4)} by epoch ${step} vs median ${bar.toPrecision(4)} of ${atStep.length} complete trials`;
    return { prune: worse, reason: worse ? `pruned: ${standing}` : `kept: ${standing}` };
  }
}
