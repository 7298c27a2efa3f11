// Runs a function with a thread-local engine mode switched on (grad mode, autocast) and puts the previous
// mode back afterwards, also when the function throws. An async function keeps the mode until its promise
// settles, as torch.no_grad() / torch.autocast do under asyncio: everything that runs in between sees it.

/** Calls `enter()`, runs `fn`, then `restore()` when `fn` returns, throws, or its promise settles. */
export function withScopedMode<T>(enter: () => void, restore: () => void, fn: () => T): T {
  enter();
  let result: T;
  try {
    result = fn();
  } catch (error) {
    restore();
    throw error;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}
