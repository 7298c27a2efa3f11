// The pruners by name, built from the JSON-able settings a study stores.
import type { Pruner } from './pruner.js';
import { NopPruner } from './pruner.js';
import { AshaPruner, type AshaOptions } from './asha.js';
import { MedianPruner, type MedianOptions } from './median.js';

export { type Pruner, type PruneRequest, type PruneDecision, NopPruner, KEEP_GOING } from './pruner.js';
export { AshaPruner, ASHA_DEFAULTS, type AshaOptions } from './asha.js';
export { MedianPruner, MEDIAN_DEFAULTS, type MedianOptions } from './median.js';
export { median } from '../../util/statistics.js';

export const PRUNERS = ['asha', 'median', 'none'] as const;
export type PrunerName = (typeof PRUNERS)[number];

export type PrunerConfig = { type: 'none' } | ({ type: 'asha' } & AshaOptions) | ({ type: 'median' } & MedianOptions);

/** Settings each pruner takes besides its type. */
const PRUNER_OPTIONS: Record<PrunerName, readonly string[]> = {
  none: [],
  asha: ['minResource', 'reductionFactor', 'minEarlyStoppingRate'],
  median: ['startupTrials', 'warmupSteps', 'intervalSteps', 'minTrials'],
};

export function createPruner(config: PrunerConfig): Pruner {
  const allowed = PRUNER_OPTIONS[config.type] as readonly string[] | undefined;
  const unknown = allowed ? Object.keys(config).filter((k) => k !== 'type' && !allowed.includes(k)) : [];
  if (unknown.length) {
    throw new Error(
      `the ${config.type} pruner has no option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}` +
        `${allowed!.length ? `; it takes ${allowed!.join(', ')}` : '; it takes none'}`,
    );
  }
  switch (config.type) {
    case 'none':
      return new NopPruner();
    case 'asha': {
      const { type: _type, ...options } = config;
      return new AshaPruner(options);
    }
    case 'median': {
      const { type: _type, ...options } = config;
      return new MedianPruner(options);
    }
    default:
      throw new Error(`unknown pruner '${(config as { type: unknown }).type}': expected one of ${PRUNERS.join(', ')}`);
  }
}
