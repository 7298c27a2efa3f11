// nn.SyncBatchNorm: batch normalisation whose training statistics are those of the global batch (every rank's
// samples), as PyTorch's SyncBatchNorm. Forward all-reduces each channel's count and sum, which gives the global
// mean μ, then the sums of (x − μ) and (x − μ)² (waiting all-reduces, since forward is synchronous); the variance
// from data shifted by its own mean has none of E[x²] − E[x]²'s cancellation, so it holds for inputs far from
// zero as PyTorch's Welford statistics do. Backward sums the gradient of the shifted sums over the ranks (a
// gradient hook), which makes each rank's input gradient that of the global batch (μ is a constant there: the
// variance's derivative through it is zero). With one process, or in eval, it is BatchNorm.
import { native } from '../../native.js';
import * as dist from '../../distributed/process-group.js';
import { cat } from '../../ops/shape.js';
import { full } from '../../ops/creation.js';
import { noGrad } from '../../autograd.js';
import type { Tensor } from '../../tensor.js';
import { BatchNormNd, type BatchNormOptions } from '../batchnorm.js';
import type { Module } from '../module.js';

export class SyncBatchNorm extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected checkInputDim(input: Tensor): void {
    if (input.dim() < 2)
      throw new Error(`SyncBatchNorm: expected an input of 2 or more dimensions, got ${input.dim()}`);
  }

  override forward(input: Tensor): Tensor {
    if (!this.training || !dist.isInitialized()) return super.forward(input);
    this.checkInputDim(input);
    const c = this.numFeatures;
    const dims = [0, ...Array.from({ length: input.dim() - 2 }, (_, i) => i + 2)];
    const shape = [1, c, ...Array.from({ length: input.dim() - 2 }, () => 1)];
    const group = dist.nativeGroup();
    // The global mean, a constant shift for the sums below.
    const totals = noGrad(() => cat([input.detach().sum(dims), full([1], input.numel() / c)]));
    native.distAllReduceNow(group, totals._h);
    const n = (totals.data() as Float32Array)[c];
    const shift = noGrad(() => totals.narrow(0, 0, c).div(n));
    const centred = input.sub(shift.reshape(shape));
    const local = cat([centred.sum(dims), centred.mul(centred).sum(dims)]);
    const summed = noGrad(() => local.detach().clone());
    native.distAllReduceNow(group, summed._h);
    if (local.requiresGrad) native.distAllReduceGradHook(group, local._h);
    // The global sums as values, with the local sums' gradient path (summed over ranks by the hook).
    const global = local.add(summed.sub(local.detach()));
    const offset = global.narrow(0, 0, c).div(n); // the mean's tiny remainder after the shift (and its gradient)
    const mean = shift.add(offset);
    const variance = global.narrow(0, c, c).div(n).sub(offset.mul(offset));
    if (this.trackRunningStats && this.running_mean && this.running_var && this.num_batches_tracked) {
      noGrad(() => {
        this.num_batches_tracked!.add_(1);
        const m = this.momentum ?? 1 / (this.num_batches_tracked!.item() as number);
        const unbiased = variance.detach().mul(n / Math.max(n - 1, 1));
        this.running_mean!.mul_(1 - m).add_(mean.detach().mul(m));
        this.running_var!.mul_(1 - m).add_(unbiased.mul(m));
      });
    }
    let out = input.sub(mean.reshape(shape)).div(variance.add(this.eps).sqrt().reshape(shape));
    if (this.weight) out = out.mul(this.weight.reshape(shape));
    if (this.bias) out = out.add(this.bias.reshape(shape));
    return out;
  }

  /**
   * Replaces every BatchNorm in `module` by a SyncBatchNorm holding the same parameters and running statistics
   * (PyTorch's convert_sync_batchnorm); returns the module (a BatchNorm itself comes back converted).
   */
  static convert<M extends Module>(module: M): M {
    if (module instanceof BatchNormNd && !(module instanceof SyncBatchNorm)) return SyncBatchNorm.from(module) as never;
    for (const [name, child] of module.namedChildren()) {
      const converted = SyncBatchNorm.convert(child);
      if (converted === child) continue;
      const holder = module as unknown as Record<string, unknown>;
      if (holder[name] === child) holder[name] = converted;
      else module.registerModule(name, converted);
    }
    return module;
  }

  private static from(bn: BatchNormNd): SyncBatchNorm {
    const sync = new SyncBatchNorm(bn.numFeatures, {
      eps: bn.eps,
      momentum: bn.momentum,
      affine: bn.affine,
      trackRunningStats: bn.trackRunningStats,
    });
    sync.weight = bn.weight;
    sync.bias = bn.bias;
    sync.running_mean = bn.running_mean;
    sync.running_var = bn.running_var;
    sync.num_batches_tracked = bn.num_batches_tracked;
    sync.train(bn.training);
    return sync;
  }
}
