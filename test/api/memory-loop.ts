/**
 * A million single-example calls of a tiny model, run as its own process
 * (`node --expose-gc --import tsx`) by memory.test.ts: prints the heap and
 * array-buffer bytes after a warm-up and after the loop, each measured after
 * a full garbage collection, as one line of JSON.
 */
import { Model } from "../../runtime/index.js";
import { tinyPlan } from "./plans.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const calls = Number(process.argv[2] ?? 1_000_000);

function used(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// The CPU backend by name: auto would take the onnx backend where ONNX Runtime is installed, whose runs
// make small per-run wrappers (ONNX Runtime's tensor objects) that the garbage collector takes back.
const model = await Model.create(tinyPlan(4), { backend: "cpu" });
const x = new Float32Array(4);
const inputs = { x };
let sum = 0;
for (let i = 0; i < 10_000; i++) {
  x[0] = i % 7;
  sum += (await model.call("predict", inputs))[0]!;
}
const before = used();
const started = performance.now();
for (let i = 0; i < calls; i++) {
  x[0] = i % 7;
  sum += (await model.call("predict", inputs))[0]!;
}
const seconds = (performance.now() - started) / 1000;
const after = used();
process.stdout.write(JSON.stringify({ calls, before, after, seconds, finite: Number.isFinite(sum) }) + "\n");
