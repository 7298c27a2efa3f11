// nn.Upsample: F.interpolate as a layer (nearest or bilinear, to a size or by a factor).
import type { Tensor } from '../tensor.js';
import * as F from '../functional/index.js';
import { Module } from './module.js';
import { checkChoice } from './args.js';
import { pyFloat, pyIntOrTuple } from './repr.js';

export type UpsampleOptions = F.InterpolateOptions;

export class Upsample extends Module {
  readonly size: number | readonly number[] | null;
  readonly scaleFactor: number | readonly number[] | null;
  readonly mode: F.InterpolateMode;
  readonly alignCorners: boolean | null;
  readonly recomputeScaleFactor: boolean | null;

  /** The same options as F.interpolate; they are checked against the input's shape at the first call. */
  constructor(options: UpsampleOptions) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('Upsample: expected options such as { scaleFactor: 2 } or { size: [32, 32] }');
    }
    if ((options.size === undefined) === (options.scaleFactor === undefined)) {
      throw new TypeError('Upsample: give exactly one of size and scaleFactor');
    }
    this.size = options.size ?? null;
    this.scaleFactor = options.scaleFactor ?? null;
    this.mode = checkChoice(options.mode ?? 'nearest', ['nearest', 'bilinear'], 'Upsample: mode');
    this.alignCorners = options.alignCorners ?? null;
    this.recomputeScaleFactor = options.recomputeScaleFactor ?? null;
  }

  forward(input: Tensor): Tensor {
    return F.interpolate(input, {
      size: this.size ?? undefined,
      scaleFactor: this.scaleFactor ?? undefined,
      mode: this.mode,
      alignCorners: this.alignCorners ?? undefined,
      recomputeScaleFactor: this.recomputeScaleFactor ?? undefined,
    });
  }

  override extraRepr(): string {
    // PyTorch keeps the scale factor as float(s) and prints the mode without quotes.
    const info =
      this.scaleFactor !== null
        ? `scale_factor=${
            typeof this.scaleFactor === 'number'
              ? pyFloat(this.scaleFactor)
              : `(${this.scaleFactor.map(pyFloat).join(', ')}${this.scaleFactor.length === 1 ? ',' : ''})`
          }`
        : `size=${pyIntOrTuple(this.size!)}`;
    return `${info}, mode=${this.mode}`;
  }
}
