// Choosing a channel-attention unit from a JSON-able config, so that models, the CLI and the tuner can
// name the variant as data: { type: 'se', reduction: 8, gate: 'hardsigmoid' }, { type: 'eca' }, ...
// Options that do not apply to the chosen type are ignored (a tuner may sweep `type` while keeping a
// shared `reduction`); options that no type knows are an error.
import type { nn } from '../torch/index.js';
import { checkChoice } from '../torch/nn/args.js';
import { SqueezeExcite, type SqueezeExciteOptions } from './squeeze-excite.js';
import { EcaModule } from './eca.js';
import { SpatialSE } from './spatial-se.js';
import { ChannelSpatialSE, type ScseCombine } from './scse.js';
import type { Layer } from './layer.js';

export type AttentionType = 'se' | 'eca' | 'sse' | 'scse' | 'none';
export const ATTENTION_TYPES: readonly AttentionType[] = ['se', 'eca', 'sse', 'scse', 'none'];

export interface AttentionConfig extends Omit<SqueezeExciteOptions, 'rdChannels' | 'dtype' | 'device'> {
  /** Which unit: 'se' (default), 'eca', 'sse', 'scse', or 'none' for no attention at all. */
  type?: AttentionType;
  /** scse: how cSE and sSE outputs merge, 'add' (default) or 'max'. */
  combine?: ScseCombine;
  /** eca: γ and b of the adaptive kernel size, or an explicit odd kernel size. */
  gamma?: number;
  beta?: number;
  kernelSize?: number;
}

const KNOWN_KEYS: readonly string[] = [
  'type',
  'reduction',
  'rdMode',
  'excitation',
  'bias',
  'squeeze',
  'gate',
  'combine',
  'gamma',
  'beta',
  'kernelSize',
];

/** Throws unless `config` is an object whose keys are all attention options. */
export function checkAttentionConfig(config: unknown, who = 'attention config'): AttentionConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError(
      `${who} must be an object such as { "type": "se", "reduction": 16 }, got ${JSON.stringify(config)}`,
    );
  }
  const unknown = Object.keys(config).filter((k) => !KNOWN_KEYS.includes(k));
  if (unknown.length) {
    throw new TypeError(
      `${who}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
        `expected some of ${KNOWN_KEYS.join(', ')}`,
    );
  }
  const typed = config as AttentionConfig;
  checkChoice(typed.type ?? 'se', ATTENTION_TYPES, `${who}: type`);
  return typed;
}

/**
 * A channel-attention unit for `channels` channels as `config` describes it, or null for type 'none'.
 * `factory` says where its parameters live (dtype, device).
 */
export function createAttention(
  config: AttentionConfig,
  channels: number,
  factory: nn.FactoryOptions = {},
): Layer | null {
  const c = checkAttentionConfig(config);
  const where = { dtype: factory.dtype, device: factory.device };
  const se: SqueezeExciteOptions = {
    reduction: c.reduction,
    rdMode: c.rdMode,
    excitation: c.excitation,
    bias: c.bias,
    squeeze: c.squeeze,
    gate: c.gate,
    ...where,
  };
  switch (c.type ?? 'se') {
    case 'se':
      return new SqueezeExcite(channels, se);
    case 'eca':
      return new EcaModule(channels, { gamma: c.gamma, beta: c.beta, kernelSize: c.kernelSize, ...where });
    case 'sse':
      return new SpatialSE(channels, where);
    case 'scse':
      return new ChannelSpatialSE(channels, { ...se, combine: c.combine });
    case 'none':
      return null;
  }
}

/** `base` with `override`'s options on top (both checked); what a model does with a user's choice. */
export function mergeAttention(base: AttentionConfig, override: AttentionConfig | undefined): AttentionConfig {
  if (override === undefined) return checkAttentionConfig(base);
  return { ...checkAttentionConfig(base), ...checkAttentionConfig(override) };
}
