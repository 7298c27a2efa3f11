// SequentialLR: runs several schedules one after another, switching at milestone steps, exactly as
// torch.optim.lr_scheduler.SequentialLR (each later schedule restarts from its step 0).
import type { HyperParams, Optimizer } from './optimizer.js';
import { LRScheduler, checkInteger, type Scheduler, type SchedulerStateDict } from './lr_scheduler.js';

export class SequentialLR implements Scheduler {
  readonly optimizer: Optimizer<HyperParams>;
  readonly schedulers: LRScheduler[];
  milestones: number[];
  lastEpoch: number;
  private lastLr: number[];

  /**
   * @param schedulers schedules made for `optimizer` (constructing them already moved its lr; this
   *   constructor undoes that and starts the first one)
   * @param milestones the steps at which the next schedule takes over: one fewer than the schedules
   */
  constructor(
    optimizer: Optimizer<HyperParams>,
    schedulers: LRScheduler[],
    milestones: readonly number[],
    lastEpoch = -1,
  ) {
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new Error('SequentialLR: expects at least one scheduler');
    }
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) throw new TypeError(`SequentialLR: schedulers[${i}] is not an LRScheduler`);
      if (s.optimizer !== optimizer) {
        throw new Error(
          `SequentialLR: expects all schedulers to belong to the same optimizer, but got schedulers at index ${i} to be different than the optimizer passed in.`,
        );
      }
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new Error(
        `SequentialLR: expects number of schedulers provided to be one more than the number of milestone points, ` +
          `but got number of schedulers ${schedulers.length} and the number of milestones to be equal to ${Array.isArray(milestones) ? milestones.length : String(milestones)}`,
      );
    }
    milestones.forEach((m, i) => {
      checkInteger('SequentialLR', 'each milestone', m, 1);
      if (i > 0 && m < milestones[i - 1])
        throw new RangeError(`SequentialLR: milestones must be increasing, got [${milestones.join(', ')}]`);
    });
    this.optimizer = optimizer;
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = lastEpoch + 1;
    // Undo what constructing the schedulers did, then start only the first one.
    for (const group of optimizer.paramGroups) group.lr = group.initialLr as number;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0].initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  step(): void {
    this.lastEpoch += 1;
    const index = this.milestones.filter((m) => m <= this.lastEpoch).length; // bisect_right
    const scheduler = this.schedulers[index];
    // At its milestone a schedule restarts from step 0 (closed form), whatever ran before it.
    if (index > 0 && this.milestones[index - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return {
      _milestones: [...this.milestones],
      last_epoch: this.lastEpoch,
      _last_lr: [...this.lastLr],
      _schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  loadStateDict(state: SchedulerStateDict): void {
    if (typeof state !== 'object' || state === null)
      throw new TypeError('SequentialLR.loadStateDict: expected an object from stateDict()');
    const nested = state._schedulers;
    if (nested !== undefined && (!Array.isArray(nested) || nested.length !== this.schedulers.length)) {
      throw new Error(
        `SequentialLR.loadStateDict: expected ${this.schedulers.length} scheduler states in '_schedulers', got ${JSON.stringify(nested)?.slice(0, 80)}`,
      );
    }
    const numbers = (key: string): number[] | undefined => {
      const v = state[key];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number'))
        throw new TypeError(`SequentialLR.loadStateDict: '${key}' should be a list of numbers`);
      return [...v];
    };
    const lastEpoch = state.last_epoch;
    if (lastEpoch !== undefined && typeof lastEpoch !== 'number')
      throw new TypeError("SequentialLR.loadStateDict: 'last_epoch' should be a number");
    this.milestones = numbers('_milestones') ?? this.milestones;
    this.lastLr = numbers('_last_lr') ?? this.lastLr;
    this.lastEpoch = lastEpoch ?? this.lastEpoch;
    nested?.forEach((s, i) => this.schedulers[i].loadStateDict(s as SchedulerStateDict));
  }
}
