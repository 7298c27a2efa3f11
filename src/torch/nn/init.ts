// torch.nn.init: filling parameters in place with PyTorch's initialisation schemes. Every function
// computes its bounds exactly as PyTorch 1.13 does (same float64 arithmetic, same order) and draws from
// the same generator with the same kernels, so after manualSeed(k) the values equal PyTorch's bit for bit.
import type { Tensor } from '../tensor.js';
import type { Generator } from '../random.js';
import { noGrad } from '../autograd.js';
import { tidy } from '../memory.js';
import { tensor } from '../ops/creation.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const ERF = defineOp('aten::erf(self)');
const ERFINV_ = defineOp('aten::erfinv_(self)');

/** The nonlinearities calculateGain knows (PyTorch's names). */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

export type FanMode = 'fan_in' | 'fan_out';

const LINEAR_FNS: readonly string[] = [
  'linear',
  'conv1d',
  'conv2d',
  'conv3d',
  'conv_transpose1d',
  'conv_transpose2d',
  'conv_transpose3d',
];

/**
 * The recommended gain for a nonlinearity (scales the std of kaiming/xavier init so that activations
 * keep their variance). `param` is leaky_relu's negative slope (default 0.01).
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (LINEAR_FNS.includes(nonlinearity) || nonlinearity === 'sigmoid') return 1;
  switch (nonlinearity) {
    case 'tanh':
      return 5.0 / 3;
    case 'relu':
      return Math.sqrt(2.0);
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) {
        throw new TypeError(`calculateGain(): negative_slope ${String(param)} is not a valid number`);
      }
      return Math.sqrt(2.0 / (1 + slope ** 2));
    }
    case 'selu':
      return 3.0 / 4; // found empirically by PyTorch (pytorch/pytorch#50664)
    default:
      throw new TypeError(
        `calculateGain(): unsupported nonlinearity '${String(nonlinearity)}': expected one of ` +
          `${[...LINEAR_FNS, 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'].join(', ')}`,
      );
  }
}

/**
 * [fanIn, fanOut] of a weight shaped [out, in, ...kernel] (PyTorch's _calculate_fan_in_and_fan_out):
 * each is the channel count times the receptive field size.
 */
export function fanInAndFanOut(t: Tensor): [number, number] {
  const shape = t.shape;
  if (shape.length < 2) {
    throw new RangeError(
      `fan in and fan out can not be computed for a tensor with fewer than 2 dimensions ` +
        `(got shape [${shape.join(', ')}])`,
    );
  }
  const receptiveField = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1] * receptiveField, shape[0] * receptiveField];
}

function correctFan(t: Tensor, mode: FanMode): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') {
    throw new TypeError(`mode '${String(mode)}' is not supported: expected 'fan_in' or 'fan_out'`);
  }
  const [fanIn, fanOut] = fanInAndFanOut(t);
  return mode === 'fan_in' ? fanIn : fanOut;
}

/** Fills with samples from U(a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, generator?: Generator): Tensor {
  return noGrad(() => t.uniform_(a, b, generator));
}

/** Fills with samples from N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1, generator?: Generator): Tensor {
  return noGrad(() => t.normal_(mean, std, generator));
}

export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}

export function zeros_(t: Tensor): Tensor {
  return noGrad(() => t.zero_());
}

export function ones_(t: Tensor): Tensor {
  return noGrad(() => t.fill_(1));
}

export interface KaimingOptions {
  /** The negative slope of the rectifier after this layer (leaky_relu only); default 0. */
  a?: number;
  /** 'fan_in' (default) keeps the variance of activations in the forward pass, 'fan_out' of gradients in the backward. */
  mode?: FanMode;
  /** Default 'leaky_relu' (with `a`); 'relu' for plain ReLU networks. */
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const fan = correctFan(t, o.mode ?? 'fan_in');
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He et al. (2015) uniform init: U(-bound, bound) with bound = gain * sqrt(3 / fan). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t; // PyTorch: "Initializing zero-element tensors is a no-op"
  const bound = Math.sqrt(3.0) * kaimingStd(t, options);
  return noGrad(() => t.uniform_(-bound, bound, options.generator));
}

/** He et al. (2015) normal init: N(0, std²) with std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  if (t.numel() === 0) return t;
  const std = kaimingStd(t, options);
  return noGrad(() => t.normal_(0, std, options.generator));
}

function xavierStd(t: Tensor, gain: number): number {
  const [fanIn, fanOut] = fanInAndFanOut(t);
  return gain * Math.sqrt(2.0 / (fanIn + fanOut));
}

/** Glorot & Bengio (2010) uniform init: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1, generator?: Generator): Tensor {
  const a = Math.sqrt(3.0) * xavierStd(t, gain);
  return noGrad(() => t.uniform_(-a, a, generator));
}

/** Glorot & Bengio (2010) normal init: N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1, generator?: Generator): Tensor {
  const std = xavierStd(t, gain);
  return noGrad(() => t.normal_(0, std, generator));
}

export interface TruncNormalOptions {
  mean?: number;
  std?: number;
  /** Lower cut-off (default -2). */
  a?: number;
  /** Upper cut-off (default 2). */
  b?: number;
  generator?: Generator;
}

/** erf in float64 through libtorch (JS has no Math.erf), so the bounds match Python's math.erf. */
function erf(x: number): number {
  const input = tensor(x, { dtype: 'float64' });
  const output = wrap(ERF(input));
  try {
    return output.item();
  } finally {
    input.dispose();
    output.dispose();
  }
}

/**
 * Samples from N(mean, std²) truncated to [a, b], by the inverse-CDF method PyTorch uses: uniform
 * samples between the CDF values of the cut-offs, mapped through erfinv, then clamped (for rounding).
 */
export function truncNormal_(t: Tensor, options: TruncNormalOptions = {}): Tensor {
  const { mean = 0, std = 1, a = -2, b = 2 } = options;
  if (!(a < b)) throw new RangeError(`truncNormal_(): the cut-offs must satisfy a < b, got a=${a}, b=${b}`);
  if (mean < a - 2 * std || mean > b + 2 * std) {
    process.emitWarning(
      'mean is more than 2 std from [a, b] in nn.init.truncNormal_. The distribution of values may be incorrect.',
    );
  }
  const normCdf = (x: number) => (1 + erf(x / Math.SQRT2)) / 2;
  const low = normCdf((a - mean) / std);
  const high = normCdf((b - mean) / std);
  return noGrad(() => {
    t.uniform_(2 * low - 1, 2 * high - 1, options.generator);
    ERFINV_(t);
    t.mul_(std * Math.SQRT2);
    t.add_(mean);
    return t.clamp_(a, b);
  });
}

/**
 * The Dirac delta (torch.nn.init.dirac_): a 3-, 4- or 5-dimensional convolution weight [out, in / groups,
 * ...kernel] that passes its input through, channel d of each group to output channel d of that group, for
 * the first min(out / groups, in / groups) channels; every other entry is 0.
 */
export function dirac_(t: Tensor, groups = 1): Tensor {
  if (t.ndim < 3 || t.ndim > 5)
    throw new RangeError(`dirac_(): only 3, 4 and 5 dimensional weights are supported, got ${t.ndim} dimensions`);
  const [out, inPerGroup, ...kernel] = t.shape;
  if (!Number.isSafeInteger(groups) || groups < 1 || out % groups !== 0) {
    throw new RangeError(`dirac_(): groups must be a positive divisor of the ${out} output channels, got ${groups}`);
  }
  const outPerGroup = out / groups;
  noGrad(() =>
    tidy(() => {
      t.zero_();
      for (let g = 0; g < groups; g++) {
        for (let d = 0; d < Math.min(outPerGroup, inPerGroup); d++) {
          // The kernel's centre tap of (output g·outPerGroup + d, input d); the views are freed by tidy.
          let tap = t.select(0, g * outPerGroup + d).select(0, d);
          for (const k of kernel) tap = tap.select(0, Math.floor(k / 2));
          tap.fill_(1);
        }
      }
    }),
  );
  return t;
}
