// torch.nn: modules, parameters, containers, layers and (as `init`) the initialisation functions.
export {
  Module,
  type StateDict,
  type ForwardHook,
  type ForwardPreHook,
  type ForwardInputs,
  type ForwardOutput,
  type HookHandle,
  type HookOptions,
  type LoadResult,
} from './module.js';
export { Parameter } from './parameter.js';
export {
  Sequential,
  ModuleList,
  ModuleDict,
  type TensorModule,
  type SequentialIO,
  type SequentialLayer,
} from './container.js';
export type { FactoryOptions } from './factory.js';
export { Linear, type LinearOptions } from './linear.js';
export { ConvNd, Conv1d, Conv2d, type ConvOptions, type PaddingMode } from './conv.js';
export { BatchNormNd, BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './batchnorm.js';
export {
  ReLU,
  ReLU6,
  LeakyReLU,
  Sigmoid,
  Tanh,
  GELU,
  SiLU,
  Hardsigmoid,
  Hardswish,
  Softmax,
  type InplaceOptions,
  type GELUOptions,
} from './activation.js';
export {
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
  type MaxPool2dOptions,
  type AvgPool2dOptions,
  type AdaptiveSize,
} from './pooling.js';
export { LayerNorm, GroupNorm, type LayerNormOptions, type GroupNormOptions } from './normalization.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { Upsample, type UpsampleOptions } from './upsample.js';
export { Flatten } from './flatten.js';
export { Dropout, Dropout2d } from './dropout.js';
export { Identity } from './identity.js';
export { CrossEntropyLoss, MSELoss, type CrossEntropyLossOptions, type MSELossOptions } from './loss.js';
export * as init from './init.js';
export * as parallel from './parallel/index.js';
