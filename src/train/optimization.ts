// The optimizer and learning-rate schedule a config asks for. Schedules are stepped after every batch
// (as torchvision's and timm's recipes do), with their lengths given in epochs in the config and
// converted to steps here; warmup is a linear ramp from lr/100 (torchvision's lr_warmup_decay) joined
// to the main schedule by SequentialLR.
import * as torch from '../torch/index.js';
import type { nn } from '../torch/index.js';
import { splitParameters } from '../models/classifier.js';
import { effectiveWeightDecay, type TrainConfig } from './config.js';

const { optim } = torch;
type Optimizer = torch.optim.Optimizer<torch.optim.HyperParams>;

/** The lr at the first warmup step, as a fraction of the configured lr. */
export const WARMUP_START_FACTOR = 0.01;

// A type alias rather than an interface: the optimizers take groups as string-keyed records.
export type ParameterGroup = {
  params: torch.Tensor[];
  weightDecay: number;
  /** The group's own learning rate; absent: the optimizer's. */
  lr?: number;
};

/**
 * The parameter groups: one group, or two — the parameters with two or more dimensions (weights of
 * convolutions and linear layers), and the rest (biases, BatchNorm scales and shifts) — when the rest
 * are not decayed (decayBnAndBias false, as timm's `param_groups_weight_decay`) or learn at biasLrScale
 * times the lr. Scaled biases that are decayed get weightDecay / biasLrScale: with the coupled decay of
 * SGD and Adam the step shrinks a parameter by lr × weightDecay, so every parameter shrinks alike.
 * Fine-tuning with backboneLrScale ≠ 1 makes those groups twice: the classifier's first (at the lr, the
 * one progress reports), then the backbone's at backboneLrScale times it, with the same weight decay (as
 * discriminative / layer-wise learning rates do: a slower backbone also decays more slowly).
 */
export function parameterGroups(model: nn.Module, config: TrainConfig): ParameterGroup[] {
  const trainable = (params: torch.Tensor[]) => params.filter((p) => p.requiresGrad);
  if (config.backboneLrScale === 1) return splitGroups(trainable(model.parameters()), config, 1);
  const { classifier, backbone } = splitParameters(model);
  const groups = [
    ...splitGroups(trainable(classifier), config, 1),
    ...splitGroups(trainable(backbone), config, config.backboneLrScale),
  ];
  return groups.filter((g) => g.params.length > 0);
}

/** The groups (see parameterGroups) of some parameters that learn at lrScale times the lr. */
function splitGroups(params: torch.Tensor[], config: TrainConfig, lrScale: number): ParameterGroup[] {
  const weightDecay = effectiveWeightDecay(config);
  const lr = (scale: number) => (scale === 1 ? {} : { lr: config.lr * scale });
  const scaled = config.biasLrScale !== 1;
  if (!scaled && (config.decayBnAndBias || weightDecay === 0)) return [{ params, weightDecay, ...lr(lrScale) }];
  const weights = params.filter((p) => p.ndim > 1);
  const small = params.filter((p) => p.ndim <= 1);
  const smallGroup: ParameterGroup = {
    params: small,
    weightDecay: config.decayBnAndBias ? weightDecay / config.biasLrScale : 0,
    ...lr(lrScale * config.biasLrScale),
  };
  return [{ params: weights, weightDecay, ...lr(lrScale) }, smallGroup].filter((g) => g.params.length > 0);
}

export function buildOptimizer(model: nn.Module, config: TrainConfig): Optimizer {
  const groups = parameterGroups(model, config);
  switch (config.optimizer) {
    case 'sgd':
      return new optim.SGD(groups, {
        lr: config.lr,
        momentum: config.momentum,
        nesterov: config.nesterov,
      }) as unknown as Optimizer;
    case 'adam':
      return new optim.Adam(groups, { lr: config.lr }) as unknown as Optimizer;
    case 'adamw':
      return new optim.AdamW(groups, { lr: config.lr }) as unknown as Optimizer;
  }
}

/**
 * The schedule over `epochs × stepsPerEpoch` steps, or null for a constant lr without warmup.
 *   step       × gamma every stepSize epochs (default: a third of the epochs) after the warmup
 *   multistep  × gamma at each milestone epoch (default: 50% and 75% of the epochs)
 *   cosine     half a cosine from lr to 0 at the end
 *   linear     a straight line from lr to 0 at the end
 *   onecycle   OneCycleLR peaking at lr; its rise lasts warmupEpochs (default 30% of the cycle)
 *   triangular lr × lrStartFactor at the first step, rising linearly to lr at lrPeakFraction of the steps
 *              (rounded down, as airbench), then falling linearly to lr × lrEndFactor at the last step
 */
export function buildScheduler(
  optimizer: Optimizer,
  config: TrainConfig,
  stepsPerEpoch: number,
): torch.optim.Scheduler | null {
  const total = config.epochs * stepsPerEpoch;
  const warmup = config.warmupEpochs * stepsPerEpoch;
  const after = total - warmup;
  let main: torch.optim.LRScheduler | null;
  switch (config.schedule) {
    case 'none':
      main = null;
      break;
    case 'step': {
      const stepSize = config.stepSize ?? Math.max(1, Math.round(config.epochs / 3));
      main = new optim.StepLR(optimizer, stepSize * stepsPerEpoch, { gamma: config.gamma });
      break;
    }
    case 'multistep': {
      const milestones = config.milestones ?? [
        ...new Set([Math.round(config.epochs * 0.5), Math.round(config.epochs * 0.75)]),
      ];
      // Milestones count from the start of training; the schedule itself starts after the warmup.
      const steps = milestones.map((m) => m * stepsPerEpoch - warmup).filter((s) => s > 0);
      main = new optim.MultiStepLR(optimizer, steps, { gamma: config.gamma });
      break;
    }
    case 'cosine':
      return optim.warmupCosine(optimizer, {
        warmupSteps: warmup,
        totalSteps: total,
        warmupStartFactor: WARMUP_START_FACTOR,
      });
    case 'linear':
      main = new optim.LinearLR(optimizer, { startFactor: 1, endFactor: 0, totalIters: after });
      break;
    case 'triangular': {
      const peak = Math.max(1, Math.floor(total * config.lrPeakFraction));
      const rise = new optim.LinearLR(optimizer, { startFactor: config.lrStartFactor, endFactor: 1, totalIters: peak });
      const fall = new optim.LinearLR(optimizer, {
        startFactor: 1,
        endFactor: config.lrEndFactor,
        totalIters: Math.max(1, total - peak),
      });
      return new optim.SequentialLR(optimizer, [rise, fall], [peak]);
    }
    case 'onecycle':
      // Each group peaks at its own lr (the biases' scaled one included).
      return new optim.OneCycleLR(
        optimizer,
        optimizer.paramGroups.map((g) => g.lr),
        {
          totalSteps: total,
          ...(config.warmupEpochs > 0 ? { pctStart: config.warmupEpochs / config.epochs } : {}),
        },
      );
  }
  if (warmup === 0) return main;
  const ramp = new optim.LinearLR(optimizer, { startFactor: WARMUP_START_FACTOR, endFactor: 1, totalIters: warmup });
  if (!main) return ramp; // after the ramp the lr stays at its configured value
  return new optim.SequentialLR(optimizer, [ramp, main], [warmup]);
}

/** The learning rate of the first parameter group (what a step uses now). */
export function currentLr(optimizer: Optimizer): number {
  return optimizer.paramGroups[0].lr;
}
