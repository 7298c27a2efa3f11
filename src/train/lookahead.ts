// Lookahead-style weight averaging, as airbench trains: every `every` optimizer steps the average moves
// towards the model's weights and is copied back into the model, so training continues from the average,
//     avg ← d·avg + (1 − d)·w,  w ← avg,   d = decay^every × (t / T)^power   (t: steps done, T: all steps),
// between updates the model trains on its own. d starts at 0 (the average just follows the weights) and
// grows to decay^every by the end, so that early training is unhindered and late training is smoothed.
// Like the EMA (ema.ts, whose bookkeeping it shares: checkpointing, evaluation with the average, the
// average left in the model at the end), every floating-point state-dict entry is averaged, BatchNorm's
// running statistics included.
import * as torch from '../torch/index.js';
import type { nn } from '../torch/index.js';
import { ModelEma } from './ema.js';
import type { LookaheadConfig } from './config-schema.js';

export class Lookahead extends ModelEma {
  readonly every: number;
  readonly power: number;
  readonly totalSteps: number;

  /** Starts the average at the model's current weights; `totalSteps` is T, the steps of the whole run. */
  constructor(model: nn.Module, config: LookaheadConfig, totalSteps: number) {
    super(model, config.decay);
    if (!Number.isSafeInteger(totalSteps) || totalSteps < 1)
      throw new Error(`Lookahead: totalSteps must be a count >= 1, got ${totalSteps}`);
    this.every = config.every;
    this.power = config.power;
    this.totalSteps = totalSteps;
  }

  /** The decay of an update made after step t (airbench's alpha_schedule). */
  decayAt(t: number): number {
    return this.decay ** this.every * (Math.min(t, this.totalSteps) / this.totalSteps) ** this.power;
  }

  /** The decay the next update would use (after the step about to be counted). */
  override currentDecay(): number {
    return this.decayAt(this.updates + 1);
  }

  /** Counts a step (call after each optimizer step); every `every` steps, averages and copies back. */
  override update(model: nn.Module): void {
    const t = this.updates + 1;
    if (t % this.every === 0) {
      const d = this.decayAt(t);
      torch.noGrad(() =>
        torch.tidy(() => {
          for (const [key, current] of Object.entries(model.stateDict())) {
            const avg = this.averaged.get(key);
            if (!avg) throw new Error("Lookahead: the model's state-dict keys changed since the average was started");
            if (avg.isFloatingPoint()) avg.lerp_(current, 1 - d);
            else avg.copy_(current);
            current.copy_(avg);
          }
        }),
      );
    }
    this.updates = t;
  }
}
