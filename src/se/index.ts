// Squeeze-and-Excitation blocks and their variants.
export type { Layer } from './layer.js';
export { checkFeatureMap } from './check-input.js';
export { makeDivisible, reducedWidth, type ReducedWidthRule, type MakeDivisibleOptions } from './reduced-width.js';
export { GATE_NAMES, createGate, type GateName } from './gates.js';
export { SEBlock } from './se-block.js';
export {
  SqueezeExcite,
  SQUEEZE_MODES,
  EXCITATION_LAYERS,
  REDUCED_WIDTH_RULES,
  type SqueezeExciteOptions,
  type SqueezeMode,
  type ExcitationLayer,
} from './squeeze-excite.js';
export { EcaModule, ecaKernelSize, type EcaOptions } from './eca.js';
export { SpatialSE } from './spatial-se.js';
export { ChannelSpatialSE, SCSE_COMBINES, type ChannelSpatialSEOptions, type ScseCombine } from './scse.js';
export {
  createAttention,
  checkAttentionConfig,
  mergeAttention,
  ATTENTION_TYPES,
  type AttentionConfig,
  type AttentionType,
} from './attention.js';
