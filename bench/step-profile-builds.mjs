// A training step planned and run by two builds of repr side by side: by default dist-main/ (an earlier
// `npm run build`, copied aside) and dist/ (this checkout's), their steps alternating in one process so
// that a loaded machine slows both alike. Prints, per build, the kernel count, the mean ms per step and the
// ten costliest kernels (CPU backend, `profile: true`) with what the backend made of each.
// Unlike bench/train-steps.ts --baseline (one kernel graph, two backends) it compares whole builds:
// planner, autodiff and backend.
//   node bench/step-profile-builds.mjs FILE MODEL BATCH [STEPS=4] [THREADS=1] [BUILD_A=dist-main] [BUILD_B=dist]
// e.g. node bench/step-profile-builds.mjs examples/contrastive.repr Contrastive 256 4 2
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [file, model, batch, steps = "4", threads = "1", a = "dist-main", b = "dist"] = process.argv.slice(2);
async function load(root) {
  const imp = (p) => import(pathToFileURL(`${root}/${p}`).href);
  await imp("runtime/backends/cpu/node-threads.js");
  const { checkProgram } = await imp("compiler/check/check.js");
  const { nodeFileHost } = await imp("compiler/check/file-host.js");
  const { initialTensor, lowerModel, lowerTrainStep } = await imp("compiler/lower/index.js");
  const { Source } = await imp("language/source.js");
  const { planKernelGraph } = await imp("runtime/kernel/plan.js");
  const { compileCpu } = await imp("runtime/backends/cpu/index.js");
  const { program } = checkProgram(new Source(file, readFileSync(file, "utf8")), nodeFileHost);
  const lowered = lowerModel(program, model, { batch: Number(batch), mode: "train" });
  const step = lowerTrainStep(lowered, null);
  const graph = planKernelGraph(step.graph);
  const size = (s) => s.reduce((a, d) => a * d, 1);
  const params = {};
  for (const p of lowered.params) params[p.name] = initialTensor(p, 1);
  for (const s of step.state) params[s.name] = { shape: s.node.shape, data: new Float32Array(size(s.node.shape)) };
  const feeds = {};
  let seed = 1;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (const i of graph.inputs) feeds[i.name] = { shape: i.shape, data: i.dtype === "i32" ? Int32Array.from({ length: size(i.shape) }, () => Math.floor(next() * 8)) : Float32Array.from({ length: size(i.shape) }, next) };
  const exe = compileCpu(graph, { profile: true, threads: Number(threads) });
  exe.run(feeds, params);
  for (const x of exe.profile.values()) [x.ms, x.n] = [0, 0];
  return { root, graph, exe, feeds, params, total: 0 };
}
const vs = [await load(a), await load(b)];
for (let r = 0; r < Number(steps); r++) for (const v of vs) { const t = performance.now(); v.exe.run(v.feeds, v.params); v.total += performance.now() - t; }
for (const v of vs) {
  console.log(`${v.root}: ${v.graph.kernels.length} kernels, step ${(v.total / steps).toFixed(1)} ms`);
  const rows = [...v.exe.profile].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10);
  for (const [key, { ms }] of rows) {
    const id = Number(key.slice(1).split("_")[0]); const k = v.graph.kernels[id];
    console.log(`  ${(ms / steps).toFixed(1).padStart(7)}  ${key.padEnd(10)} ${k.kind} ${JSON.stringify(v.graph.values[k.output].shape)} ${v.exe.account.kernels[id].replace(/^k\d+_\d+: /, "").slice(0, 110)}`);
  }
}
process.exit(0);
