// Parsers for command-line option values, with errors that name the option and what was expected.
import { InvalidArgumentError } from 'commander';
import type { ValueKind } from '../train/config-schema.js';
import { checkThreadCount } from '../torch/index.js';

/**
 * An integer option in [min, max]. Every count or size has an upper bound, so that a typo cannot ask for
 * memory or time no machine has; a seed's is Number.MAX_SAFE_INTEGER.
 */
export function intOption(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} expects an integer in [${min}, ${max}], got '${value}'`);
    }
    return n;
  };
}

/** An integer whose range the config schema checks afterwards (its error names the field). */
function integerOption(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`${flag} expects an integer, got '${value}'`);
    }
    return n;
  };
}

/** A thread count (--threads): an integer from 1 to torch.maxThreads(), refused when the flag is parsed. */
export function threadsOption(flag = '--threads') {
  return (value: string): number => {
    const n = intOption(flag, 1, Number.MAX_SAFE_INTEGER)(value);
    try {
      checkThreadCount(n, flag);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
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

/** A comma-separated list of numbers ("0.5,0.5,0.5"). */
export function numberListOption(flag: string) {
  return (value: string): number[] => {
    const items = value.split(',').map((s) => s.trim());
    const numbers = items.map(Number);
    if (items.some((s) => s === '') || !numbers.every(Number.isFinite)) {
      throw new InvalidArgumentError(`${flag} expects comma-separated numbers such as 0.5,0.5,0.5, got '${value}'`);
    }
    return numbers;
  };
}

/** A comma-separated list of integers ("30,60,90"). */
export function intListOption(flag: string) {
  return (value: string): number[] => {
    const numbers = value.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (!numbers.every(Number.isInteger)) {
      throw new InvalidArgumentError(`${flag} expects comma-separated integers such as 30,60,90, got '${value}'`);
    }
    return numbers;
  };
}

/** A JSON object given inline ('{"type":"eca"}'). */
export function jsonObjectOption(flag: string, example: string) {
  return (value: string): Record<string, unknown> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InvalidArgumentError(`${flag} expects a JSON object such as '${example}', got '${value}' (not JSON)`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidArgumentError(`${flag} expects a JSON object such as '${example}', got '${value}'`);
    }
    return parsed as Record<string, unknown>;
  };
}

/**
 * The parser of a flag that sets a config field of this kind; none for text (taken as given) and for
 * booleans (flags without a value). Ranges are left to the config's own check, which names the field.
 */
export function valueParser(flag: string, kind: ValueKind): ((value: string) => unknown) | undefined {
  switch (kind.type) {
    case 'int':
      return integerOption(flag);
    case 'number':
      return numberOption(flag);
    case 'choice':
      return choiceOption(flag, kind.choices);
    case 'int-list':
      return intListOption(flag);
    case 'number-list':
      return numberListOption(flag);
    case 'object':
      return jsonObjectOption(flag, kind.example);
    case 'text':
    case 'boolean':
      return undefined;
  }
}
