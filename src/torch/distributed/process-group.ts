// torch.distributed's default process group and its collectives, over c10d (PyTorch's own distributed engine,
// in libtorch): the same store layout and Gloo wire protocol as PyTorch, so a senet process and a PyTorch process
// can be ranks of one group. Every collective returns a promise: the waiting happens on a background thread and
// the event loop goes on. Like PyTorch's, collectives must be called in the same order on every rank.
import { native, type DistGroup, type DistStore, type NativeReduceOp } from '../native.js';
import { isFloatingPoint } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { resolveRendezvous } from './rendezvous.js';

export type Backend = 'gloo' | 'nccl';
/** The reductions of allReduce and reduceScatter (PyTorch's ReduceOp.SUM, AVG, MIN, MAX, PRODUCT). */
export type ReduceOp = 'sum' | 'avg' | 'min' | 'max' | 'product';

export interface InitProcessGroupOptions {
  /** 'gloo' (CPU tensors); 'nccl' needs a CUDA build of libtorch with NCCL. */
  backend?: Backend;
  /** 'env://' (default), 'tcp://host:port' or 'file://path'. */
  initMethod?: string;
  /** This process's rank; default $RANK. */
  rank?: number;
  /** The number of processes; default $WORLD_SIZE. */
  worldSize?: number;
  /** How long rendezvous and each collective may wait for the other ranks (PyTorch's default: 30 minutes). */
  timeoutMs?: number;
}

/** PyTorch's default_pg_timeout. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

interface GroupState {
  group: DistGroup;
  store: DistStore;
  rank: number;
  worldSize: number;
  timeoutMs: number;
  backend: Backend;
}

let current: GroupState | null = null;
let starting = false;

/** Joins the default process group: resolves once every rank has joined (or rejects at the timeout). */
export async function initProcessGroup(options: InitProcessGroupOptions = {}): Promise<void> {
  if (current || starting) {
    throw new Error('distributed: the default process group is already initialised (destroyProcessGroup() first)');
  }
  const backend = options.backend ?? 'gloo';
  if (backend === 'nccl') {
    throw new Error(
      "distributed: backend 'nccl' needs a CUDA build of libtorch with NCCL; this libtorch has none (use 'gloo')",
    );
  }
  if (backend !== 'gloo') throw new Error(`distributed: unknown backend '${backend}': expected 'gloo' or 'nccl'`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new Error(`distributed: timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  const initMethod = options.initMethod ?? 'env://';
  const { store: address, rank, worldSize } = resolveRendezvous(initMethod, options.rank, options.worldSize);
  starting = true;
  try {
    const base =
      address.kind === 'tcp'
        ? await native.distTcpStore(address.host, address.port, rank === 0, worldSize, timeoutMs)
        : native.distFileStore(address.path, worldSize, timeoutMs);
    // The key layout of torch.distributed.init_process_group (PyTorch 1.13): the default group's store is
    // prefixed 'default_pg', the group itself '0', and a store-based barrier ends the rendezvous.
    const store = native.distPrefixStore('default_pg', base);
    const iface = process.env.GLOO_SOCKET_IFNAME || null;
    const group = await native.distGlooGroup(native.distPrefixStore('0', store), rank, worldSize, timeoutMs, iface, 2);
    await storeBarrier(store, 'store_based_barrier_key:1', worldSize, timeoutMs);
    current = { group, store, rank, worldSize, timeoutMs, backend };
  } catch (error) {
    throw new Error(
      `distributed: rank ${rank} of ${worldSize} could not join the group at ${initMethod}: ${(error as Error).message}`,
    );
  } finally {
    starting = false;
  }
}

/** Every rank adds 1 to `key`, then waits until the count reaches the world size (torch's store-based barrier). */
async function storeBarrier(store: DistStore, key: string, worldSize: number, timeoutMs: number): Promise<void> {
  await native.distStoreAdd(store, key, 1);
  const start = Date.now();
  for (;;) {
    const count = await native.distStoreAdd(store, key, 0);
    if (count >= worldSize) return;
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms with ${count} of ${worldSize} ranks at the start barrier`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function isInitialized(): boolean {
  return current !== null;
}

function state(what: string): GroupState {
  if (!current) throw new Error(`distributed: ${what} needs a process group: call initProcessGroup() first`);
  return current;
}

export function getRank(): number {
  return state('getRank').rank;
}

export function getWorldSize(): number {
  return state('getWorldSize').worldSize;
}

export function getBackend(): Backend {
  return state('getBackend').backend;
}

/** The timeout the group was made with. */
export function getTimeoutMs(): number {
  return state('getTimeoutMs').timeoutMs;
}

/** @internal The native group, for DistributedDataParallel's Reducer. */
export function nativeGroup(): DistGroup {
  return state('DistributedDataParallel').group;
}

/** Runs one collective and names the rank and the collective when it fails. */
async function collective(what: string, run: (s: GroupState) => Promise<void>): Promise<void> {
  const s = state(what);
  try {
    await run(s);
  } catch (error) {
    throw new Error(`distributed: ${what} failed on rank ${s.rank} of ${s.worldSize}: ${(error as Error).message}`);
  }
}

function checkTensor(t: Tensor, what: string): void {
  if (t.device !== 'cpu') throw new Error(`distributed: ${what}: the gloo backend takes CPU tensors, got ${t.device}`);
  if (!t.isContiguous()) throw new Error(`distributed: ${what}: the tensor must be contiguous (call .contiguous())`);
}

function nativeOp(op: ReduceOp, t: Tensor, what: string): NativeReduceOp {
  if (op === 'avg') {
    if (!isFloatingPoint(t.dtype)) throw new Error(`distributed: ${what}: 'avg' needs a floating-point tensor`);
    return 'sum';
  }
  if (op === 'sum' || op === 'product' || op === 'min' || op === 'max') return op;
  throw new Error(`distributed: ${what}: unknown reduce op '${op}': expected sum, avg, min, max or product`);
}

/** Reduces `tensor` across all ranks, in place: every rank ends with the result. */
export async function allReduce(tensor: Tensor, op: ReduceOp = 'sum'): Promise<void> {
  checkTensor(tensor, 'allReduce');
  const nop = nativeOp(op, tensor, 'allReduce');
  await collective('allReduce', (s) => native.distAllReduce(s.group, tensor._h, nop));
  // Gloo has no average: the sum over ranks divided by their number, as ReduceOp.AVG defines it.
  if (op === 'avg') tensor.div_(getWorldSize());
}

/** Copies rank `src`'s `tensor` into every other rank's `tensor` (same shape and dtype everywhere). */
export async function broadcast(tensor: Tensor, src: number): Promise<void> {
  checkTensor(tensor, 'broadcast');
  const s = state('broadcast');
  if (!Number.isInteger(src) || src < 0 || src >= s.worldSize) {
    throw new Error(`distributed: broadcast: src must be a rank in 0..${s.worldSize - 1}, got ${src}`);
  }
  await collective('broadcast', (g) => native.distBroadcast(g.group, tensor._h, src));
}

/** outputs[r] receives rank r's `input`: one output tensor per rank, each shaped like `input`. */
export async function allGather(outputs: readonly Tensor[], input: Tensor): Promise<void> {
  const s = state('allGather');
  if (outputs.length !== s.worldSize) {
    throw new Error(`distributed: allGather needs ${s.worldSize} output tensors (one per rank), got ${outputs.length}`);
  }
  checkTensor(input, 'allGather');
  for (const o of outputs) checkTensor(o, 'allGather');
  await collective('allGather', (g) =>
    native.distAllGather(
      g.group,
      outputs.map((o) => o._h),
      input._h,
    ),
  );
}

/**
 * output = the reduction over ranks of each rank's inputs[thisRank]. c10d's Gloo backend (libtorch 1.13) has
 * no reduce-scatter and says so; a backend that has one (NCCL) runs it.
 */
export async function reduceScatter(output: Tensor, inputs: readonly Tensor[], op: ReduceOp = 'sum'): Promise<void> {
  const s = state('reduceScatter');
  if (inputs.length !== s.worldSize) {
    throw new Error(
      `distributed: reduceScatter needs ${s.worldSize} input tensors (one per rank), got ${inputs.length}`,
    );
  }
  const nop = nativeOp(op, output, 'reduceScatter');
  await collective('reduceScatter', (g) =>
    native.distReduceScatter(
      g.group,
      output._h,
      inputs.map((t) => t._h),
      nop,
    ),
  );
  if (op === 'avg') output.div_(s.worldSize);
}

/** Resolves once every rank has reached it. */
export async function barrier(): Promise<void> {
  await collective('barrier', (s) => native.distBarrier(s.group));
}

/** Leaves the group: waits for queued collectives and closes the connections; initProcessGroup may follow. */
export async function destroyProcessGroup(): Promise<void> {
  const s = state('destroyProcessGroup');
  current = null;
  await native.distDestroyGroup(s.group);
}
