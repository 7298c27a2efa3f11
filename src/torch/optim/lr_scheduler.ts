// The learning-rate scheduler protocol (torch.optim.lr_scheduler._LRScheduler): a scheduler owns a
// step counter (lastEpoch) and, at each step(), writes new learning rates into the optimizer's groups.
// Like PyTorch's, most schedules are "chainable": the next lr is computed from the group's current lr,
// so the exact sequence of floating-point operations (and thus the values) matches PyTorch's.
import { Optimizer, type HyperParams, type ParamGroup } from './optimizer.js';

/** A scheduler's state, with PyTorch's keys (`last_epoch`, `base_lrs`, `_last_lr`, `step_size`, ...). */
export type SchedulerStateDict = Record<string, unknown>;

/** What every scheduler offers, including SequentialLR, which drives other schedulers. */
export interface Scheduler {
  readonly optimizer: Optimizer<HyperParams>;
  /** Advances the schedule by one step (call it after optimizer.step()). */
  step(): void;
  /** The learning rates the last step() set, one per parameter group. */
  getLastLr(): number[];
  /** The scheduler's state, with PyTorch's keys; plain data (JSON-safe). */
  stateDict(): SchedulerStateDict;
  /** Restores a state from stateDict() (senet's or PyTorch's); load the optimizer's state too. */
  loadStateDict(state: SchedulerStateDict): void;
}

/**
 * Base class of the schedules. A subclass constructor calls `super(optimizer)`, sets its own fields,
 * then calls `this.start(lastEpoch)` (its fields must exist before the first learning rate is computed,
 * which is why the base constructor cannot do it, unlike PyTorch's).
 */
export abstract class LRScheduler implements Scheduler {
  readonly optimizer: Optimizer<HyperParams>;
  /** Each group's initial learning rate (`initialLr`, set on the group when the schedule starts). */
  baseLrs: number[] = [];
  /** The index of the last step taken; -1 before the schedule starts. */
  lastEpoch = -1;
  /** step() calls since the schedule (re)started (PyTorch's _step_count). */
  protected stepCount = 0;
  private lastLr: number[] = [];

  constructor(optimizer: Optimizer<HyperParams>) {
    if (!(optimizer instanceof Optimizer)) {
      throw new TypeError(
        `${this.constructor.name}: expected an Optimizer, got ${optimizer === null ? 'null' : typeof optimizer}`,
      );
    }
    this.optimizer = optimizer;
  }

  protected get groups(): ParamGroup<HyperParams>[] {
    return this.optimizer.paramGroups;
  }

  /**
   * Starts the schedule: records each group's initial lr (or, when resuming with lastEpoch >= 0,
   * requires it) and takes the first step, which sets the lr of step lastEpoch + 1.
   */
  protected start(lastEpoch = -1): void {
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) {
      throw new RangeError(`${this.constructor.name}: lastEpoch must be an integer >= -1, got ${lastEpoch}`);
    }
    this.groups.forEach((group, i) => {
      if (lastEpoch === -1) {
        group.initialLr ??= group.lr;
      } else if (typeof group.initialLr !== 'number') {
        throw new Error(
          `${this.constructor.name}: param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer ` +
            `(load the optimizer's state dict first, or start with lastEpoch -1)`,
        );
      }
    });
    this.baseLrs = this.groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
    this.initialStep();
  }

  /** Resets the step counter and takes the first step (used by start() and by SequentialLR). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * Advances the schedule one step and writes the new learning rates into the optimizer's groups.
   * `epoch` (deprecated in PyTorch; SequentialLR uses it to restart a schedule) jumps to that step
   * and uses the schedule's closed form where it has one.
   */
  step(epoch?: number): void {
    this.stepCount += 1;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr() ?? this.getLr();
    }
    this.groups.forEach((group, i) => {
      group.lr = values[i];
    });
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The learning rates for step lastEpoch, usually from the groups' current ones (chainable form). */
  protected abstract getLr(): number[];

  /** The learning rates for step lastEpoch computed from baseLrs alone, or null if the schedule has none. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return {
      ...this.ownState(),
      base_lrs: [...this.baseLrs],
      last_epoch: this.lastEpoch,
      _step_count: this.stepCount,
      _last_lr: [...this.lastLr],
    };
  }

  /** Like PyTorch's (a dict update), keys that are absent keep their current values. */
  loadStateDict(state: SchedulerStateDict): void {
    if (typeof state !== 'object' || state === null) {
      throw new TypeError(
        `${this.constructor.name}.loadStateDict: expected an object from stateDict(), got ${state === null ? 'null' : typeof state}`,
      );
    }
    const reader = new StateReader(this.constructor.name, state);
    this.loadOwnState(reader);
    this.baseLrs = reader.numbers('base_lrs') ?? this.baseLrs;
    this.lastEpoch = reader.number('last_epoch') ?? this.lastEpoch;
    this.stepCount = reader.number('_step_count') ?? this.stepCount;
    this.lastLr = reader.numbers('_last_lr') ?? this.lastLr;
  }

  /** The schedule's own settings for the state dict, under PyTorch's names (step_size, T_max, ...). */
  protected abstract ownState(): SchedulerStateDict;

  /** Reads back what ownState() wrote. */
  protected abstract loadOwnState(state: StateReader): void;
}

/** Typed access to a loaded state dict, with one clear error for a value of the wrong kind. */
export class StateReader {
  constructor(
    private readonly owner: string,
    readonly raw: SchedulerStateDict,
  ) {}

  private fail(key: string, expected: string): never {
    throw new TypeError(
      `${this.owner}.loadStateDict: '${key}' should be ${expected}, got ${JSON.stringify(this.raw[key])}`,
    );
  }

  number(key: string): number | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    return typeof v === 'number' ? v : this.fail(key, 'a number');
  }

  numbers(key: string): number[] | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    return Array.isArray(v) && v.every((x) => typeof x === 'number') ? [...v] : this.fail(key, 'a list of numbers');
  }

  boolean(key: string): boolean | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    return typeof v === 'boolean' ? v : this.fail(key, 'a boolean');
  }

  string(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    return typeof v === 'string' ? v : this.fail(key, 'a string');
  }
}

/** One learning rate (or momentum) per parameter group: a single value for all, or a list. */
export function perGroup(owner: string, name: string, value: number | readonly number[], groups: number): number[] {
  if (typeof value === 'number') return new Array<number>(groups).fill(value);
  if (!Array.isArray(value) || value.length !== groups) {
    throw new RangeError(
      `${owner}: expected ${groups} values for ${name} (one per parameter group), got ${JSON.stringify(value)}`,
    );
  }
  return [...value];
}

/** Throws unless value is an integer >= min. */
export function checkInteger(owner: string, name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${owner}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}
