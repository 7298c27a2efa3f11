// What a sampler is: given the search space and every trial of the study so far, the parameters of the
// next trial. Samplers are pure functions of (their settings, the seed, the trial number, the history),
// so two workers sharing a study, or a study resumed after a crash, sample exactly what one
// uninterrupted worker would have given the same history.
import type { SearchSpace } from '../space.js';
import type { Direction, Params, TrialRecord } from '../trial.js';

export interface SampleRequest {
  space: SearchSpace;
  /** Every trial of the study so far, in any state. */
  trials: readonly TrialRecord[];
  /** The number the new trial will get. */
  number: number;
  direction: Direction;
}

export interface Sampler {
  /** The new trial's parameters, or null when the sampler has nothing left to try (a finished grid). */
  sample(request: SampleRequest): Params | null;
}
