// Ctrl-C (SIGINT) and SIGTERM (docker stop, systemd, Slurm preemption) for the long-running commands
// (train, run, tune): the first signal asks the work to stop at its next safe point (after the current
// step, with a checkpoint); a second one quits at once. The command then exits with the shell's code for
// the signal (130 for SIGINT, 143 for SIGTERM), so that a supervisor sees the run was stopped.
export type StopSignal = 'SIGINT' | 'SIGTERM';

const SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

/** The exit code of a command stopped by this signal: 128 + its number, as shells report it. */
export function exitCodeOf(signal: StopSignal): number {
  return signal === 'SIGINT' ? 130 : 143;
}

export interface InterruptMessages {
  /**
   * What happens now, printed on the first signal (it may depend on the phase the work is in), e.g.
   * "Stopping after the current step to save a checkpoint"; " (Ctrl-C again to quit at once)..." is added.
   */
  stopping: string | (() => string);
  /** Printed (after "senet: ") on the second signal, before exiting with the signal's code. */
  quit: string;
}

export interface Interrupted<T> {
  result: T;
  /** The signal that asked the work to stop, if one came. */
  stoppedBy: StopSignal | null;
}

/**
 * Runs `work` with an abort signal that the first SIGINT or SIGTERM fires (its reason is the signal's
 * name); `beforeQuit` runs before a second signal exits.
 */
export async function withInterrupt<T>(
  messages: InterruptMessages,
  work: (signal: AbortSignal) => Promise<T>,
  beforeQuit?: () => void,
): Promise<Interrupted<T>> {
  const controller = new AbortController();
  let stoppedBy: StopSignal | null = null;
  const onSignal = (signal: StopSignal) => {
    if (stoppedBy !== null) {
      beforeQuit?.();
      process.stderr.write(`\nsenet: ${messages.quit}\n`);
      process.exit(exitCodeOf(signal));
    }
    stoppedBy = signal;
    controller.abort(signal);
    const stopping = typeof messages.stopping === 'function' ? messages.stopping() : messages.stopping;
    const again = signal === 'SIGINT' ? 'Ctrl-C again' : 'SIGTERM received; send it again';
    process.stderr.write(`\n${stopping} (${again} to quit at once)...\n`);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    return { result: await work(controller.signal), stoppedBy };
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}
