// senet's PyTorch-shaped API: `import * as torch from './torch/index.js'` reads like `import torch`.
export { Tensor, type ToOptions, type NestedNumbers } from './tensor.js';
export { type DType, DTYPES, isFloatingPoint, ELEMENT_SIZE } from './dtype.js';
export * from './ops/creation.js';
export * from './ops/math.js';
export * from './ops/shape.js';
export * from './ops/reduction.js';
export * from './ops/linalg.js';
export * as linalg from './linalg.js';
export * as async from './ops/async.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd.js';
export * as autograd from './autograd.js';
export { tidy, keep, dispose, memory, cpuCacheStats, emptyCache, setCpuCacheLimit } from './memory.js';
export { manualSeed, initialSeed, getRngState, setRngState, Generator } from './random.js';
export { setNumThreads, getNumThreads, maxThreads, checkThreadCount } from './threads.js';
export { autocast, isAutocastEnabled } from './autocast.js';
export {
  profile,
  summarizeProfile,
  nestRanges,
  type Profile,
  type ProfilerEvent,
  type ProfilerRange,
  type ProfileRow,
} from './profiler.js';
export { traceOps, handleInfo, handleBytes, type OpCall, type OpDeclaration, type Handle } from './op-trace.js';
export * as F from './functional/index.js';
export * as io from './io/index.js';
export { save, load } from './io/index.js';
export * as optim from './optim/index.js';
export * as nn from './nn/index.js';
export * as quantization from './quantization/index.js';
export * as distributed from './distributed/index.js';

import { native } from './native.js';
/** The libtorch build senet runs on. */
export const buildInfo = () => native.buildInfo();
