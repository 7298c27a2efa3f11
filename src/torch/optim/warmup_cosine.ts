// The usual "linear warmup, then cosine decay" schedule, built from PyTorch's own pieces as
// torchvision's training recipes do: SequentialLR([LinearLR, CosineAnnealingLR], [warmupSteps]).
import type { HyperParams, Optimizer } from './optimizer.js';
import { checkInteger, type Scheduler } from './lr_scheduler.js';
import { LinearLR } from './linear_lr.js';
import { CosineAnnealingLR } from './cosine_annealing_lr.js';
import { SequentialLR } from './sequential_lr.js';

export interface WarmupCosineOptions {
  /** Steps of linear warmup (0: cosine decay only). */
  warmupSteps: number;
  /** All steps: warmup, then cosine decay to minLr at step totalSteps. */
  totalSteps: number;
  /** The lr at step 0 as a fraction of the initial lr (default 0.01, torchvision's lr_warmup_decay). */
  warmupStartFactor?: number;
  /** The lr reached at the end (default 0). */
  minLr?: number;
}

export function warmupCosine(optimizer: Optimizer<HyperParams>, options: WarmupCosineOptions): Scheduler {
  const { warmupSteps, totalSteps, warmupStartFactor = 0.01, minLr = 0 } = options ?? ({} as WarmupCosineOptions);
  checkInteger('warmupCosine', 'warmupSteps', warmupSteps, 0);
  checkInteger('warmupCosine', 'totalSteps', totalSteps, warmupSteps + 1);
  if (warmupSteps === 0) return new CosineAnnealingLR(optimizer, totalSteps, { etaMin: minLr });
  const warmup = new LinearLR(optimizer, { startFactor: warmupStartFactor, endFactor: 1, totalIters: warmupSteps });
  const decay = new CosineAnnealingLR(optimizer, totalSteps - warmupSteps, { etaMin: minLr });
  return new SequentialLR(optimizer, [warmup, decay], [warmupSteps]);
}
