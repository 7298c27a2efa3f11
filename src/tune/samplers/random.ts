// Random search: every parameter drawn independently — uniformly, or uniformly in log space — from a
// generator seeded by (seed, trial number).
import { snapToStep, type ParamSpec } from '../space.js';
import { Rng } from '../rng.js';
import type { ParamValue, Params } from '../trial.js';
import type { SampleRequest, Sampler } from './sampler.js';

/** One value of the parameter, uniform over its range (log-uniform for log scales). */
export function sampleUniform(param: ParamSpec, rng: Rng): ParamValue {
  if (param.type === 'categorical') return param.choices[rng.below(param.choices.length)];
  if (param.log) {
    // Integers own the interval of width 1 around them, so the ends are as likely as the values between.
    const pad = param.type === 'int' ? 0.5 : 0;
    const x = Math.exp(rng.between(Math.log(param.low - pad), Math.log(param.high + pad)));
    return snapToStep(param, x);
  }
  if (param.step !== null) {
    const points = Math.round((param.high - param.low) / param.step) + 1;
    return snapToStep(param, param.low + rng.below(points) * param.step);
  }
  return rng.between(param.low, param.high);
}

export class RandomSampler implements Sampler {
  constructor(private readonly seed: number) {}

  sample({ space, number }: SampleRequest): Params {
    const rng = new Rng(this.seed, number);
    return Object.fromEntries(space.map((param) => [param.name, sampleUniform(param, rng)]));
  }
}
