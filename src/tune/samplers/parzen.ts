// Parzen estimators, the densities TPE compares: a weighted mixture of one kernel per observed value plus
// a broad prior kernel, in the space the sampler searches (log space for log parameters).
//   Numbers: normal kernels truncated to the range, each as wide as the larger gap to its neighbouring
//   observations (adaptive bandwidth), clipped to [range / min(100, n + 1), range]; the prior kernel sits
//   in the middle with the width of the whole range. Stepped and integer parameters are scored by the
//   mass of the bin around each value rather than by a density.
//   Choices: each observation puts weight 1 on its choice and priorWeight / K on every choice (smoothed
//   counts); the prior is uniform.
// The prior keeps every density positive, so log-ratios are always finite.
import { snapToStep, type NumericParam } from '../space.js';
import type { Rng } from '../rng.js';

// ---- the standard normal distribution ----

/**
 * erfc(x) to about 1e-14 relative: below 1.5 from erf's series with positive terms (no cancellation),
 * erf(x) = 2/√π · e^(−x²) · Σ 2^n x^(2n+1) / (1·3·…·(2n+1)); from 1.5 up from the continued fraction
 * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …)))) (100 terms), accurate far into
 * the tail where 1 − erf(x) would lose its digits.
 */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 1.5) {
    let term = x;
    let sum = x;
    for (let n = 1; term > sum * 1e-17; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  let fraction = x;
  for (let k = 100; k >= 1; k--) fraction = x + k / 2 / fraction;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * fraction);
}

/** P(Z ≤ b) − P(Z ≤ a) for a ≤ b, computed on the side of zero where it does not cancel. */
function normalMass(a: number, b: number): number {
  if (a >= 0) return 0.5 * (erfc(a / Math.SQRT2) - erfc(b / Math.SQRT2));
  if (b <= 0) return 0.5 * (erfc(-b / Math.SQRT2) - erfc(-a / Math.SQRT2));
  return 1 - 0.5 * (erfc(-a / Math.SQRT2) + erfc(b / Math.SQRT2));
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

function logSumExp(values: readonly number[]): number {
  const max = Math.max(...values);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(values.reduce((s, v) => s + Math.exp(v - max), 0));
}

// ---- where a numeric parameter is searched ----

/** A numeric parameter's search interval and how values map into it. */
export interface NumericScale {
  low: number;
  high: number;
  /** Stepped and integer values are scored by the mass of their bin. */
  discrete: boolean;
  toInternal(value: number): number;
  /** An internal point back to a valid value of the parameter. */
  fromInternal(point: number): number;
  /** The internal interval a (discrete) value owns. */
  bin(value: number): [number, number];
}

export function numericScale(param: NumericParam): NumericScale {
  // Each grid value owns the interval of one step around it, so the end values are as likely as the rest.
  const half = param.step === null ? 0 : param.step / 2;
  const discrete = param.step !== null;
  if (param.log) {
    return {
      low: Math.log(param.low - half),
      high: Math.log(param.high + half),
      discrete,
      toInternal: Math.log,
      fromInternal: (u) => snapToStep(param, Math.exp(u)),
      bin: (v) => [Math.log(v - half), Math.log(v + half)],
    };
  }
  return {
    low: param.low - half,
    high: param.high + half,
    discrete,
    toInternal: (v) => v,
    fromInternal: (u) => snapToStep(param, u),
    bin: (v) => [v - half, v + half],
  };
}

/** Mixture weights: the observations' own, then the prior's; normalised to sum to 1. */
function normalizedWeights(observationWeights: readonly number[], priorWeight: number): number[] {
  const all = [...observationWeights, priorWeight];
  const total = all.reduce((a, b) => a + b, 0);
  return all.map((w) => w / total);
}

// ---- numeric estimator ----

export class NumericParzen {
  private readonly weights: number[];
  private readonly mus: number[];
  private readonly sigmas: number[];
  /** log of each truncated kernel's mass inside [low, high]. */
  private readonly logMass: number[];

  /** `observations` are internal points (scale.toInternal), `observationWeights` their weights. */
  constructor(
    private readonly scale: NumericScale,
    observations: readonly number[],
    observationWeights: readonly number[],
    priorWeight: number,
  ) {
    const { low, high } = scale;
    const range = high - low;
    this.mus = [...observations, (low + high) / 2];
    this.weights = normalizedWeights(observationWeights, priorWeight);
    const order = this.mus.map((_, i) => i).sort((a, b) => this.mus[a] - this.mus[b]);
    const n = this.mus.length;
    const minSigma = range / Math.min(100, n);
    this.sigmas = new Array<number>(n);
    order.forEach((index, rank) => {
      const left = rank > 0 ? this.mus[index] - this.mus[order[rank - 1]] : -Infinity;
      const right = rank < n - 1 ? this.mus[order[rank + 1]] - this.mus[index] : -Infinity;
      // The widest gap to a neighbour; the end kernels look inwards only (the range's end is no observation).
      const gap = Math.max(left, right);
      this.sigmas[index] = Math.min(range, Math.max(minSigma, Number.isFinite(gap) ? gap : range));
    });
    this.sigmas[n - 1] = range; // the prior covers the whole range
    this.logMass = this.mus.map((mu, i) =>
      Math.log(normalMass((low - mu) / this.sigmas[i], (high - mu) / this.sigmas[i])),
    );
  }

  /** A point drawn from the mixture, as a value of the parameter. */
  sample(rng: Rng): number {
    const i = rng.weighted(this.weights);
    const { low, high } = this.scale;
    for (let attempt = 0; attempt < 100; attempt++) {
      // Every kernel has at least a third of its mass inside (its centre is inside, its width at most the
      // range), so rejection ends quickly.
      const x = this.mus[i] + this.sigmas[i] * rng.normal();
      if (x >= low && x <= high) return this.scale.fromInternal(x);
    }
    return this.scale.fromInternal(rng.between(low, high));
  }

  /** log density at a value (log mass of its bin for discrete parameters). */
  logPdf(value: number): number {
    const terms = this.mus.map((mu, i) => {
      const sigma = this.sigmas[i];
      let logKernel: number;
      if (this.scale.discrete) {
        const [a, b] = this.scale.bin(value);
        logKernel = Math.log(Math.max(normalMass((a - mu) / sigma, (b - mu) / sigma), Number.MIN_VALUE));
      } else {
        const z = (this.scale.toInternal(value) - mu) / sigma;
        logKernel = -0.5 * z * z - LOG_SQRT_2PI - Math.log(sigma);
      }
      return Math.log(this.weights[i]) + logKernel - this.logMass[i];
    });
    return logSumExp(terms);
  }
}

// ---- categorical estimator ----

export class CategoricalParzen {
  /** P(choice) under the mixture. */
  readonly probabilities: number[];

  /** `observations` are choice indices. */
  constructor(
    choices: number,
    observations: readonly number[],
    observationWeights: readonly number[],
    priorWeight: number,
  ) {
    const weights = normalizedWeights(observationWeights, priorWeight);
    const p = new Array<number>(choices).fill(weights[observations.length] / choices); // the uniform prior
    observations.forEach((observed, k) => {
      const total = 1 + priorWeight;
      for (let c = 0; c < choices; c++)
        p[c] += (weights[k] * ((c === observed ? 1 : 0) + priorWeight / choices)) / total;
    });
    this.probabilities = p;
  }

  sample(rng: Rng): number {
    return rng.weighted(this.probabilities);
  }

  logPdf(choice: number): number {
    return Math.log(this.probabilities[choice]);
  }
}
