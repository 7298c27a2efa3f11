// An exponential moving average of a model's weights (Polyak averaging as in timm's ModelEmaV2 and
// TensorFlow's ExponentialMovingAverage): after every optimizer step, each averaged tensor moves towards
// the model's by a fraction 1 - d of the gap,
//     avg ← d·avg + (1 - d)·w,   d = min(decay, (1 + n) / (10 + n))   (n = updates made before this one),
// the warmup of d letting the average leave the random initial weights quickly in short runs. Every
// floating-point entry of the state dict is averaged: parameters, and BatchNorm's running mean and
// variance too, so that the normalisation the averaged weights are evaluated with follows them (integer
// buffers, such as num_batches_tracked, are copied). The average is evaluated by swapping it into the
// model for the duration of a call (withAveraged), so no second model is built.
import * as torch from '../torch/index.js';
import type { nn, Tensor } from '../torch/index.js';

export class ModelEma {
  readonly decay: number;
  /** Updates made so far (the n of the warmup). */
  updates = 0;
  /** The averaged state dict, under the model's keys. */
  protected readonly averaged: Map<string, Tensor>;

  /** Starts the average at the model's current weights. */
  constructor(model: nn.Module, decay: number) {
    if (!(typeof decay === 'number' && decay > 0 && decay < 1))
      throw new Error(`ModelEma: decay must be in (0, 1), got ${decay}`);
    this.decay = decay;
    this.averaged = new Map(
      Object.entries(model.stateDict()).map(([k, v]) => [k, torch.keep(torch.noGrad(() => v.detach().clone()))]),
    );
  }

  /** The decay the next update uses. */
  currentDecay(): number {
    return Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
  }

  /** Moves the average towards the model's current weights (call after each optimizer step). */
  update(model: nn.Module): void {
    const d = this.currentDecay();
    torch.noGrad(() =>
      torch.tidy(() => {
        for (const [key, current] of this.entries(model)) {
          const avg = this.averaged.get(key)!;
          // lerp_: avg + (1 - d)(w - avg) = d·avg + (1 - d)·w, in one pass over the tensor.
          if (avg.isFloatingPoint()) avg.lerp_(current, 1 - d);
          else avg.copy_(current);
        }
      }),
    );
    this.updates += 1;
  }

  /** The averaged tensors (owned by this object: copy them to keep them past dispose()). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.averaged);
  }

  /** Puts back a saved average (e.g. from a checkpoint) and its update count. */
  loadStateDict(state: Record<string, Tensor>, updates: number): void {
    const keys = Object.keys(state);
    const missing = [...this.averaged.keys()].filter((k) => !(k in state));
    const unexpected = keys.filter((k) => !this.averaged.has(k));
    if (missing.length || unexpected.length) {
      throw new Error(
        `the saved weight average does not fit the model: ${missing.length ? `missing ${missing.slice(0, 3).join(', ')}` : ''}` +
          `${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected ${unexpected.slice(0, 3).join(', ')}` : ''}`,
      );
    }
    if (!Number.isSafeInteger(updates) || updates < 0)
      throw new Error(`ModelEma: updates must be a count >= 0, got ${updates}`);
    torch.noGrad(() => {
      for (const [key, avg] of this.averaged) {
        if (state[key].shape.join() !== avg.shape.join()) {
          throw new Error(
            `the saved weight average's '${key}' has shape [${state[key].shape.join(', ')}], the model's [${avg.shape.join(', ')}]`,
          );
        }
        avg.copy_(state[key]);
      }
    });
    this.updates = updates;
  }

  /** Overwrites the model's weights with the average (at the end of training). */
  copyTo(model: nn.Module): void {
    torch.noGrad(() => {
      for (const [key, current] of this.entries(model)) current.copy_(this.averaged.get(key)!);
    });
  }

  /** Runs fn with the model holding the averaged weights, then puts its own weights back (also on errors). */
  async withAveraged<T>(model: nn.Module, fn: () => Promise<T> | T): Promise<T> {
    const own = torch.noGrad(() =>
      Object.fromEntries(this.entries(model).map(([k, v]) => [k, torch.keep(v.detach().clone())])),
    );
    this.copyTo(model);
    try {
      return await fn();
    } finally {
      torch.noGrad(() => {
        for (const [key, current] of this.entries(model)) current.copy_(own[key]);
      });
      torch.dispose(Object.values(own));
    }
  }

  dispose(): void {
    torch.dispose([...this.averaged.values()]);
    this.averaged.clear();
  }

  /** The model's state-dict entries, checked against the averaged ones. */
  private entries(model: nn.Module): [string, Tensor][] {
    const state = Object.entries(model.stateDict());
    if (state.length !== this.averaged.size || state.some(([k]) => !this.averaged.has(k))) {
      throw new Error("ModelEma: the model's state-dict keys changed since the average was started");
    }
    return state;
  }
}
