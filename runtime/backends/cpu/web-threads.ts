/**
 * The CPU backend's worker threads in a browser (Web Workers): the
 * `ThreadHost` of `threads.ts`. The universal entry (`runtime/index.ts`)
 * imports this module, which installs the host only in a cross-origin-isolated
 * page (`crossOriginIsolated`, so SharedArrayBuffer and shared WebAssembly
 * memories exist) with `Worker`, `Blob` and `URL.createObjectURL`; elsewhere
 * (Node, an ordinary page) it installs nothing and kernels run on one thread
 * (Node's entry installs `node-threads.ts`).
 *
 * Each worker is a classic worker from a Blob URL of the code below, so there
 * is no extra file to serve. Web Workers have no synchronous message receive,
 * so a worker reads its messages (modules to instantiate, ones to drop) only
 * from its event loop, between tasks, and announces each executable it has
 * instantiated (`announcesReady`: `READY + index`); the caller posts it parts
 * only of executables it has, and runs the rest itself. Between tasks the
 * worker waits with `Atomics.waitAsync` on its task flag, which leaves its
 * event loop free for messages; where the engine lacks `waitAsync` it blocks
 * in `Atomics.wait` for at most `POLL_MS`, then yields one event-loop turn (a
 * message to itself, not a clamped timer), and waits again.
 */
import { installThreadHost, READY, RUN_CLAIMED_PART, SPIN_MS, TASK, type ThreadHost } from "./threads.js";

/** How long a worker without `Atomics.waitAsync` blocks before it reads its messages (milliseconds). */
const POLL_MS = 20;

/**
 * The worker's code. Its first message is its control block and index (and
 * whether to use the polling loop); then modules and drops. Its imports are
 * the functions `generated.ts` gives every module besides memory. Only
 * numbers from this file are spliced in.
 */
const WORKER = `
"use strict";
let control, index, poll;
const exes = new Map();
const imports = { sin: Math.sin, cos: Math.cos, pow: Math.pow, log: Math.log };
// Claims and runs the part posted to this worker, if any (the caller may have taken it back: then the flag is 0).
const runPart = () => {
  if (Atomics.compareExchange(control, ${TASK} + index, 1, 2) !== 1) return;
${RUN_CLAIMED_PART}};
// With waitAsync: run what is posted, then wait without blocking the event loop.
// Watches the task flag a while before waiting (SPIN_MS in threads.ts says why).
const spin = () => {
  for (const until = performance.now() + ${SPIN_MS}; Atomics.load(control, ${TASK} + index) === 0 && performance.now() < until; );
};
const waitLoop = async () => {
  for (;;) {
    runPart();
    spin();
    runPart();
    const w = Atomics.waitAsync(control, ${TASK} + index, 0);
    if (w.async) await w.value;
  }
};
// Without it: block a while, run what is posted, then let the event loop deliver messages.
const tick = new MessageChannel();
const pollLoop = () => {
  spin();
  Atomics.wait(control, ${TASK} + index, 0, ${POLL_MS});
  runPart();
  tick.port2.postMessage(0);
};
tick.port1.onmessage = pollLoop;
self.onmessage = (e) => {
  const m = e.data;
  if (m.control !== undefined) {
    ({ control, index, poll } = m);
    if (!poll && typeof Atomics.waitAsync === "function") waitLoop();
    else pollLoop();
    return;
  }
  if (m.drop !== undefined) { exes.delete(m.drop); return; }
  const inst = new WebAssembly.Instance(m.module, { env: { memory: m.memory, ...imports } });
  exes.set(m.id, m.names.map((n) => inst.exports[n]));
  Atomics.store(control, ${READY} + index, m.id);
};
`;

/** What this module needs of the page's globals. */
interface WebGlobals {
  readonly crossOriginIsolated?: boolean;
  readonly Worker?: new (url: string, options?: { name?: string }) => { postMessage(m: unknown): void };
  readonly Blob?: new (parts: string[], options: { type: string }) => object;
  readonly URL?: { createObjectURL?(blob: object): string };
}

/** Whether this page can run Web Workers on a shared memory: cross-origin isolated, with SharedArrayBuffer, Atomics, Worker, Blob URLs. */
export function webThreadsSupported(g: WebGlobals = globalThis as WebGlobals): boolean {
  return g.crossOriginIsolated === true && typeof SharedArrayBuffer === "function" && typeof Atomics === "object" && typeof g.Worker === "function" && typeof g.Blob === "function" && typeof g.URL?.createObjectURL === "function";
}

/**
 * The Web Worker host. `poll` makes its workers use the polling loop even
 * where `Atomics.waitAsync` exists (for tests of that path).
 */
export function webThreadHost(options: { readonly poll?: boolean } = {}): ThreadHost {
  const g = globalThis as WebGlobals;
  let url: string | undefined;
  return {
    announcesReady: true,
    start(index, control) {
      try {
        url ??= g.URL!.createObjectURL!(new g.Blob!([WORKER], { type: "text/javascript" }));
        const worker = new g.Worker!(url, { name: `repr cpu ${index}` });
        worker.postMessage({ control, index, poll: options.poll === true });
        return worker;
      } catch {
        // A page whose policy forbids Blob URL workers: a worker that never announces anything, so the caller runs its parts.
        return { postMessage() {} };
      }
    },
  };
}

/** Installs the Web Worker host where this page supports it (`webThreadsSupported`); returns whether it did. */
export function installWebThreads(options: { readonly poll?: boolean } = {}): boolean {
  if (!webThreadsSupported()) return false;
  installThreadHost(webThreadHost(options));
  return true;
}

installWebThreads();
