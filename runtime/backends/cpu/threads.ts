/**
 * Threads for generated executables: one pool per process of N − 1 workers
 * (worker_threads in Node) that, with the calling thread, split each large
 * kernel call's range over one shared WebAssembly memory.
 *
 * Every executable's module is instantiated in every worker on the same
 * shared memory (its functions are pure functions of their arguments and
 * that memory). A call is posted through a small shared control block: the
 * executable, the function, its arguments, and each thread's part of the
 * range; workers wake on a generation counter (`Atomics.wait`/`notify`), run
 * their part, and count down; the caller runs part 0 and waits for the
 * count. Parts are cut at multiples of the function's `unit`, and every
 * kernel computes each position of its range the same way whichever thread
 * runs it, with the same order of every sum, so results are bit for bit the
 * same for any number of threads.
 *
 * Instantiation messages are read synchronously (`receiveMessageOnPort`) by a
 * worker when it wakes, so no event loop turn is needed. Workers are unref'd:
 * they never keep a process alive.
 */
import { nodeBuiltin } from "./features.js";

/** The control block: [generation, remaining, executable, function, argc, threads, parts (2 per thread)…, args…]. */
const CONTROL_INTS = 1024;
const GEN = 0;
const REMAINING = 1;
const EXE = 2;
const FN = 3;
const ARGC = 4;
const THREADS = 5;
const PARTS = 8;
const MAX_THREADS = 64;
const ARGS = PARTS + 2 * MAX_THREADS;

interface WorkerLike {
  postMessage(message: unknown): void;
  unref(): void;
}

interface WorkerThreads {
  Worker: new (code: string, options: { eval: boolean; workerData: unknown }) => WorkerLike;
  MessageChannel: new () => { port1: { postMessage(m: unknown): void }; port2: unknown };
}

/** The pool: its workers' channels and the control block. */
interface Pool {
  readonly workers: number;
  readonly ports: { postMessage(m: unknown): void }[];
  readonly control: Int32Array;
  nextExe: number;
}

let pool: Pool | undefined;

/** The worker's code: instantiate what it is sent, then run parts of calls as they come. */
const WORKER = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const { control, port, index } = workerData;
const exes = new Map();
const imports = { sin: Math.sin, cos: Math.cos, pow: Math.pow, log: Math.log };
let seen = 0;
for (;;) {
  Atomics.wait(control, ${GEN}, seen);
  seen = Atomics.load(control, ${GEN});
  for (let m; (m = receiveMessageOnPort(port)) !== undefined; ) {
    const msg = m.message;
    if (msg.drop !== undefined) { exes.delete(msg.drop); continue; }
    const inst = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory, ...imports } });
    exes.set(msg.id, msg.names.map((n) => inst.exports[n]));
  }
  const threads = control[${THREADS}];
  if (index < threads) {
    const start = control[${PARTS} + 2 * index], end = control[${PARTS} + 2 * index + 1];
    if (start < end) {
      const fn = exes.get(control[${EXE}])[control[${FN}]];
      const argc = control[${ARGC}];
      const args = [start, end];
      for (let i = 0; i < argc; i++) args.push(control[${ARGS} + i]);
      const scratchAt = args.length - 1;
      if (control[${ARGS} + argc] !== 0) args[scratchAt] += index * control[${ARGS} + argc];
      fn(...args);
    }
    if (Atomics.sub(control, ${REMAINING}, 1) === 1) Atomics.notify(control, ${REMAINING});
  }
}
`;

/** The process's pool with at least `threads` − 1 workers, or undefined where there are no worker_threads. */
function poolOf(threads: number): Pool | undefined {
  if (pool !== undefined && pool.workers >= threads - 1) return pool;
  const wt = nodeBuiltin<WorkerThreads>("worker_threads");
  if (wt === undefined || typeof SharedArrayBuffer === "undefined") return undefined;
  const control = pool?.control ?? new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  const ports = [...(pool?.ports ?? [])];
  for (let i = ports.length; i < threads - 1; i++) {
    const { port1, port2 } = new wt.MessageChannel();
    const worker = new wt.Worker(WORKER, { eval: true, workerData: { control, port: port2, index: i + 1 }, transferList: [port2] } as never);
    worker.unref();
    ports.push(port1);
  }
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
  return {
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
      for (let t = 0; t < threads; t++) {
        control[PARTS + 2 * t] = t < n ? cut(t) : 0;
        control[PARTS + 2 * t + 1] = t < n ? cut(t + 1) : 0;
      }
      control[THREADS] = threads;
      Atomics.store(control, REMAINING, threads - 1);
      Atomics.add(control, GEN, 1);
      Atomics.notify(control, GEN);
      local(cut(0), cut(1), ...c.args);
      for (let r; (r = Atomics.load(control, REMAINING)) !== 0; ) Atomics.wait(control, REMAINING, r);
    },
  };
}
