// Mixed precision on the CPU, as torch.autocast('cpu', dtype=torch.bfloat16): inside `autocast(fn)`,
// libtorch runs the ops on its autocast list (convolutions, matmuls, linear layers) in bfloat16 and the
// precision-sensitive ones (losses, reductions, softmax) in float32. Parameters stay float32.
import { native } from './native.js';
import { dtypeCode, type DType } from './dtype.js';
import { withScopedMode } from './scoped-mode.js';

export function isAutocastEnabled(): boolean {
  return native.isAutocastCpu();
}

/**
 * Runs `fn` with CPU autocast on (sync or async; like torch.autocast under asyncio, the mode holds for
 * everything that runs until the promise settles). Only bfloat16 is supported on the CPU.
 */
export function autocast<T>(fn: () => T, dtype: DType = 'bfloat16'): T {
  if (dtype !== 'bfloat16') throw new TypeError(`autocast(): the CPU supports bfloat16 only, got '${dtype}'`);
  const previous = native.isAutocastCpu();
  return withScopedMode(
    () => native.setAutocastCpu(true, dtypeCode(dtype)),
    () => native.setAutocastCpu(previous),
    fn,
  );
}
