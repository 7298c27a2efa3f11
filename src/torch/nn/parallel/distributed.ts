// nn.parallel.DistributedDataParallel: data-parallel training over the default process group. The gradient
// averaging is c10d's own DDP Reducer (in libtorch): it hooks every parameter's gradient accumulator, packs
// gradients into buckets (about 25 MiB, the first 1 MiB, in reverse parameter order) and all-reduces each bucket
// as soon as backward has produced all of its gradients, so communication overlaps the rest of backward; when
// backward returns, every rank holds the average gradient. Parameters and buffers are broadcast from rank 0 when
// the wrapper is made, so every rank starts from the same weights. `gradientReduction: 'hooks'` does the same
// bucketing from autograd hooks of senet's own (native/distributed.cc), kept for bench/distributed-scaling.ts, which
// measures the two against each other (bench/results/distributed.md): the Reducer stays the default.
import { isGradEnabled } from '../../autograd.js';
import { native, type DistHooks, type DistReducer } from '../../native.js';
import * as dist from '../../distributed/process-group.js';
import { cat } from '../../ops/shape.js';
import { noGrad } from '../../autograd.js';
import { tidy } from '../../memory.js';
import { Module } from '../module.js';
import type { Tensor } from '../../tensor.js';

export interface DistributedDataParallelOptions {
  /** Bucket size in MiB (PyTorch's bucket_cap_mb, default 25). */
  bucketCapMb?: number;
  /**
   * Whether syncBuffers() copies rank 0's buffers (BatchNorm's running statistics) to every rank (default true).
   * PyTorch does it before every forward; forward here is synchronous, so it is a call of its own: `senet train`
   * makes it before each evaluation, the only place other ranks' statistics are used.
   */
  broadcastBuffers?: boolean;
  /** Who buckets and all-reduces the gradients: c10d's Reducer (default) or senet's own autograd hooks. */
  gradientReduction?: GradientReduction;
}

export type GradientReduction = 'reducer' | 'hooks';
export const GRADIENT_REDUCTIONS: readonly GradientReduction[] = ['reducer', 'hooks'];

/** PyTorch's DDP defaults: 25 MiB buckets, the first one 1 MiB so that communication starts early. */
const DEFAULT_BUCKET_CAP_MB = 25;
const FIRST_BUCKET_BYTES = 1024 * 1024;

/** Copies rank 0's tensors into every rank's, as one flat broadcast per dtype. */
export async function broadcastTensors(tensors: readonly Tensor[], src = 0): Promise<void> {
  const byDtype = new Map<string, Tensor[]>();
  for (const t of tensors) byDtype.set(t.dtype, [...(byDtype.get(t.dtype) ?? []), t]);
  for (const group of byDtype.values()) {
    const flat = tidy(() => noGrad(() => cat(group.map((t) => t.detach().reshape([-1])))));
    try {
      await dist.broadcast(flat, src);
      tidy(() =>
        noGrad(() => {
          let offset = 0;
          for (const t of group) {
            const n = t.numel();
            t.detach().copy_(flat.narrow(0, offset, n).reshape(t.shape));
            offset += n;
          }
        }),
      );
    } finally {
      flat.dispose();
    }
  }
}

export class DistributedDataParallel<M extends Module> extends Module {
  readonly module: M;
  readonly broadcastBuffers: boolean;
  readonly gradientReduction: GradientReduction;
  private readonly reducer: DistReducer | null;
  private readonly hooks: DistHooks | null;
  private requireSync = true;

  private constructor(module: M, options: DistributedDataParallelOptions) {
    super();
    const cap = options.bucketCapMb ?? DEFAULT_BUCKET_CAP_MB;
    if (!(cap > 0)) throw new Error(`DistributedDataParallel: bucketCapMb must be positive, got ${cap}`);
    const params = module.parameters().filter((p) => p.requiresGrad);
    if (params.length === 0) throw new Error('DistributedDataParallel: the module has no parameter that requires grad');
    this.module = module;
    this.registerModule('module', module);
    this.broadcastBuffers = options.broadcastBuffers ?? true;
    this.gradientReduction = options.gradientReduction ?? 'reducer';
    if (!GRADIENT_REDUCTIONS.includes(this.gradientReduction)) {
      throw new Error(
        `DistributedDataParallel: gradientReduction must be ${GRADIENT_REDUCTIONS.map((r) => `'${r}'`).join(' or ')}, ` +
          `got '${this.gradientReduction}'`,
      );
    }
    const make = this.gradientReduction === 'hooks' ? native.distHookBuckets : native.distReducer;
    const made = make(
      dist.nativeGroup(),
      params.map((p) => p._h),
      Math.round(cap * 1024 * 1024),
      FIRST_BUCKET_BYTES,
    );
    this.reducer = this.gradientReduction === 'reducer' ? (made as DistReducer) : null;
    this.hooks = this.gradientReduction === 'hooks' ? (made as DistHooks) : null;
  }

  /**
   * Wraps `module` for data-parallel training (every rank must call it, with the same model): resolves once
   * rank 0's parameters and buffers have been copied to every rank.
   */
  static async create<M extends Module>(
    module: M,
    options: DistributedDataParallelOptions = {},
  ): Promise<DistributedDataParallel<M>> {
    if (!dist.isInitialized()) {
      throw new Error('DistributedDataParallel: call distributed.initProcessGroup() first');
    }
    await broadcastTensors([...module.parameters(), ...module.buffers()]);
    return new DistributedDataParallel(module, options);
  }

  /** Gradient buckets the Reducer made (null with gradientReduction 'hooks'). */
  get bucketCount(): number | null {
    return this.reducer ? native.distReducerBuckets(this.reducer) : null;
  }

  /** Runs the wrapped module; when gradients will be synchronised, tells the Reducer to expect a backward. */
  forward(...inputs: unknown[]): unknown {
    if (isGradEnabled() && this.requireSync) {
      if (this.reducer) native.distReducerPrepare(this.reducer);
      else native.distHookBucketsPrepare(this.hooks!);
    }
    return (this.module.call as (...a: unknown[]) => unknown)(...inputs);
  }

  /**
   * Buffers (BatchNorm running statistics) from rank 0, as PyTorch's DDP does before every forward with
   * broadcast_buffers; call it before forward when the model has buffers (a collective: every rank calls it).
   */
  async syncBuffers(): Promise<void> {
    const buffers = this.module.buffers();
    if (this.broadcastBuffers && buffers.length > 0 && dist.getWorldSize() > 1) await broadcastTensors(buffers);
  }

  /**
   * Gradient accumulation: backward passes inside `fn` only add to the local gradients; the first synchronised
   * backward after it averages everything accumulated (PyTorch's no_sync()).
   */
  async noSync<T>(fn: () => T | Promise<T>): Promise<T> {
    const before = this.requireSync;
    this.requireSync = false;
    try {
      return await fn();
    } finally {
      this.requireSync = before;
    }
  }
}
