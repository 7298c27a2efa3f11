// Deterministic freeing of native tensors: scopes in the spirit of tf.tidy, usable around sync and async
// code. Each tensor created while a scope is active is recorded in it; when the scope's function ends,
// every recorded tensor that is neither returned nor kept is disposed. Scopes follow async calls through
// AsyncLocalStorage, so concurrent async scopes never free each other's tensors.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { native, type CpuCacheStats, type Handle, type MemoryStats } from './native.js';

/** What a scope needs to know of a tensor (implemented by Tensor; kept abstract to avoid an import cycle). */
export interface ScopedValue {
  readonly isDisposed: boolean;
  /** True for tensors no scope may free (parameters, buffers, optimizer state, `keep`). */
  kept: boolean;
  dispose(): void;
  /** @internal The native handle, freed by the GC safety net. */
  readonly _h: Handle;
}

/** Marks objects that scopes look for inside returned values. */
export const SCOPED = Symbol('senet.scoped');

class Scope {
  readonly values: ScopedValue[] = [];
  constructor(readonly parent: Scope | undefined) {}
}

const current = new AsyncLocalStorage<Scope>();

// The safety net for tensors that no scope will free (made outside any scope, returned from the outermost
// one, or kept): the native engine frees the tensor inside the garbage collection that finds its handle
// unreachable, so even a synchronous loop that never yields to the event loop (where FinalizationRegistry
// callbacks would wait) gets its memory back. Freeing an already disposed tensor does nothing. Tensors
// inside scopes skip it, which keeps a training step's hundreds of temporaries free of GC bookkeeping.
//
// V8 collects when its own heap fills, and only roughly when native memory grows (it is told high-water
// marks, see native/handle.cc): a loop leaking 6 MiB a step reached 870 MB in 500 steps, and kept rising.
// So the tensors left to the GC have a budget: past it, senet collects at once, and the budget becomes
// twice what survived (tensors a program really keeps cost O(log n) collections, not one per tensor).
const GC_BUDGET_TENSORS = 4096;
const GC_BUDGET_BYTES = 256 * 2 ** 20;
native.setGcBudget(GC_BUDGET_TENSORS, GC_BUDGET_BYTES);
type GcFunction = (options?: { type: 'minor' | 'major' }) => void;
let collectGarbage: GcFunction | undefined;
let warnedOfLeaks = false;

/** V8's gc(): the global one under --expose-gc, else made available once (the way test runners do it). */
function gcFunction(): GcFunction {
  const exposed = (globalThis as { gc?: GcFunction }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as GcFunction;
  setFlagsFromString('--no-expose-gc');
  return gc;
}

/** Collects garbage now, until at least half the waiting tensors are freed, and sets the next budget. */
function collectOverBudget(): void {
  const before = native.memory();
  collectGarbage ??= gcFunction();
  // A scavenge (young objects only) is cheap and frees the tensors of the last few steps; the full
  // collection, for older ones, runs only if the scavenge halved neither the tensors nor the bytes.
  // Both free the tensors during the call. (A 1-element op left to the GC: 2.2 µs with a scavenge
  // first, 6.9 µs with a full collection every 4,096 tensors.)
  collectGarbage({ type: 'minor' });
  let after = native.memory();
  if (2 * after.gcTensors > before.gcTensors && 2 * after.gcBytes > before.gcBytes) {
    collectGarbage({ type: 'major' });
    after = native.memory();
  }
  native.setGcBudget(Math.max(GC_BUDGET_TENSORS, 2 * after.gcTensors), Math.max(GC_BUDGET_BYTES, 2 * after.gcBytes));
  const freed = before.gcTensors - after.gcTensors;
  if (!warnedOfLeaks && 2 * freed >= before.gcTensors) {
    warnedOfLeaks = true;
    const mb = ((before.gcBytes - after.gcBytes) / 2 ** 20).toFixed(0);
    console.warn(
      `senet: the garbage collector had to free ${freed} tensors (${mb} MB) that were never disposed; ` +
        'senet collects each time such tensors pass a budget, which pauses the program. Free them as you go: ' +
        'wrap each step in torch.tidy(() => { ... }) or call dispose() on what you no longer need. (Shown once.)',
    );
  }
}

/** Puts a tensor that no scope owns under the GC safety net. */
export function guardWithGc(value: ScopedValue): void {
  if (native.guard(value._h)) collectOverBudget();
}

/** Records a newly created tensor in the active scope, or else puts it under the GC safety net. */
export function track(value: ScopedValue): void {
  const scope = current.getStore();
  if (scope) scope.values.push(value);
  else guardWithGc(value);
}

/** Keeps a tensor (or every tensor inside an array/object) alive past the scopes it was made in. */
export function keep<T>(value: T): T {
  forEachScoped(value, (v) => {
    v.kept = true;
  });
  return value;
}

/** Disposes every tensor inside a value (a tensor, or arrays/objects/maps of them). */
export function dispose(value: unknown): void {
  forEachScoped(value, (v) => v.dispose());
}

function isScoped(value: unknown): value is ScopedValue {
  return typeof value === 'object' && value !== null && (value as { [SCOPED]?: boolean })[SCOPED] === true;
}

function forEachScoped(value: unknown, fn: (v: ScopedValue) => void, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isScoped(value)) {
    fn(value);
  } else if (Array.isArray(value)) {
    for (const item of value) forEachScoped(item, fn, seen);
  } else if (value instanceof Map) {
    for (const item of value.values()) forEachScoped(item, fn, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) forEachScoped(item, fn, seen);
  }
}

function close(scope: Scope, result: unknown): void {
  const returned = new Set<ScopedValue>();
  forEachScoped(result, (v) => returned.add(v));
  for (const v of scope.values) {
    if (v.kept || v.isDisposed) continue;
    if (returned.has(v)) {
      if (scope.parent)
        scope.parent.values.push(v); // the caller's scope now owns it
      else guardWithGc(v);
    } else {
      v.dispose();
    }
  }
  scope.values.length = 0;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Runs `fn` in a new scope and disposes the tensors it created, except those it returns (which move to
 * the enclosing scope) and those kept. Works for async functions too: the scope closes when the promise
 * settles, and tensors created by concurrent async work outside `fn` are not affected.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Scope(current.getStore());
  let result: T;
  try {
    result = current.run(scope, fn);
  } catch (error) {
    close(scope, undefined);
    throw error;
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then(
      (value) => {
        close(scope, value);
        return value;
      },
      (error) => {
        close(scope, undefined);
        throw error;
      },
    ) as T;
  }
  close(scope, result);
  return result;
}

/**
 * Live native tensors: handles held by JS, the distinct storages they use, and those storages' bytes; of
 * them, `gcTensors` are left to the GC safety net (no scope owns them) and `gcBytes` is their storages' size.
 */
export function memory(): MemoryStats {
  return native.memory();
}

/** The caching CPU allocator's bound unless SENET_CPU_CACHE_MB or setCpuCacheLimit say otherwise. */
export const DEFAULT_CPU_CACHE_MB = 2048;
const MIB = 1024 * 1024;

/**
 * The caching CPU allocator's state: large blocks freed by tensors are kept for reuse (so training steps
 * do not page-fault their activations back in), up to the limit setCpuCacheLimit sets.
 */
export function cpuCacheStats(): CpuCacheStats {
  return native.allocatorStats();
}

/** Returns every cached (free) block to the system. */
export function emptyCache(): void {
  native.emptyCache();
}

/** How the caching CPU allocator is bounded: `bytes` (0: caching off), and whether it may follow the peak. */
export interface CpuCacheSetting {
  bytes: number;
  /**
   * Also let blocks in use plus blocks cached reach twice the peak of bytes ever in use at once: a step larger
   * than the limit (a batch of 1024 at 32×32 holds GBs of activations) then reuses every block, and memory stays
   * bounded by what the program itself needed, flat over a loop.
   */
  followPeak: boolean;
}

/**
 * Bounds how many bytes of freed large blocks the caching CPU allocator keeps; 0 turns caching off (and
 * empties the cache). A call sets a fixed bound unless `followPeak` is asked for. At load it is set from
 * SENET_CPU_CACHE_MB: unset, 2048 MiB following the peak; a number of MiB, that fixed bound.
 */
export function setCpuCacheLimit(bytes: number, options: { followPeak?: boolean } = {}): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`setCpuCacheLimit(): expected a non-negative whole number of bytes, got ${bytes}`);
  }
  native.setCpuCacheLimit(bytes, options.followPeak === true);
}

/** The cache setting SENET_CPU_CACHE_MB asks for (MiB, a fixed bound; unset or empty: the default, following the peak). */
export function cpuCacheFromEnv(env: NodeJS.ProcessEnv = process.env): CpuCacheSetting {
  const text = env.SENET_CPU_CACHE_MB?.trim();
  if (!text) return { bytes: DEFAULT_CPU_CACHE_MB * MIB, followPeak: true };
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text) * MIB)) {
    throw new Error(`SENET_CPU_CACHE_MB must be a whole number of MiB (0 turns the CPU cache off), got '${text}'`);
  }
  return { bytes: Number(text) * MIB, followPeak: false };
}

// Before any tensor exists: the allocator serves every tensor from the first one on.
{
  const { bytes, followPeak } = cpuCacheFromEnv();
  setCpuCacheLimit(bytes, { followPeak });
}
