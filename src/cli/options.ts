// Parsers for command-line option values, with errors that name the option and what was expected.
import { InvalidArgumentError } from 'commander';

/** An integer option at least `min`. */
export function intOption(flag: string, min = Number.MIN_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${flag} expects an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ''}, got '${value}'`);
    }
    return n;
  };
}

/** A finite number option, optionally at least `min`. */
export function numberOption(flag: string, min = -Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) {
      throw new InvalidArgumentError(`${flag} expects a number${min > -Infinity ? ` >= ${min}` : ''}, got '${value}'`);
    }
    return n;
  };
}

/** One of a fixed set of words. */
export function choiceOption<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${flag} expects one of ${choices.join(', ')}, got '${value}'`);
    }
    return value as T;
  };
}
