// The HTTP inference service (`senet serve`): a Fastify app around a Predictor, with dynamic batching.
export {
  createService,
  DEFAULT_LIMITS,
  type Service,
  type ServiceLimits,
  type ServiceOptions,
  type TopClass,
} from './service.js';
export { libtorchPredictor, servedModelOf, type Predictor, type ServedModel } from './predictor.js';
export { DynamicBatcher, QueueFullError, type BatcherOptions, type BatcherStats } from './batcher.js';
export { HttpError } from './errors.js';
