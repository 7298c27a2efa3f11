// OneCycleLR (Smith & Topin, "super-convergence"): the lr rises from maxLr / divFactor to maxLr, then
// anneals to far below the start, while momentum (or Adam's beta1) cycles the opposite way; computed
// as torch.optim.lr_scheduler.OneCycleLR does, including its three-phase variant.
import { toPyTorchKey, fromPyTorchKey, type HyperParams, type Optimizer } from './optimizer.js';
import { LRScheduler, type StateReader, perGroup, checkInteger, type SchedulerStateDict } from './lr_scheduler.js';

export type AnnealStrategy = 'cos' | 'linear';

export interface OneCycleLROptions {
  /** Steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear' annealing. */
  annealStrategy?: AnnealStrategy;
  /** Cycle momentum (SGD) or beta1 (Adam, AdamW) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, reached at the peak lr (default 0.85); one value or one per group. */
  baseMomentum?: number | readonly number[];
  /** Highest momentum, at the start and end (default 0.95); one value or one per group. */
  maxMomentum?: number | readonly number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Fast.ai's schedule: up, back down to initialLr, then down to minLr (default false: up, then down). */
  threePhase?: boolean;
  /** Resume at this step (the groups must already have initialLr, maxLr, ...); default -1 starts afresh. */
  lastEpoch?: number;
}

/** One phase: up to which step it runs and which group entries it anneals between. */
export interface OneCyclePhase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

const annealings: Record<AnnealStrategy, (start: number, end: number, pct: number) => number> = {
  cos: (start, end, pct) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1),
  linear: (start, end, pct) => (end - start) * pct + start,
};

function phase(
  endStep: number,
  startLr: string,
  endLr: string,
  startMomentum: string,
  endMomentum: string,
): OneCyclePhase {
  return { endStep, startLr, endLr, startMomentum, endMomentum };
}

export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  phases: OneCyclePhase[];
  annealStrategy: AnnealStrategy;
  cycleMomentum: boolean;
  /** True when the optimizer has betas (Adam): beta1 cycles instead of momentum. */
  useBeta1: boolean;

  /** @param maxLr the peak learning rate: one value, or one per parameter group. */
  constructor(optimizer: Optimizer<HyperParams>, maxLr: number | readonly number[], options: OneCycleLROptions = {}) {
    super(optimizer);
    const name = 'OneCycleLR';
    const {
      pctStart = 0.3,
      annealStrategy = 'cos',
      cycleMomentum = true,
      baseMomentum = 0.85,
      maxMomentum = 0.95,
      divFactor = 25,
      finalDivFactor = 1e4,
      threePhase = false,
      lastEpoch = -1,
    } = options;
    if (options.totalSteps !== undefined) {
      checkInteger(name, 'totalSteps', options.totalSteps, 1);
      this.totalSteps = options.totalSteps;
    } else if (options.epochs !== undefined || options.stepsPerEpoch !== undefined) {
      checkInteger(name, 'epochs', options.epochs, 1);
      checkInteger(name, 'stepsPerEpoch', options.stepsPerEpoch, 1);
      this.totalSteps = options.epochs! * options.stepsPerEpoch!;
    } else {
      throw new Error(`${name}: you must define either totalSteps OR (epochs AND stepsPerEpoch)`);
    }
    const total = this.totalSteps;
    this.phases = threePhase
      ? [
          phase(pctStart * total - 1, 'initialLr', 'maxLr', 'maxMomentum', 'baseMomentum'),
          phase(2 * pctStart * total - 2, 'maxLr', 'initialLr', 'baseMomentum', 'maxMomentum'),
          phase(total - 1, 'initialLr', 'minLr', 'maxMomentum', 'maxMomentum'),
        ]
      : [
          phase(pctStart * total - 1, 'initialLr', 'maxLr', 'maxMomentum', 'baseMomentum'),
          phase(total - 1, 'maxLr', 'minLr', 'baseMomentum', 'maxMomentum'),
        ];
    if (typeof pctStart !== 'number' || !(pctStart >= 0 && pctStart <= 1)) {
      throw new RangeError(`${name}: Expected float between 0 and 1 pctStart, but got ${String(pctStart)}`);
    }
    if (!(annealStrategy in annealings)) {
      throw new RangeError(
        `${name}: annealStrategy must be one of 'cos' or 'linear', instead got ${String(annealStrategy)}`,
      );
    }
    this.annealStrategy = annealStrategy;

    const groups = this.groups;
    const maxLrs = perGroup(name, 'maxLr', maxLr, groups.length);
    if (lastEpoch === -1) {
      groups.forEach((group, i) => {
        const initialLr = maxLrs[i] / divFactor;
        group.initialLr = initialLr;
        group.maxLr = maxLrs[i];
        group.minLr = initialLr / finalDivFactor;
      });
    }

    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = false;
    if (cycleMomentum) {
      const defaults = optimizer.defaults as object;
      if (!('momentum' in defaults) && !('betas' in defaults)) {
        throw new Error(
          `${name}: optimizer must support momentum with the cycleMomentum option enabled (${optimizer.constructor.name} has neither momentum nor betas)`,
        );
      }
      this.useBeta1 = 'betas' in defaults;
      const maxMomenta = perGroup(name, 'maxMomentum', maxMomentum, groups.length);
      const baseMomenta = perGroup(name, 'baseMomentum', baseMomentum, groups.length);
      if (lastEpoch === -1) {
        groups.forEach((group, i) => {
          this.setMomentum(group, maxMomenta[i]);
          group.maxMomentum = maxMomenta[i];
          group.baseMomentum = baseMomenta[i];
        });
      }
    }
    this.start(lastEpoch);
  }

  private setMomentum(group: Record<string, unknown>, momentum: number): void {
    if (this.useBeta1) group.betas = [momentum, ...(group.betas as number[]).slice(1)];
    else group.momentum = momentum;
  }

  protected getLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps) {
      throw new Error(
        `OneCycleLR: Tried to step ${step + 1} times. The specified number of total steps is ${this.totalSteps}`,
      );
    }
    const anneal = annealings[this.annealStrategy];
    return this.groups.map((group) => {
      const g = group as Record<string, number>;
      let startStep = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const p = this.phases[i];
        if (step <= p.endStep || i === this.phases.length - 1) {
          if (p.endStep === startStep) {
            // PyTorch raises ZeroDivisionError here.
            throw new Error(
              `OneCycleLR: phase ${i} of the cycle has no steps (totalSteps ${this.totalSteps} is too small for these phases)`,
            );
          }
          const pct = (step - startStep) / (p.endStep - startStep);
          if (this.cycleMomentum) this.setMomentum(group, anneal(g[p.startMomentum], g[p.endMomentum], pct));
          return anneal(g[p.startLr], g[p.endLr], pct);
        }
        startStep = p.endStep;
      }
      throw new Error('unreachable: the last phase always applies');
    });
  }

  protected ownState(): SchedulerStateDict {
    return {
      total_steps: this.totalSteps,
      _schedule_phases: this.phases.map((p) => ({
        end_step: p.endStep,
        start_lr: toPyTorchKey(p.startLr),
        end_lr: toPyTorchKey(p.endLr),
        start_momentum: toPyTorchKey(p.startMomentum),
        end_momentum: toPyTorchKey(p.endMomentum),
      })),
      // PyTorch saves the bound annealing method itself (anneal_func); senet saves its name.
      anneal_strategy: this.annealStrategy,
      cycle_momentum: this.cycleMomentum,
      use_beta1: this.useBeta1,
    };
  }

  protected loadOwnState(state: StateReader): void {
    this.totalSteps = state.number('total_steps') ?? this.totalSteps;
    const phases = state.raw._schedule_phases;
    if (phases !== undefined) {
      if (!Array.isArray(phases))
        throw new TypeError(
          `OneCycleLR.loadStateDict: '_schedule_phases' should be a list, got ${JSON.stringify(phases)}`,
        );
      this.phases = phases.map((p: Record<string, unknown>) => {
        const key = (k: string) => {
          if (typeof p?.[k] !== 'string')
            throw new TypeError(`OneCycleLR.loadStateDict: a phase lacks '${k}': ${JSON.stringify(p)}`);
          return fromPyTorchKey(p[k] as string);
        };
        if (typeof p?.end_step !== 'number')
          throw new TypeError(`OneCycleLR.loadStateDict: a phase lacks 'end_step': ${JSON.stringify(p)}`);
        return phase(p.end_step, key('start_lr'), key('end_lr'), key('start_momentum'), key('end_momentum'));
      });
    }
    const strategy = state.string('anneal_strategy');
    if (strategy !== undefined) {
      if (!(strategy in annealings))
        throw new TypeError(`OneCycleLR.loadStateDict: unknown anneal_strategy '${strategy}'`);
      this.annealStrategy = strategy as AnnealStrategy;
    }
    this.cycleMomentum = state.boolean('cycle_momentum') ?? this.cycleMomentum;
    this.useBeta1 = state.boolean('use_beta1') ?? this.useBeta1;
  }
}
