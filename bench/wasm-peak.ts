// This machine's WebAssembly SIMD peak: 12 independent f32x4 multiply-add chains per loop
// iteration, as mul+add and (where the engine has relaxed SIMD) as relaxed madd, on 1 worker and
// on N workers at once (summed). A kernel is judged against the peak of the instruction it uses,
// at the number of threads it runs on. bench/all.ts and bench/cpu-generated.ts measure it here.
import { Worker } from "node:worker_threads";
import { relaxedSimdAvailable } from "../runtime/backends/cpu/features.js";
import { Code, I32, V128, wasmModule } from "../runtime/backends/cpu/wasm.js";

/** A peak kernel: `iterations` rounds of 12 independent f32x4 multiply-add chains. */
function peakBytes(fused: boolean): Uint8Array {
  const f = new Code([I32]);
  const acc = Array.from({ length: 12 }, () => f.local(V128));
  const [a, b] = [f.local(V128), f.local(V128)];
  f.v128_const_f32([1.0001, 1.0001, 1.0001, 1.0001]).local_set(a);
  f.v128_const_f32([1e-7, 1e-7, 1e-7, 1e-7]).local_set(b);
  f.loop(() => {
    for (const x of acc) {
      if (fused) f.local_get(x).local_get(a).local_get(b).f32x4_relaxed_madd().local_set(x);
      else f.local_get(x).local_get(a).f32x4_mul().local_get(b).f32x4_add().local_set(x);
    }
    f.local_get(0).i32_const(1).i32_sub().local_tee(0).br_if(0);
  });
  // The chains' sum is stored, so that none of them is dead code.
  f.i32_const(0);
  f.local_get(acc[0]!);
  for (const x of acc.slice(1)) f.local_get(x).f32x4_add();
  f.v128_store();
  return wasmModule([{ name: "peak", code: f }]);
}

const PEAK_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
require("node:v8").setFlagsFromString("--experimental-wasm-relaxed-simd");
const mem = new WebAssembly.Memory({ initial: 1 });
const peak = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), { env: { memory: mem } }).exports.peak;
peak(1e5);
const n = workerData.iterations, t0 = performance.now();
peak(n);
parentPort.postMessage((n * 12 * 8) / ((performance.now() - t0) / 1000) / 1e9);
`;

/** GFLOP/s of the peak kernel on `threads` workers at once (summed); `iterations` per worker (2e6: about 0.1 s on a 3 GHz core). */
export async function peakGflops(fused: boolean, threads: number, iterations = 2e6): Promise<number> {
  const bytes = peakBytes(fused);
  const runs = await Promise.all(
    Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => new Worker(PEAK_WORKER, { eval: true, workerData: { bytes, iterations } }).once("message", resolve).once("error", reject))),
  );
  return +runs.reduce((s, x) => s + x, 0).toFixed(1);
}

/** The peaks at 1 and `threads` threads: mul+add always, relaxed madd where the engine has it; and which the CPU backend uses. */
export async function wasmSimdPeaks(threads: number, iterations?: number): Promise<{ instruction: "relaxed madd" | "mul+add"; gflops: Record<string, number>; used_1: number; used_n: number }> {
  const fma = relaxedSimdAvailable();
  const gflops: Record<string, number> = { muladd_1: await peakGflops(false, 1, iterations), [`muladd_${threads}`]: await peakGflops(false, threads, iterations) };
  if (fma) Object.assign(gflops, { madd_1: await peakGflops(true, 1, iterations), [`madd_${threads}`]: await peakGflops(true, threads, iterations) });
  const key = fma ? "madd" : "muladd";
  return { instruction: fma ? "relaxed madd" : "mul+add", gflops, used_1: gflops[`${key}_1`]!, used_n: gflops[`${key}_${threads}`]! };
}
