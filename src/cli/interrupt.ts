// Ctrl-C for the long-running commands (train, run, tune): the first press asks the work to stop at its
// next safe point (after the current step, with a checkpoint); a second press quits at once.
export interface InterruptMessages {
  /** Printed on the first press. */
  stopping: string;
  /** Printed (after "senet: ") on the second press, before exiting with code 130. */
  quit: string;
}

/** Runs `work` with an abort signal that the first Ctrl-C fires; `beforeQuit` runs before a second press exits. */
export async function withInterrupt<T>(
  messages: InterruptMessages,
  work: (signal: AbortSignal) => Promise<T>,
  beforeQuit?: () => void,
): Promise<T> {
  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts > 1) {
      beforeQuit?.();
      process.stderr.write(`\nsenet: ${messages.quit}\n`);
      process.exit(130);
    }
    controller.abort();
    process.stderr.write(`\n${messages.stopping}\n`);
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
