/**
 * Threads for generated executables: one pool per process of N − 1 workers
 * that, with the calling thread, split each large kernel call's range over
 * one shared WebAssembly memory.
 *
 * Every executable's module is instantiated in every worker on the same
 * shared memory (its functions are pure functions of their arguments and
 * that memory). A call is posted through a small shared control block: the
 * executable, the function, its arguments, and each thread's part of the
 * range; each worker waits on a task flag of its own (`Atomics.wait`/`notify`),
 * claims its part (flag 1 → 2), runs it, clears the flag and counts down; the
 * caller runs part 0, then every part no worker has claimed yet (flag 1 → 0),
 * and waits for the count. So a machine with more busy threads than cores (a
 * test runner's processes, each with its pool) never makes a call wait for a
 * worker that is not scheduled. Parts are cut at multiples of the function's `unit`, and every
 * kernel computes each position of its range the same way whichever thread
 * runs it, with the same order of every sum, so results are bit for bit the
 * same for any number of threads.
 *
 * Architecture invariant: this file holds no Node-only code, since the
 * universal entry (`runtime/index.ts`, which browsers bundle) reaches it.
 * Workers come from a `ThreadHost` that an entry installs: the Node entry
 * (`runtime/node.ts`) and the CLI install `node-threads.ts` (worker_threads);
 * the universal entry installs `web-threads.ts` (Web Workers) in a
 * cross-origin-isolated page. Where none is installed kernels run on the
 * calling thread.
 *
 * Where the calling thread may not block (a browser's main thread, where
 * `Atomics.wait` throws), it waits for the workers' parts by spinning on
 * `Atomics.load`. It only ever waits for parts a worker has claimed and is
 * running (it runs unclaimed ones itself), so the spin lasts at most one part.
 * A worker whose part throws still counts down and marks FAILED; the call
 * then throws on the calling thread rather than waiting forever.
 */

/** The control block: [remaining, executable, function, argc, …, a task flag per thread…, parts (2 per thread)…, args…]. */
const CONTROL_INTS = 4096;
/** Index of the count of workers still running their part. */
export const REMAINING = 0;
/** Index of the executable's id. */
export const EXE = 1;
/** Index of the function's index among the executable's names. */
export const FN = 2;
/** Index of the number of arguments (the range aside). */
export const ARGC = 3;
/** The most threads a pool has. */
export const MAX_THREADS = 64;
/** Index of thread 0's task flag (thread t's at TASK + t): 0 idle, 1 posted, 2 claimed by the worker. */
export const TASK = 8;
/** Index of thread 0's part [start, end) (thread t's at PARTS + 2t). */
export const PARTS = TASK + MAX_THREADS;
/** Index of the first argument; after the last, the scratch stride (0: no scratch). */
export const ARGS = PARTS + 2 * MAX_THREADS;
/** Index of the count of parts workers have run (all executables, since the pool started). */
export const WORKER_PARTS = 4;
/** Index of a word that stays 0, to probe whether this thread may `Atomics.wait`. */
const PROBE = 5;
/** Index of the first worker whose part of the current call threw (0: none); it still counts down, so the caller never hangs. */
export const FAILED = 6;
/** Index of worker t's last instantiated executable's id (READY + t), for hosts whose workers announce it. */
export const READY = CONTROL_INTS - MAX_THREADS;

/**
 * How long an idle worker watches its task flag before it sleeps in
 * `Atomics.wait` (milliseconds): a step's kernels come back to back, and a
 * sleeping worker wakes tens of microseconds late, by which time the caller
 * has taken its part back and run the call alone.
 */
export const SPIN_MS = 0.2;

/**
 * The JavaScript, shared by every host's worker code, that runs the part of
 * the current call claimed by worker `index` (in scope, with `control` and
 * `exes`: executable id → its functions), reports a throw through FAILED,
 * clears the task flag and counts down. Only this file's numbers are spliced in.
 */
export const RUN_CLAIMED_PART = `
  const start = control[${PARTS} + 2 * index], end = control[${PARTS} + 2 * index + 1];
  const fn = exes.get(control[${EXE}])[control[${FN}]];
  const argc = control[${ARGC}];
  const args = [start, end];
  for (let i = 0; i < argc; i++) args.push(control[${ARGS} + i]);
  if (control[${ARGS} + argc] !== 0) args[args.length - 1] += index * control[${ARGS} + argc];
  try {
    fn(...args);
  } catch (e) {
    // The caller throws for it; counting down still, so that it does not wait forever.
    console.error(e);
    Atomics.compareExchange(control, ${FAILED}, 0, index);
  }
  Atomics.add(control, ${WORKER_PARTS}, 1);
  Atomics.store(control, ${TASK} + index, 0);
  if (Atomics.sub(control, ${REMAINING}, 1) === 1) Atomics.notify(control, ${REMAINING});
`;

/** What a worker is sent: an executable's module and memory to instantiate under `id`, or the id of one to drop. */
export type WorkerMessage = { readonly id: number; readonly module: object; readonly memory: object; readonly names: readonly string[] } | { readonly drop: number };

/**
 * Where workers come from. `start` starts worker `index` (1 ‥ N − 1) on the
 * shared control block and returns the port it reads messages from; the
 * worker must read a posted message before it runs a task posted after it
 * (it waits on its task flag, not on an event loop).
 */
export interface ThreadHost {
  start(index: number, control: Int32Array): { postMessage(m: WorkerMessage): void };
  /**
   * Whether workers read messages only between tasks, from an event loop (Web
   * Workers have no synchronous receive): then each worker stores the id of
   * each executable it has instantiated at `READY + index` (ids only grow, and
   * messages are read in order), and is posted parts only of executables up
   * to that id; the calling thread runs the others' parts itself.
   */
  readonly announcesReady?: boolean;
}

let host: ThreadHost | undefined;

/** Installs the host workers come from (an entry does this once: `node-threads.ts` in Node). */
export function installThreadHost(h: ThreadHost): void {
  host = h;
}

/** Whether workers can share a WebAssembly memory here: a host is installed, with SharedArrayBuffer and Atomics. */
export function threadsAvailable(): boolean {
  return host !== undefined && typeof SharedArrayBuffer !== "undefined" && typeof Atomics !== "undefined";
}

/** The pool: its workers' channels and the control block. */
interface Pool {
  readonly workers: number;
  readonly ports: { postMessage(m: WorkerMessage): void }[];
  readonly control: Int32Array;
  readonly announcesReady: boolean;
  /** Whether this thread may `Atomics.wait` (not a browser's main thread). */
  readonly mayBlock: boolean;
  nextExe: number;
}

let pool: Pool | undefined;

/** The process's pool with at least `threads` − 1 workers, or undefined where there is no host. */
function poolOf(threads: number): Pool | undefined {
  if (pool !== undefined && pool.workers >= threads - 1) return pool;
  if (host === undefined || !threadsAvailable()) return undefined;
  const control = pool?.control ?? new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  const ports = [...(pool?.ports ?? [])];
  for (let i = ports.length; i < threads - 1; i++) ports.push(host.start(i + 1, control));
  pool = { workers: ports.length, ports, control, announcesReady: host.announcesReady === true, mayBlock: mayBlock(control), nextExe: pool?.nextExe ?? 1 };
  return pool;
}

/** Whether this thread may block in `Atomics.wait` (it throws a TypeError, before comparing, where it may not). */
function mayBlock(control: Int32Array): boolean {
  try {
    Atomics.wait(control, PROBE, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Parts of calls that workers (not the calling thread) have run since the pool started: 0 where there is no pool. */
export function workerParts(): number {
  return pool === undefined ? 0 : Atomics.load(pool.control, WORKER_PARTS);
}

/** One call an executable makes: a function by index, its arguments (the range aside), and how its range splits. */
export interface ThreadedCall {
  readonly fn: number;
  readonly args: readonly number[];
  readonly range: number;
  readonly unit: number;
  /** Whether the last argument is thread 0's matmul scratch, each further thread's `scratchStride` bytes on. */
  readonly scratch: boolean;
  /** Work per position, to judge whether splitting pays. */
  readonly work: number;
}

/** Splitting pays above this much work per call (elements or multiply-adds). */
const SPLIT_WORK = 32768;

/** An executable's module instantiated in the pool: `call` runs one call on `threads` threads. */
export interface Threaded {
  readonly threads: number;
  /** Calls split among threads so far. */
  readonly splits: number;
  call(local: (...a: number[]) => void, c: ThreadedCall): void;
}

/**
 * The executable's module (exported `names`, in call order) in every worker
 * of a pool of `threads`; undefined where workers are unavailable.
 */
export function threaded(module: object, memory: object, names: readonly string[], threads: number, scratchStride: number): Threaded | undefined {
  if (threads <= 1 || threads > MAX_THREADS) return undefined;
  const p = poolOf(threads);
  if (p === undefined) return undefined;
  const id = p.nextExe++;
  for (const port of p.ports.slice(0, threads - 1)) port.postMessage({ id, module, memory, names });
  const control = p.control;
  /** Which parts of the current call were posted to their worker (1) rather than kept (0). */
  const posted = new Uint8Array(threads);
  const handle: Threaded = {
    threads,
    splits: 0,
    call(local, c) {
      const total = c.range * c.work;
      const units = Math.ceil(c.range / c.unit);
      const n = total < SPLIT_WORK ? 1 : Math.min(threads, units);
      if (n <= 1) {
        local(0, c.range, ...c.args);
        return;
      }
      // Thread t runs units [⌊t·units/n⌋, ⌊(t+1)·units/n⌋).
      const cut = (t: number) => Math.min(c.range, Math.floor((t * units) / n) * c.unit);
      (this as { splits: number }).splits++;
      control[EXE] = id;
      control[FN] = c.fn;
      control[ARGC] = c.args.length;
      for (let i = 0; i < c.args.length; i++) control[ARGS + i] = c.args[i]!;
      control[ARGS + c.args.length] = c.scratch ? scratchStride : 0;
      for (let t = 0; t < n; t++) {
        control[PARTS + 2 * t] = cut(t);
        control[PARTS + 2 * t + 1] = cut(t + 1);
      }
      Atomics.store(control, REMAINING, n - 1);
      // A worker that has not instantiated the executable yet (hosts that announce it) is not posted its part.
      for (let t = 1; t < n; t++) {
        posted[t] = p.announcesReady && Atomics.load(control, READY + t) < id ? 0 : 1;
        if (posted[t] === 0) continue;
        Atomics.store(control, TASK + t, 1);
        Atomics.notify(control, TASK + t);
      }
      local(cut(0), cut(1), ...c.args);
      // Parts no worker has claimed yet the caller runs itself (with its own scratch), so a worker that a busy
      // machine has not scheduled holds nothing up; the part is computed by the same code either way.
      // Parts never posted (a worker not ready) go the same way.
      for (let t = 1; t < n; t++) {
        if (posted[t] === 1 && Atomics.compareExchange(control, TASK + t, 1, 0) !== 1) continue;
        local(cut(t), cut(t + 1), ...c.args);
        Atomics.sub(control, REMAINING, 1);
      }
      if (p.mayBlock) for (let r; (r = Atomics.load(control, REMAINING)) !== 0; ) Atomics.wait(control, REMAINING, r);
      else while (Atomics.load(control, REMAINING) !== 0) continue;
      const failed = Atomics.exchange(control, FAILED, 0);
      if (failed !== 0) throw new Error(`CPU worker thread ${failed} failed running its part of ${names[c.fn] ?? `function ${c.fn}`} (its error is in the worker's console)`);
    },
  };
  // When the executable is collected, its instances in the workers go too (read when they next wake).
  dropper.register(handle, { id, ports: p.ports.slice(0, threads - 1) });
  return handle;
}

const dropper = new FinalizationRegistry<{ id: number; ports: { postMessage(m: WorkerMessage): void }[] }>(({ id, ports }) => {
  for (const port of ports) port.postMessage({ drop: id });
});
