// torch.distributed: process groups and collectives over PyTorch's c10d (see process-group.ts).
export {
  initProcessGroup,
  destroyProcessGroup,
  isInitialized,
  getRank,
  getWorldSize,
  getBackend,
  getTimeoutMs,
  allReduce,
  broadcast,
  allGather,
  reduceScatter,
  barrier,
  DEFAULT_TIMEOUT_MS,
  type Backend,
  type ReduceOp,
  type InitProcessGroupOptions,
} from './process-group.js';
export { resolveRendezvous, freePort, type Rendezvous, type StoreAddress } from './rendezvous.js';
