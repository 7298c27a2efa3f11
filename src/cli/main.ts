// The `senet` command line: one sub-command per file in ./commands, wired here.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { commands } from './commands/index.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('senet')
    .description('Squeeze-and-Excitation networks on libtorch: train, evaluate, tune, report, deploy')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI; errors print as one line (the message) and set a non-zero exit code. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    console.error(`senet: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.SENET_DEBUG && error instanceof Error) console.error(error.stack);
    process.exitCode = 1;
  }
}

