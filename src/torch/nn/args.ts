// Checking and normalising layer constructor arguments, so that bad input fails at construction with a
// message naming the layer, the argument and what was expected (not later, deep inside libtorch).

/** An integer >= min (0 by default; -Infinity for any integer), or an Error naming `what`. */
export function checkInt(value: unknown, what: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const expected =
      min === 0
        ? 'a non-negative integer'
        : min === 1
          ? 'a positive integer'
          : min === -Infinity
            ? 'an integer'
            : `an integer >= ${min}`;
    throw new TypeError(`${what} must be ${expected}, got ${describe(value)}`);
  }
  return value;
}

/** A finite number, or an Error naming `what`. */
export function checkNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

/** A probability in [0, 1], as dropout rates are. */
export function checkProbability(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`${what} must be a probability between 0 and 1, got ${describe(value)}`);
  }
  return value;
}

/** One of the allowed strings, or an Error listing them. */
export function checkChoice<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (!allowed.includes(value as T)) {
    throw new TypeError(`${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/**
 * An int repeated n times, or a list of exactly n ints (PyTorch's _single/_pair): size-like arguments
 * such as kernel_size=3 or kernel_size=(3, 5).
 */
export function expandInts(value: number | readonly number[], n: number, what: string, min = 0): number[] {
  if (typeof value === 'number') return new Array<number>(n).fill(checkInt(value, what, min));
  if (!Array.isArray(value) || value.length !== n) {
    throw new TypeError(`${what} must be an integer or a list of ${n} integers, got ${describe(value)}`);
  }
  return value.map((v, i) => checkInt(v, `${what}[${i}]`, min));
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  return String(value);
}
