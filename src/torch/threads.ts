// Intra-op parallelism of libtorch's CPU kernels, and the bound on how many threads may be asked for.
import { availableParallelism } from 'node:os';
import { native } from './native.js';

/**
 * The most threads setNumThreads accepts: 4 per core, and never more than 1024. More only oversubscribes
 * the cores, and a typo such as `--threads 100000` would have libtorch start a pool that takes minutes.
 */
export function maxThreads(): number {
  return Math.min(1024, 4 * availableParallelism());
}

/** Refuses a thread count that is not an integer in [1, maxThreads()], naming `what` asked for it. */
export function checkThreadCount(n: number, what: string): void {
  const max = maxThreads();
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new RangeError(
      `${what}: expected a whole number of threads from 1 to ${max} (4 per core on this ` +
        `machine's ${availableParallelism()} cores, at most 1024), got ${n}`,
    );
  }
}

/** Sets how many threads libtorch's CPU kernels use (torch.set_num_threads). */
export function setNumThreads(n: number): void {
  checkThreadCount(n, 'setNumThreads()');
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}
