// Intra-op parallelism of libtorch's CPU kernels.
import { native } from './native.js';

/** Sets how many threads libtorch's CPU kernels use (torch.set_num_threads). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads(): expected a positive integer, got ${n}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}
