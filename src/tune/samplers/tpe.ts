// The Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio & Kégl, "Algorithms for
// Hyper-Parameter Optimization", NeurIPS 2011), as Optuna's TPESampler runs it by default:
//   1. The first `startupTrials` trials are random (there is nothing to model yet).
//   2. The finished trials, best first (complete by value, then pruned by how far they got), split into
//      the good ones — the best γ(n) = min(⌈0.1·n⌉, 25) — and the rest.
//   3. For each parameter on its own, a Parzen estimator l(x) of the good trials' values and g(x) of the
//      others' (parzen.ts). Recent trials weigh more once there are more than 25 of a kind.
//   4. `candidates` values drawn from l(x); the one with the largest l(x)/g(x) — the most
//      expected improvement — becomes the trial's value.
// Running and failed trials carry no value and are left out. Everything random comes from a generator
// seeded by (seed, trial number), so a study's history and seed determine what is sampled.
import { rankTrials, type ParamValue, type Params, type TrialRecord } from '../trial.js';
import type { ParamSpec } from '../space.js';
import { Rng } from '../rng.js';
import { sampleUniform } from './random.js';
import { CategoricalParzen, NumericParzen, numericScale } from './parzen.js';
import type { SampleRequest, Sampler } from './sampler.js';

export interface TpeOptions {
  /** Random trials before the model is used (Optuna: 10). */
  startupTrials?: number;
  /** Values drawn from l(x) per parameter and trial (Optuna: 24). */
  candidates?: number;
  /** Weight of the prior kernel against one observation's (Optuna: 1). */
  priorWeight?: number;
}

export const TPE_DEFAULTS: Required<TpeOptions> = { startupTrials: 10, candidates: 24, priorWeight: 1 };

/** How many of n ranked trials count as good. */
export function goodCount(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/**
 * Weights of n observations ordered oldest first: all 1 up to 25; beyond, the newest 25 keep 1 and the
 * older ones ramp linearly from 1/n up towards 1, so the model follows where the search has moved.
 */
export function recencyWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  const start = 1 / n;
  const rampWeights = Array.from({ length: ramp }, (_, i) =>
    ramp === 1 ? start : start + ((1 - start) * i) / (ramp - 1),
  );
  return [...rampWeights, ...new Array<number>(25).fill(1)];
}

/** The index of a value among a categorical parameter's choices (-1 when not one of them). */
function choiceIndex(choices: readonly ParamValue[], value: ParamValue): number {
  const key = JSON.stringify(value);
  return choices.findIndex((c) => JSON.stringify(c) === key);
}

export class TpeSampler implements Sampler {
  private readonly options: Required<TpeOptions>;

  constructor(
    private readonly seed: number,
    options: TpeOptions = {},
  ) {
    this.options = { ...TPE_DEFAULTS, ...options };
    const { startupTrials, candidates, priorWeight } = this.options;
    if (!Number.isInteger(startupTrials) || startupTrials < 0)
      throw new Error(`TPE startupTrials must be an integer >= 0, got ${startupTrials}`);
    if (!Number.isInteger(candidates) || candidates < 1)
      throw new Error(`TPE candidates must be an integer >= 1, got ${candidates}`);
    if (!(priorWeight > 0)) throw new Error(`TPE priorWeight must be > 0, got ${priorWeight}`);
  }

  sample({ space, trials, number, direction }: SampleRequest): Params {
    const rng = new Rng(this.seed, number);
    const ranked = rankTrials(trials, direction);
    if (ranked.length < Math.max(1, this.options.startupTrials)) {
      return Object.fromEntries(space.map((param) => [param.name, sampleUniform(param, rng)]));
    }
    const split = goodCount(ranked.length);
    // Oldest first, so that recency weights favour the newest.
    const byNumber = (group: TrialRecord[]) => [...group].sort((a, b) => a.number - b.number);
    const good = byNumber(ranked.slice(0, split));
    const bad = byNumber(ranked.slice(split));
    return Object.fromEntries(space.map((param) => [param.name, this.sampleParam(param, good, bad, rng)]));
  }

  private sampleParam(param: ParamSpec, good: TrialRecord[], bad: TrialRecord[], rng: Rng): ParamValue {
    const { candidates, priorWeight } = this.options;
    if (param.type === 'categorical') {
      const observe = (group: TrialRecord[]) =>
        group.map((t) => choiceIndex(param.choices, t.params[param.name])).filter((i) => i >= 0);
      const goodObs = observe(good);
      const badObs = observe(bad);
      const l = new CategoricalParzen(param.choices.length, goodObs, recencyWeights(goodObs.length), priorWeight);
      const g = new CategoricalParzen(param.choices.length, badObs, recencyWeights(badObs.length), priorWeight);
      return param.choices[
        this.best(
          candidates,
          () => l.sample(rng),
          (c) => l.logPdf(c) - g.logPdf(c),
        )
      ];
    }
    const scale = numericScale(param);
    const observe = (group: TrialRecord[]) =>
      group
        .map((t) => t.params[param.name])
        .filter((v): v is number => typeof v === 'number' && v >= param.low && v <= param.high)
        .map((v) => scale.toInternal(v));
    const goodObs = observe(good);
    const badObs = observe(bad);
    const l = new NumericParzen(scale, goodObs, recencyWeights(goodObs.length), priorWeight);
    const g = new NumericParzen(scale, badObs, recencyWeights(badObs.length), priorWeight);
    return this.best(
      candidates,
      () => l.sample(rng),
      (x) => l.logPdf(x) - g.logPdf(x),
    );
  }

  /** Of `count` draws, the one with the highest score (the first of equals). */
  private best<T>(count: number, draw: () => T, score: (x: T) => number): T {
    let bestValue = draw();
    let bestScore = score(bestValue);
    for (let i = 1; i < count; i++) {
      const x = draw();
      const s = score(x);
      if (s > bestScore) {
        bestValue = x;
        bestScore = s;
      }
    }
    return bestValue;
  }
}
