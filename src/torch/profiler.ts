// Where the time goes, operator by operator, as torch.autograd.profiler.profile shows it: `profile(fn)`
// runs fn with libtorch's CPU profiler on, which records every operator call that passes through the
// c10 dispatcher (all of senet's do), including the calls an operator makes itself (aten::conv2d →
// aten::convolution → aten::_convolution → aten::mkldnn_convolution). Nesting is recovered here from the
// time ranges, so that an operator's self time leaves out its children and nothing is counted twice.
import { native } from './native.js';

/** One recorded operator call. Times are µs since the profile started. */
export interface ProfilerEvent {
  /** The operator's dispatcher name, e.g. 'aten::conv2d'. */
  name: string;
  /** libtorch's small id of the thread it ran on. */
  thread: number;
  startUs: number;
  endUs: number;
  /** Its duration minus that of the recorded calls nested in it on the same thread. */
  selfUs: number;
  /** How many recorded calls enclose it on its thread (0: called by the profiled code itself). */
  depth: number;
}

/** A recorded call before nesting is worked out: what the native profiler (or PyTorch's trace) gives. */
export type ProfilerRange = Pick<ProfilerEvent, 'name' | 'thread' | 'startUs' | 'endUs'>;

export interface Profile<T> {
  result: T;
  /** The recorded calls, in order of start time per thread. */
  events: ProfilerEvent[];
  /** The thread id (as in `events`) of the code that called profile(): its depth-0 calls are the top level. */
  callerThread: number;
  /** Wall time of fn in ms, profiler overhead included. */
  wallMs: number;
}

/** One line of a profile summary: all calls of one operator. */
export interface ProfileRow {
  name: string;
  calls: number;
  /** Sum of the calls' durations (children included; an operator nested in itself counts twice, as in PyTorch). */
  totalMs: number;
  /** Sum of the calls' self times. */
  selfMs: number;
  /** selfMs as a fraction of all events' self time (the shares add up to 1). */
  share: number;
}

let profiling = false;

/**
 * Runs `fn` (synchronous) under libtorch's CPU profiler and returns its result with the operator calls
 * it made. Profiles cannot be nested, and the profiler only sees calls made on this thread (and those
 * libtorch hands to its own worker threads), so async work is rejected.
 */
export function profile<T>(fn: () => T): Profile<T> {
  if (typeof fn !== 'function') throw new TypeError(`profile(): expected a function to run, got ${typeof fn}`);
  if (profiling) throw new Error('profile(): a profile is already running; profiles cannot be nested');
  native.profilerStart();
  profiling = true;
  let recorded: ReturnType<typeof native.profilerStop>;
  let result: T;
  const start = process.hrtime.bigint();
  try {
    result = fn();
  } finally {
    profiling = false;
    recorded = native.profilerStop();
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result instanceof Promise) {
    throw new Error(
      'profile(): fn returned a Promise; only synchronous code can be profiled (await it outside, or profile each step)',
    );
  }
  return { result, events: nestRanges(recorded.events), callerThread: recorded.callerThread, wallMs };
}

/**
 * Depth and self time of each range, from how the ranges on one thread contain each other. Exported so
 * that ranges from another source (PyTorch's own profiler, in the benchmarks) are summarised alike.
 */
export function nestRanges(ranges: readonly ProfilerRange[]): ProfilerEvent[] {
  const byThread = new Map<number, ProfilerEvent[]>();
  for (const r of ranges) {
    const event: ProfilerEvent = {
      name: r.name,
      thread: r.thread,
      startUs: r.startUs,
      endUs: r.endUs,
      selfUs: r.endUs - r.startUs,
      depth: 0,
    };
    const list = byThread.get(r.thread);
    if (list) list.push(event);
    else byThread.set(r.thread, [event]);
  }
  const out: ProfilerEvent[] = [];
  for (const list of byThread.values()) {
    // A parent starts no later than its children and, on a tie, ends later: it comes first.
    list.sort((a, b) => a.startUs - b.startUs || b.endUs - a.endUs);
    const open: ProfilerEvent[] = [];
    for (const event of list) {
      while (open.length && open[open.length - 1].endUs <= event.startUs) open.pop();
      const parent = open[open.length - 1];
      if (parent) parent.selfUs -= event.endUs - event.startUs;
      event.depth = open.length;
      open.push(event);
    }
    out.push(...list);
  }
  // Timer granularity can leave a parent a fraction of a µs short of its children.
  for (const event of out) event.selfUs = Math.max(0, event.selfUs);
  return out;
}

/** Per-operator totals of a profile's events, largest self time first. */
export function summarizeProfile(events: readonly ProfilerEvent[]): ProfileRow[] {
  const rows = new Map<string, ProfileRow>();
  let allSelfMs = 0;
  for (const e of events) {
    const row = rows.get(e.name) ?? { name: e.name, calls: 0, totalMs: 0, selfMs: 0, share: 0 };
    row.calls += 1;
    row.totalMs += (e.endUs - e.startUs) / 1000;
    row.selfMs += e.selfUs / 1000;
    allSelfMs += e.selfUs / 1000;
    rows.set(e.name, row);
  }
  for (const row of rows.values()) row.share = allSelfMs > 0 ? row.selfMs / allSelfMs : 0;
  return [...rows.values()].sort((a, b) => b.selfMs - a.selfMs || a.name.localeCompare(b.name));
}
