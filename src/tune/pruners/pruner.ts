// What a pruner is: after a trial reports its value at a step (an epoch), whether to stop it there,
// judged against the other trials of the study. Decisions are pure functions of the study's history.
import type { Direction, TrialRecord } from '../trial.js';

export interface PruneRequest {
  /** The trial asking, its intermediate values including the one just reported. */
  trial: TrialRecord;
  step: number;
  /** Every trial of the study (the asking one among them), in any state. */
  trials: readonly TrialRecord[];
  direction: Direction;
}

export interface PruneDecision {
  prune: boolean;
  /** Why, in words (recorded as the note of a pruned trial); null when there was nothing to decide. */
  reason: string | null;
}

export interface Pruner {
  decide(request: PruneRequest): PruneDecision;
}

export const KEEP_GOING: PruneDecision = { prune: false, reason: null };

/** The never-pruning pruner (`--pruner none`). */
export class NopPruner implements Pruner {
  decide(): PruneDecision {
    return KEEP_GOING;
  }
}
