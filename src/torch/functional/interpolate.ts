// Resizing the spatial dimensions of [N, C, ...] input (torch.nn.functional.interpolate).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap, type OpFn } from '../ops/dispatch.js';

const NEAREST: Record<number, OpFn> = {
  1: defineOp('aten::upsample_nearest1d.vec(input, output_size, scale_factors)'),
  2: defineOp('aten::upsample_nearest2d.vec(input, output_size, scale_factors)'),
  3: defineOp('aten::upsample_nearest3d.vec(input, output_size, scale_factors)'),
};
const BILINEAR = defineOp('aten::upsample_bilinear2d.vec(input, output_size, align_corners, scale_factors)');
const BILINEAR_AA = defineOp('aten::_upsample_bilinear2d_aa.vec(input, output_size, align_corners, scale_factors)');

export type InterpolateMode = 'nearest' | 'bilinear';
const MODES: readonly InterpolateMode[] = ['nearest', 'bilinear'];

export interface InterpolateOptions {
  /** The output's spatial size: one number for every spatial dimension, or one per dimension. */
  size?: number | readonly number[];
  /** Multiplies each spatial size (the output size is floor(size × factor)); one number or one per dimension. */
  scaleFactor?: number | readonly number[];
  /** 'nearest' (default; 3-D, 4-D or 5-D input) or 'bilinear' (4-D input). */
  mode?: InterpolateMode;
  /**
   * Bilinear only: align the centres of the corner pixels of input and output (true) or their outer edges
   * (false, the default, as PyTorch's).
   */
  alignCorners?: boolean;
  /**
   * With scaleFactor: compute the output size first and interpolate for that size, instead of using the
   * factor itself to map output to input coordinates (PyTorch's recompute_scale_factor).
   */
  recomputeScaleFactor?: boolean;
  /** Bilinear only: widen the kernel when shrinking so that every input pixel counts (PIL's resize; default false). */
  antialias?: boolean;
}

/**
 * Resizes the spatial dimensions of `input` ([N, C, L], [N, C, H, W] or [N, C, D, H, W]) to `size`, or by
 * `scaleFactor`, by nearest-neighbour or bilinear interpolation, as torch.nn.functional.interpolate.
 */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const mode = options.mode ?? 'nearest';
  if (!MODES.includes(mode)) {
    throw new TypeError(`interpolate(): mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got '${mode}'`);
  }
  const spatial = input.ndim - 2;
  if (mode === 'bilinear' ? spatial !== 2 : spatial < 1 || spatial > 3) {
    const expected = mode === 'bilinear' ? '4-D input [N, C, H, W]' : '3-D, 4-D or 5-D input [N, C, ...]';
    throw new RangeError(
      `interpolate(): mode '${mode}' expects ${expected}, got input of shape [${input.shape.join(', ')}]`,
    );
  }
  if (options.alignCorners !== undefined && mode === 'nearest') {
    throw new TypeError("interpolate(): alignCorners can only be set with mode 'bilinear'");
  }
  if (options.antialias && mode === 'nearest') {
    throw new TypeError("interpolate(): antialias can only be set with mode 'bilinear'");
  }
  const { size, scaleFactor } = options;
  if ((size === undefined) === (scaleFactor === undefined)) {
    throw new TypeError('interpolate(): give exactly one of size and scaleFactor');
  }
  let outputSize: number[] | null = null;
  let scales: number[] | null = null;
  if (size !== undefined) {
    outputSize = perDimension(size, spatial, 'size', (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  } else {
    scales = perDimension(
      scaleFactor!,
      spatial,
      'scaleFactor',
      (v) => Number.isFinite(v) && v > 0,
      'a positive number',
    );
    if (options.recomputeScaleFactor) {
      const shape = input.shape;
      outputSize = scales.map((s, i) => Math.floor(shape[i + 2] * s));
      scales = null;
    }
  }
  if (mode === 'bilinear') {
    const op = options.antialias ? BILINEAR_AA : BILINEAR;
    return wrap(op(input, outputSize, options.alignCorners ?? false, scales));
  }
  return wrap(NEAREST[spatial](input, outputSize, scales));
}

/** One value per spatial dimension from a number or a list, each checked. */
function perDimension(
  value: number | readonly number[],
  spatial: number,
  what: string,
  valid: (v: number) => boolean,
  expected: string,
): number[] {
  const values =
    typeof value === 'number' ? new Array<number>(spatial).fill(value) : Array.isArray(value) ? [...value] : [];
  if (values.length !== spatial || !values.every((v) => typeof v === 'number' && valid(v))) {
    throw new TypeError(
      `interpolate(): ${what} must be ${expected} or a list of ${spatial} (one per spatial dimension), ` +
        `got ${JSON.stringify(value)}`,
    );
  }
  return values;
}
