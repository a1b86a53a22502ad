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
 * runs its part, clears the flag and counts down; the caller runs part 0 and waits for the
 * count. Parts are cut at multiples of the function's `unit`, and every
 * kernel computes each position of its range the same way whichever thread
 * runs it, with the same order of every sum, so results are bit for bit the
 * same for any number of threads.
 *
 * Architecture invariant: this file holds no Node-only code, since the
 * universal entry (`runtime/index.ts`, which browsers bundle) reaches it.
 * Workers come from a `ThreadHost` that an entry installs: the Node entry
 * (`runtime/node.ts`) and the CLI install `node-threads.ts` (worker_threads).
 * Where none is installed (a browser today) kernels run on the calling thread.
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
/** Index of thread 0's task flag (thread t's at TASK + t). */
export const TASK = 8;
/** Index of thread 0's part [start, end) (thread t's at PARTS + 2t). */
export const PARTS = TASK + MAX_THREADS;
/** Index of the first argument; after the last, the scratch stride (0: no scratch). */
export const ARGS = PARTS + 2 * MAX_THREADS;

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
  pool = { workers: ports.length, ports, control, nextExe: pool?.nextExe ?? 1 };
  return pool;
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
      for (let t = 1; t < n; t++) {
        Atomics.store(control, TASK + t, 1);
        Atomics.notify(control, TASK + t);
      }
      local(cut(0), cut(1), ...c.args);
      for (let r; (r = Atomics.load(control, REMAINING)) !== 0; ) Atomics.wait(control, REMAINING, r);
    },
  };
  // When the executable is collected, its instances in the workers go too (read when they next wake).
  dropper.register(handle, { id, ports: p.ports.slice(0, threads - 1) });
  return handle;
}

const dropper = new FinalizationRegistry<{ id: number; ports: { postMessage(m: WorkerMessage): void }[] }>(({ id, ports }) => {
  for (const port of ports) port.postMessage({ drop: id });
});
