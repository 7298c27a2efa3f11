// Model definitions (seed SimpleCNN, CIFAR and ImageNet (SE-)ResNets, SE-ResNeXts, the legacy SENets), the
// registry of named models, model summaries and weight files.
export type { ModelOptions, Model } from './model-options.js';
export { SimpleCNN, type SimpleCNNOptions } from './simple-cnn.js';
export {
  CifarResNet,
  CifarBasicBlock,
  CIFAR_SE,
  SE_PLACEMENTS,
  type CifarResNetOptions,
  type SEPlacement,
} from './cifar-resnet.js';
export { FastNet, FastNetGroup, FASTNET_WIDTHS, type FastNetOptions } from './fastnet.js';
export { PreActResNet, PreActBottleneck, type PreActResNetOptions } from './preact-resnet.js';
export { ResNet, BasicBlock, Bottleneck, TIMM_SE, type ResNetOptions, type BlockType } from './resnet.js';
export {
  LegacySENet,
  LegacySEBasicBlock,
  LegacySEBottleneck,
  LegacyStem,
  LEGACY_SE,
  LEGACY_BLOCK_TYPES,
  type LegacySENetOptions,
  type LegacyBlockType,
} from './legacy-senet.js';
export {
  createModel,
  listModels,
  isModelName,
  modelName,
  type ModelName,
  type CreateModelOptions,
  type ModelInfo,
} from './registry.js';
export { summarizeModel, type ModelSummary, type LayerSummary } from './summary.js';
export {
  loadWeights,
  saveWeights,
  readStateDict,
  checkWeightValues,
  WeightValueError,
  type LoadWeightsOptions,
} from './weights.js';
export { applyKeyMap, checkKeyMapRules, readKeyMapFile, type KeyMapRules } from './key-map.js';
export {
  WEIGHT_SOURCES,
  detectSource,
  legacyModelName,
  modelOptionsFor,
  findFittingModel,
  describeFit,
  toModelNames,
  toSenetNames,
  legacyLayoutError,
  type WeightSource,
  type FittingModel,
  type Shapes,
} from './weight-sources.js';
export { useMemoryFormat, inMemoryFormat, MEMORY_FORMATS, type TrainingMemoryFormat } from './memory-format.js';
export { freezeBatchNormScales } from './batchnorm-scale.js';
export { identityInitFastNet } from './identity-init.js';
export { InferenceModel, type InferenceOptions } from './inference.js';
