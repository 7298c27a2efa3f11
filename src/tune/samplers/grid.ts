// Grid search: every combination of the parameters' values, each tried once, in an order shuffled by the
// seed (so that a study cut short still spreads over the grid). A float needs a 'step' to have a grid.
// The next trial takes the first combination no trial of the study has taken yet, whatever its state:
// a failed combination is not retried. Claims are made under the study's write lock, so concurrent
// workers never take the same combination.
import { snapToStep, type ParamSpec, type SearchSpace } from '../space.js';
import { Rng } from '../rng.js';
import type { ParamValue, Params } from '../trial.js';
import type { SampleRequest, Sampler } from './sampler.js';

/** The most combinations a grid may have (beyond this a grid search never ends anyway). */
export const MAX_GRID_SIZE = 100_000;

/** Which stream of the seeded generator orders the grid (trial streams use the trial number). */
const GRID_ORDER_STREAM = 2 ** 40;

function gridValues(param: ParamSpec): ParamValue[] {
  if (param.type === 'categorical') return param.choices;
  if (param.step === null) {
    throw new Error(
      `the grid sampler needs a finite set of values: give the float parameter '${param.name}' a 'step', ` +
        'or make it categorical',
    );
  }
  const count = Math.round((param.high - param.low) / param.step) + 1;
  if (count > MAX_GRID_SIZE)
    throw new Error(`the grid of parameter '${param.name}' has ${count} values, more than ${MAX_GRID_SIZE}`);
  return Array.from({ length: count }, (_, i) => snapToStep(param, param.low + i * param.step!));
}

/** Every combination of the space's values (the last parameter varying fastest). */
export function gridOf(space: SearchSpace): Params[] {
  const axes = space.map((param) => ({ name: param.name, values: gridValues(param) }));
  const size = axes.reduce((n, a) => n * a.values.length, 1);
  if (size > MAX_GRID_SIZE)
    throw new Error(`the grid has ${size} combinations, more than ${MAX_GRID_SIZE}; use the random or tpe sampler`);
  let combos: Params[] = [{}];
  for (const { name, values } of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  return combos;
}

/** A key equal for equal parameter sets, whatever the order of their names. */
export function paramsKey(params: Params): string {
  return JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
}

export class GridSampler implements Sampler {
  private readonly order: Params[];

  constructor(space: SearchSpace, seed: number) {
    this.order = new Rng(seed, GRID_ORDER_STREAM).shuffled(gridOf(space));
  }

  get size(): number {
    return this.order.length;
  }

  sample({ trials }: SampleRequest): Params | null {
    const taken = new Set(trials.map((t) => paramsKey(t.params)));
    return this.order.find((p) => !taken.has(paramsKey(p))) ?? null;
  }
}
