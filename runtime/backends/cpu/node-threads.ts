/**
 * The CPU backend's worker threads in Node (`worker_threads`): the
 * `ThreadHost` of `threads.ts`, installed when this module is imported. The
 * Node entry (`runtime/node.ts`) and the CLI import it; the universal entry
 * never reaches it, so browser bundles hold no Node-only code.
 *
 * A worker instantiates each executable it is sent on the shared memory,
 * then waits on its task flag and claims each part posted to it (unless the
 * caller took it first). Messages are read synchronously
 * (`receiveMessageOnPort`) when it wakes, before its task, so no event loop
 * turn is needed (a worker started late finds its flag set and runs its part
 * then). Workers are unref'd: they never keep a process alive.
 */
import { MessageChannel, Worker } from "node:worker_threads";
import { EXE, installThreadHost, RUN_CLAIMED_PART, SPIN_MS, TASK } from "./threads.js";

/**
 * The worker's code (run with `eval`, so it needs no file and no loader):
 * instantiate what it is sent, then run parts of calls as they come. Its
 * imports are the functions `generated.ts` gives every module besides memory.
 */
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
  // The next call's part usually comes within microseconds (a step's kernels run back to back), and waking
  // from Atomics.wait takes tens: look a while before sleeping, so the caller does not take the part back.
  for (const until = performance.now() + ${SPIN_MS}; Atomics.load(control, ${TASK} + index) === 0 && performance.now() < until; );
  Atomics.wait(control, ${TASK} + index, 0);
  drain();
  // Claim the part; the caller may have taken it (then the flag is 0 again).
  if (Atomics.compareExchange(control, ${TASK} + index, 1, 2) !== 1) continue;
  // The executable's instantiation was posted before its first task: read until it is here.
  while (!exes.has(control[${EXE}])) drain();
${RUN_CLAIMED_PART}}
`;

installThreadHost({
  start(index, control) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER, { eval: true, workerData: { control, port: port2, index }, transferList: [port2] });
    worker.unref();
    return port1;
  },
});
