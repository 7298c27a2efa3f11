// torch.nn.functional, as `F`.
export * from './activation.js';
export * from './conv.js';
export * from './normalization.js';
export * from './pooling.js';
export * from './loss.js';
export * from './dropout.js';
export * from './padding.js';
export * from './interpolate.js';
export { embedding, oneHot, type EmbeddingOptions } from './embedding.js';
