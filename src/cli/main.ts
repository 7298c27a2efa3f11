// The `senet` command line: one sub-command per file in ./commands, wired here.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { commands } from './commands/index.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Where the CLI reports errors (stderr; tests pass their own). */
export interface ErrorOutput {
  writeErr(text: string): void;
}

const STDERR: ErrorOutput = { writeErr: (text) => process.stderr.write(text) };

/** "senet: <message>" on one line, as every error is reported. */
function errorLine(message: string): string {
  return `senet: ${message
    .replace(/^error: /, '')
    .trim()
    .replace(/\s*\n\s*/g, ' ')}\n`;
}

export function buildProgram(output: ErrorOutput = STDERR): Command {
  const program = new Command('senet')
    .description('Squeeze-and-Excitation networks on libtorch: train, evaluate, tune, report, deploy')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({
      writeErr: (text) => output.writeErr(text),
      outputError: (message, write) => write(errorLine(message)),
    });
  for (const register of commands) register(program);
  return program;
}

/**
 * Runs the CLI on `argv` and returns the exit code for errors (0 when the command succeeded; a command
 * may still set process.exitCode, as `train` does after Ctrl-C). Errors are reported as one line, the
 * message, with the stack trace only when SENET_DEBUG is set.
 */
export async function execute(argv: readonly string[], output: ErrorOutput = STDERR): Promise<number> {
  try {
    await buildProgram(output).parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode; // commander has reported it already
    output.writeErr(errorLine(error instanceof Error ? error.message : String(error)));
    if (process.env.SENET_DEBUG && error instanceof Error) output.writeErr(`${error.stack}\n`);
    return 1;
  }
}

/** The `senet` program: runs the CLI and sets the process's exit code. */
export async function main(argv = process.argv): Promise<void> {
  const code = await execute(argv);
  if (code !== 0) process.exitCode = code;
}
