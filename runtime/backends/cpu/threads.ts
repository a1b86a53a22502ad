/**
 * Threads for generated executables: one pool per process of N − 1 workers
 * (worker_threads in Node) that, with the calling thread, split each large
 * kernel call's range over one shared WebAssembly memory.
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
 * Instantiation messages are read synchronously (`receiveMessageOnPort`) by a
 * worker when it wakes, before its task, so no event loop turn is needed (a
 * worker started late finds its flag set and runs its part then). Workers are unref'd:
 * they never keep a process alive.
 */
import { nodeBuiltin } from "./features.js";

/** The control block: [remaining, executable, function, argc, …, a task flag per thread…, parts (2 per thread)…, args…]. */
const CONTROL_INTS = 4096;
const REMAINING = 0;
const EXE = 1;
const FN = 2;
const ARGC = 3;
const MAX_THREADS = 64;
const TASK = 8;
const PARTS = TASK + MAX_THREADS;
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
const drain = () => {
  for (let m; (m = receiveMessageOnPort(port)) !== undefined; ) {
    const msg = m.message;
    if (msg.drop !== undefined) { exes.delete(msg.drop); continue; }
    const inst = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory, ...imports } });
    exes.set(msg.id, msg.names.map((n) => inst.exports[n]));
  }
};
for (;;) {
  Atomics.wait(control, ${TASK} + index, 0);
  drain();
  if (Atomics.load(control, ${TASK} + index) !== 1) continue;
  // The executable's instantiation was posted before its first task: read until it is here.
  while (!exes.has(control[${EXE}])) drain();
  const start = control[${PARTS} + 2 * index], end = control[${PARTS} + 2 * index + 1];
  const fn = exes.get(control[${EXE}])[control[${FN}]];
  const argc = control[${ARGC}];
  const args = [start, end];
  for (let i = 0; i < argc; i++) args.push(control[${ARGS} + i]);
  if (control[${ARGS} + argc] !== 0) args[args.length - 1] += index * control[${ARGS} + argc];
  fn(...args);
  Atomics.store(control, ${TASK} + index, 0);
  if (Atomics.sub(control, ${REMAINING}, 1) === 1) Atomics.notify(control, ${REMAINING});
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

const dropper = new FinalizationRegistry<{ id: number; ports: { postMessage(m: unknown): void }[] }>(({ id, ports }) => {
  for (const port of ports) port.postMessage({ drop: id });
});
