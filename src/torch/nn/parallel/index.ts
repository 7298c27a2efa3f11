// torch.nn.parallel: data-parallel wrappers over torch.distributed.
export {
  DistributedDataParallel,
  type DistributedDataParallelOptions,
  GRADIENT_REDUCTIONS,
  type GradientReduction,
  broadcastTensors,
} from './distributed.js';
export { SyncBatchNorm } from './sync-batchnorm.js';
