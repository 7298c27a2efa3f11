// How many hidden units an SE excitation gets for C channels and reduction ratio r. Two rules are in use:
// the paper's code (and the seed program) take ⌊C/r⌋, at least 1; timm rounds C/r to a multiple of 8
// (hardware-friendly widths), which is also how its pretrained SE-ResNets are shaped.

/** The rule for the reduced width: 'floor' = max(1, ⌊C/r⌋); 'divisible' = timm's makeDivisible(C/r, 8). */
export type ReducedWidthRule = 'floor' | 'divisible';

export interface MakeDivisibleOptions {
  /** The smallest result (default: the divisor). */
  minValue?: number;
  /**
   * If rounding lost more than this fraction of v, one divisor is added back (default 0.9: never go
   * below 90% of v). timm's SE modules pass 0, which disables the correction.
   */
  roundLimit?: number;
}

/**
 * timm's make_divisible: v rounded to the nearest multiple of `divisor` (halves up), at least `minValue`,
 * and not below roundLimit·v. E.g. makeDivisible(4) = 8, makeDivisible(12) = 16, makeDivisible(11) = 16.
 */
export function makeDivisible(v: number, divisor = 8, options: MakeDivisibleOptions = {}): number {
  const minValue = options.minValue ?? divisor;
  const roundLimit = options.roundLimit ?? 0.9;
  // Python's int(v + divisor / 2) // divisor * divisor, for v >= 0.
  let rounded = Math.max(minValue, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (rounded < roundLimit * v) rounded += divisor;
  return rounded;
}

/**
 * The hidden width of an SE excitation for `channels` and `reduction`. 'divisible' follows timm's
 * SEModule exactly, which calls make_divisible(C/r, 8, round_limit=0) (so no 90% correction).
 */
export function reducedWidth(channels: number, reduction: number, rule: ReducedWidthRule): number {
  if (rule === 'divisible') return makeDivisible(channels / reduction, 8, { roundLimit: 0 });
  return Math.max(1, Math.floor(channels / reduction));
}
