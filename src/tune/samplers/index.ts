// The samplers by name, built from the JSON-able settings a study stores.
import type { SearchSpace } from '../space.js';
import type { Sampler } from './sampler.js';
import { RandomSampler } from './random.js';
import { GridSampler } from './grid.js';
import { TpeSampler, type TpeOptions } from './tpe.js';

export type { Sampler, SampleRequest } from './sampler.js';
export { RandomSampler, sampleUniform } from './random.js';
export { GridSampler, gridOf, paramsKey, MAX_GRID_SIZE } from './grid.js';
export { TpeSampler, TPE_DEFAULTS, goodCount, recencyWeights, type TpeOptions } from './tpe.js';

export const SAMPLERS = ['tpe', 'random', 'grid'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export type SamplerConfig =
  | { type: 'random'; seed: number }
  | { type: 'grid'; seed: number }
  | ({ type: 'tpe'; seed: number } & TpeOptions);

/** Settings each sampler takes besides its type and seed. */
const SAMPLER_OPTIONS: Record<SamplerName, readonly string[]> = {
  random: [],
  grid: [],
  tpe: ['startupTrials', 'candidates', 'priorWeight'],
};

export function createSampler(config: SamplerConfig, space: SearchSpace): Sampler {
  const allowed = SAMPLER_OPTIONS[config.type] as readonly string[] | undefined;
  const unknown = allowed
    ? Object.keys(config).filter((k) => k !== 'type' && k !== 'seed' && !allowed.includes(k))
    : [];
  if (unknown.length) {
    throw new Error(
      `the ${config.type} sampler has no option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}` +
        `${allowed!.length ? `; it takes ${allowed!.join(', ')}` : '; it takes none'}`,
    );
  }
  if (!Number.isSafeInteger(config.seed) || config.seed < 0)
    throw new Error(`the sampler seed must be an integer >= 0, got ${config.seed}`);
  switch (config.type) {
    case 'random':
      return new RandomSampler(config.seed);
    case 'grid':
      return new GridSampler(space, config.seed);
    case 'tpe': {
      const { type: _type, seed, ...options } = config;
      return new TpeSampler(seed, options);
    }
    default:
      throw new Error(
        `unknown sampler '${(config as { type: unknown }).type}': expected one of ${SAMPLERS.join(', ')}`,
      );
  }
}
