// Loads the native engine (build/Release/senet_native.node) and describes what it exports.
// Only src/torch talks to this module; everything else uses the PyTorch-shaped API on top.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque reference to a libtorch tensor (a Node-API External). */
export type Handle = { readonly __tensorHandle: unique symbol };
/** An opaque reference to a libtorch script object (a custom-class instance such as packed int8 weights). */
export type ObjectHandle = { readonly __objectHandle: unique symbol };
/** An opaque reference to a libtorch random generator. */
export type GeneratorHandle = { readonly __generatorHandle: unique symbol };

export interface OpArgInfo {
  name: string;
  type: string;
  optional: boolean;
  hasDefault: boolean;
  kwargOnly: boolean;
}

export interface OpInfo {
  id: number;
  name: string;
  schema: string;
  args: OpArgInfo[];
  returnsSelf: boolean;
}

/** The caching CPU allocator's counters (native/allocator.cc). */
export interface CpuCacheStats {
  enabled: boolean;
  limitBytes: number;
  /** Whether the cache may also hold up to the peak of bytes in use (the default; see setCpuCacheLimit). */
  followPeak: boolean;
  /** The most bytes of large blocks ever in use at once. */
  peakInUseBytes: number;
  cachedBytes: number;
  inUseBytes: number;
  hits: number;
  misses: number;
}

/** Live tensors (native/handle.cc); gcTensors/gcBytes: those only the GC safety net will free. */
export interface MemoryStats {
  tensors: number;
  storages: number;
  bytes: number;
  gcTensors: number;
  gcBytes: number;
}

/** One operator call the libtorch profiler recorded (native/profiler.cc); µs since the profiler started. */
export interface NativeProfilerRange {
  name: string;
  startUs: number;
  endUs: number;
  thread: number;
}

/** What a JPEG's header says (native/jpeg.cc). */
export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  /** The colour space of the coded data: 'ycbcr', 'grayscale', 'rgb', 'cmyk', 'ycck' or 'unknown'. */
  colourSpace: string;
  progressive: boolean;
  /** Whether an ICC colour profile is embedded. */
  icc: boolean;
}

/** What an operator call returns: tensors arrive as handles, tuples and lists as arrays. */
export type OpResult = Handle | null | number | boolean | string | undefined | OpResult[];

export interface NativeEngine {
  op(name: string, overload: string): OpInfo;
  call(id: number, ...args: unknown[]): OpResult;
  callAsync(id: number, ...args: unknown[]): Promise<OpResult>;
  /** Intra-op threads of each background (callAsync) op. */
  setAsyncOpThreads(n: number): void;
  getAsyncOpThreads(): number;

  free(h: Handle): void;
  /**
   * Frees the tensor inside the garbage collection that finds `h` unreachable (idempotent); true when the
   * tensors so guarded pass the budget of setGcBudget.
   */
  guard(h: Handle): boolean;
  setGcBudget(tensors: number, bytes: number): void;
  isFreed(h: Handle): boolean;
  memory(): MemoryStats;

  fromBuffer(data: ArrayBufferView | ArrayBuffer, shape: number[], dtype: number): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  shape(h: Handle): number[];
  strides(h: Handle): number[];
  isContiguous(h: Handle, memoryFormat?: number): boolean;
  dtype(h: Handle): number;
  device(h: Handle): string;
  numel(h: Handle): number;
  sameTensor(a: Handle, b: Handle): boolean;
  scalarTypes: Record<string, number>;
  memoryFormats: Record<'contiguous' | 'preserve' | 'channelsLast', number>;

  requiresGrad(h: Handle): boolean;
  setRequiresGrad(h: Handle, value: boolean): void;
  isLeaf(h: Handle): boolean;
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  retainGrad(h: Handle): void;
  gradFn(h: Handle): string | null;
  backward(
    outputs: Handle[],
    gradOutputs: (Handle | null)[] | null,
    retainGraph?: boolean,
    createGraph?: boolean,
  ): void;
  autogradGrad(
    outputs: Handle[],
    inputs: Handle[],
    gradOutputs: (Handle | null)[] | null,
    retainGraph: boolean | undefined,
    createGraph: boolean,
    allowUnused: boolean,
  ): (Handle | null)[];
  isGradEnabled(): boolean;
  setGradEnabled(enabled: boolean): void;

  /** Seeds one generator, or (without one) the default CPU and CUDA generators. */
  manualSeed(seed: number | bigint, generator?: GeneratorHandle): void;
  newGenerator(seed?: number | bigint): GeneratorHandle;
  generatorState(g: GeneratorHandle | null): Handle;
  setGeneratorState(g: GeneratorHandle | null, state: Handle): void;
  generatorSeed(g: GeneratorHandle | null): bigint;
  setNumThreads(n: number): void;
  /** The quantized engines this libtorch has ('onednn', 'qnnpack', 'none', ...), the current one, a switch. */
  supportedQEngines(): string[];
  qEngine(): string;
  setQEngine(name: string): void;
  getNumThreads(): number;
  setFlushDenormal(on: boolean): boolean;
  setAutocastCpu(enabled: boolean, dtype?: number): void;
  isAutocastCpu(): boolean;
  allocatorStats(): CpuCacheStats;
  emptyCache(): void;
  /** Bounds the caching CPU allocator; the first positive limit installs it, 0 turns caching off. */
  setCpuCacheLimit(bytes: number, followPeak: boolean): void;
  /** Starts libtorch's CPU profiler on this thread; throws if it is already running. */
  profilerStart(): void;
  /** Stops it and returns the recorded ranges and the calling thread's profiler id. */
  profilerStop(): { callerThread: number; events: NativeProfilerRange[] };
  /** The header of a JPEG file (native/jpeg.cc); throws libjpeg's message when it is not one. */
  jpegHeader(bytes: Uint8Array): JpegHeader;
  /**
   * A region of a JPEG, in the pixels of the image decoded at 1/denom scale, resized (antialiased bilinear)
   * to outWidth×outHeight interleaved RGB bytes and mirrored if asked; decoded on libuv's thread pool.
   */
  decodeJpegAsync(
    bytes: Uint8Array,
    denom: number,
    left: number,
    top: number,
    width: number,
    height: number,
    outWidth: number,
    outHeight: number,
    mirror: boolean,
  ): Promise<Buffer>;
  buildInfo(): { torchVersion: string; cudaDevices: number; mkldnn: boolean; cxx11Abi: boolean; parallelInfo: string };

  // c10d (native/distributed.cc): stores, Gloo process groups, collectives, the DDP gradient Reducer.
  distTcpStore(host: string, port: number, isServer: boolean, worldSize: number, timeoutMs: number): Promise<DistStore>;
  distFileStore(path: string, worldSize: number, timeoutMs: number): DistStore;
  distPrefixStore(prefix: string, store: DistStore): DistStore;
  distStoreAdd(store: DistStore, key: string, amount: number): Promise<number>;
  distGlooGroup(
    store: DistStore,
    rank: number,
    worldSize: number,
    timeoutMs: number,
    iface: string | null,
    threads: number,
  ): Promise<DistGroup>;
  distDestroyGroup(group: DistGroup): Promise<void> | undefined;
  distAllReduce(group: DistGroup, t: Handle, op: NativeReduceOp): Promise<void>;
  distBroadcast(group: DistGroup, t: Handle, src: number): Promise<void>;
  distAllGather(group: DistGroup, outputs: Handle[], input: Handle): Promise<void>;
  distReduceScatter(group: DistGroup, output: Handle, inputs: Handle[], op: NativeReduceOp): Promise<void>;
  distBarrier(group: DistGroup): Promise<void>;
  distMonitoredBarrier(group: DistGroup, timeoutMs: number): Promise<void>;
  /** Sums in place across ranks, waiting on the calling thread (SyncBatchNorm's forward). */
  distAllReduceNow(group: DistGroup, t: Handle): void;
  /** Sums `t`'s gradient across ranks when backward reaches it. */
  distAllReduceGradHook(group: DistGroup, t: Handle): void;
  distReducer(group: DistGroup, params: Handle[], bucketCapBytes: number, firstBucketCapBytes: number): DistReducer;
  distReducerPrepare(reducer: DistReducer): void;
  distReducerBuckets(reducer: DistReducer): number;
  distHookBuckets(group: DistGroup, params: Handle[], bucketCapBytes: number, firstBucketCapBytes: number): DistHooks;
  distHookBucketsPrepare(hooks: DistHooks): void;
}

/** The reductions c10d's Gloo backend runs itself (average is a sum divided in TypeScript). */
export type NativeReduceOp = 'sum' | 'product' | 'min' | 'max';
/** Opaque references to c10d objects (Node-API Externals). */
export type DistStore = { readonly __distStore: unique symbol };
export type DistGroup = { readonly __distGroup: unique symbol };
export type DistReducer = { readonly __distReducer: unique symbol };
export type DistHooks = { readonly __distHooks: unique symbol };

/** Where libtorch comes from, for the errors below. */
const LIBTORCH =
  'libtorch (on Debian/Ubuntu: `sudo apt-get install libtorch-dev libopenblas0-pthread`; elsewhere the ' +
  'official libtorch zip, with LIBTORCH=/path/to/libtorch)';

/** One line naming the fix; bin/senet.js prints it without a stack trace (it knows the code). */
function engineError(code: 'SENET_ENGINE_NOT_BUILT' | 'SENET_ENGINE_UNLOADABLE', message: string): Error {
  return Object.assign(new Error(message), { code });
}

function findAddon(): string {
  // dist/src/torch/native.js and src/torch/native.ts both sit below the package root.
  let dir = dirname(fileURLToPath(import.meta.url));
  let packageRoot: string | null = null;
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'Release', 'senet_native.node');
    if (existsSync(candidate)) return candidate;
    if (packageRoot === null && existsSync(join(dir, 'package.json'))) packageRoot = dir;
    dir = dirname(dir);
  }
  const where = packageRoot ?? 'the senet package';
  throw engineError(
    'SENET_ENGINE_NOT_BUILT',
    `senet: the native engine is not built (no build/Release/senet_native.node in ${where}). ` +
      'In a project that depends on senet, run `npm rebuild senet` (npm 11 runs its install script only when ' +
      "the project's allowScripts allows senet); in a senet checkout, run `npm run build:native`. " +
      `Building needs a C++ compiler, make, python3 and ${LIBTORCH}.`,
  );
}

function loadAddon(): NativeEngine {
  const file = findAddon();
  try {
    return createRequire(import.meta.url)(file) as NativeEngine;
  } catch (error) {
    throw engineError(
      'SENET_ENGINE_UNLOADABLE',
      `senet: the native engine ${file} does not load (${(error as Error).message.split('\n')[0]}). ` +
        `It runs on ${LIBTORCH}; after upgrading libtorch, run ` +
        '`npm rebuild senet` (or `npm run build:native` in a senet checkout).',
    );
  }
}

export const native: NativeEngine = loadAddon();
