// Every sub-command registers itself on the program; add new commands to this list.
import type { Command } from 'commander';
import { registerBench } from './bench.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerBench];
