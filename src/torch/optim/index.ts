// torch.optim: optimizers and learning-rate schedules (`torch.optim.SGD`, `torch.optim.lrScheduler` names
// are flattened here: `optim.SGD`, `optim.StepLR`, ...).
export {
  Optimizer,
  type HyperParams,
  type ParamGroup,
  type ParamGroupSpec,
  type Params,
  type ParamState,
  type StateValue,
  type OptimizerStateDict,
} from './optimizer.js';
export { SGD, type SGDHyperParams, type SGDOptions } from './sgd.js';
export { Adam, type AdamHyperParams, type AdamOptions } from './adam.js';
export { AdamW } from './adamw.js';
export { LRScheduler, type Scheduler, type SchedulerStateDict } from './lr_scheduler.js';
export { StepLR, MultiStepLR, type StepDecayOptions } from './step_lr.js';
export { CosineAnnealingLR, type CosineAnnealingOptions } from './cosine_annealing_lr.js';
export { LinearLR, type LinearLROptions } from './linear_lr.js';
export { OneCycleLR, type OneCycleLROptions, type OneCyclePhase, type AnnealStrategy } from './one_cycle_lr.js';
export { SequentialLR } from './sequential_lr.js';
export { warmupCosine, type WarmupCosineOptions } from './warmup_cosine.js';
