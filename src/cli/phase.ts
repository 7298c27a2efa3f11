// What a training run is doing, followed from its events, so that a stop signal (Ctrl-C, SIGTERM) is
// answered with what will happen in that phase: before training there is nothing to checkpoint, during
// training the current step ends with a checkpoint, and the final evaluation and the report are let finish.
import { STAGES, type StageName } from '../train/stages.js';
import type { TrainEvent } from '../train/events.js';

type Phase = StageName | 'epoch-evaluation' | 'final-evaluation' | 'report' | 'starting';

export class TrainPhase {
  private phase: Phase = 'starting';

  handle(event: TrainEvent): void {
    if (event.type === 'stage' && event.status === 'running') this.phase = event.stage;
    // The last batch of the last epoch: what remains of training is its evaluation.
    if (event.type === 'batch' && event.epoch === event.epochs && event.batch === event.batches)
      this.phase = 'final-evaluation';
    if (event.type === 'eval-progress' && this.phase === 'model-training') this.phase = 'epoch-evaluation';
    if (event.type === 'epoch-start') this.phase = 'model-training';
  }

  /** The run is complete; the report is being written. */
  reporting(): void {
    this.phase = 'report';
  }

  /** What a stop signal does now. */
  stopping(): string {
    switch (this.phase) {
      case 'model-training':
        return 'Stopping after the current step to save a checkpoint';
      case 'hyperparameter-tuning':
        return 'Stopping the study after the current step; the trial is queued to resume';
      case 'final-evaluation':
      case 'evaluation':
        return 'Training is complete; letting the final evaluation finish (seconds), then stopping';
      case 'report':
        return 'The run is complete; letting the report finish (seconds), then stopping';
      case 'epoch-evaluation':
        return "Stopping after this epoch's evaluation to save a checkpoint";
      case 'starting':
        return 'Stopping before training starts (nothing to checkpoint yet)';
      default: {
        const title = STAGES.find((s) => s.name === this.phase)!.title.toLowerCase();
        return `Stopping after ${title} (training has not started: nothing to checkpoint yet)`;
      }
    }
  }
}
