// Where ONNX Runtime spends a workload's run: the onnx backend's ONNX translation of the workload's
// kernel graph (bench/onnx-workloads.ts), run in a session with the backend's own options and
// ONNX Runtime's profiler on, then
//   - nodes by op type in the model repr writes and in the model ONNX Runtime runs after its own
//     graph optimizations (`optimizedModelFilePath`, read with Debian's python3-onnx);
//   - per op type of the optimized graph: nodes, microseconds a run (the profiler's kernel times,
//     summed, over the timed runs) and the share of the run;
//   - the slowest single nodes, with their shapes;
//   - the run's wall time, and the sum of kernel times (what the executor adds beyond kernels is the rest).
// Profiling adds its own cost per node, so the times are for comparing nodes, not for the benchmark.
// With `--against DIR` (a `--keep` folder of another checkout's run), it also times, without the profiler,
// sessions of this checkout's model and of DIR's model of the same workload in alternating rounds
// (`against_us` and `this_us`, medians of wall time per run; `against_cpu_us` and `this_cpu_us`, medians of the
// process's CPU time per run, all threads, which waiting for a core on a loaded machine does not inflate; and
// `cpu_against_over_this`, the ratio of their totals): the emitter's change as ONNX Runtime sees it, host code aside.
// Run from the repository root: `npx tsx bench/onnx-profile.ts --workloads skipgram,transfer [--runs 200] [--keep DIR] [--against DIR]`.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createOnnxBackend, loadOrt, sessionOptions, type OrtTensor } from "../runtime/backends/onnx/index.js";
import { size, WORKLOADS } from "./onnx-workloads.js";

const args = process.argv.slice(2);
const option = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const RUNS = Number(option("--runs") ?? 200);
const only = option("--workloads")?.split(",");
const keep = option("--keep");
const against = option("--against");
const AB_SECONDS = Number(option("--ab-seconds") ?? 4);
const folder = keep ?? mkdtempSync(join(os.tmpdir(), "repr-onnx-profile-"));
mkdirSync(folder, { recursive: true });
if (keep === undefined) process.on("exit", () => rmSync(folder, { recursive: true, force: true }));

/** Op types of a model file and each node's name → op type (python3-onnx). */
function opTypes(file: string): { counts: Record<string, number>; byName: Record<string, string> } {
  const py = `import onnx, json, sys, collections
m = onnx.load(sys.argv[1])
c = collections.Counter((n.domain + ':' if n.domain else '') + n.op_type for n in m.graph.node)
print(json.dumps({"counts": dict(c.most_common()), "byName": {n.name: n.op_type for n in m.graph.node}}))`;
  const r = spawnSync("/usr/bin/python3", ["-c", py, file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3-onnx could not read ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { counts: Record<string, number>; byName: Record<string, string> };
}

interface TraceEvent {
  readonly cat: string;
  readonly name: string;
  readonly dur: number;
  readonly args?: { op_name?: string; output_type_shape?: unknown; input_type_shape?: unknown };
}

const ort = await loadOrt();
const onnx = await createOnnxBackend();
const results: Record<string, unknown> = {};
for (const w of WORKLOADS.filter((w) => only === undefined || only.some((o) => w.name.startsWith(o)))) {
  const p = w.prepare();
  const exe = onnx.compile(p.graph);
  const slug = w.name.replace(/[^a-z0-9]+/gi, "-");
  const written = join(folder, `${slug}.onnx`);
  const optimized = join(folder, `${slug}.optimized.onnx`);
  writeFileSync(written, exe.bytes);
  const prefix = join(folder, `${slug}.profile`);
  // A kept folder may hold an earlier run's profile of this workload.
  for (const f of readdirSync(folder)) if (f.startsWith(`${slug}.profile`)) rmSync(join(folder, f));
  const session = await ort.InferenceSession.create(exe.bytes, { ...sessionOptions({}), enableProfiling: true, profileFilePrefix: prefix, optimizedModelFilePath: optimized });
  const feeds: Record<string, OrtTensor> = {};
  const tensor = (dtype: "f32" | "i32", data: ArrayLike<number>, shape: readonly number[]): OrtTensor =>
    new ort.Tensor(dtype === "f32" ? "float32" : "int32", dtype === "f32" ? Float32Array.from(data) : Int32Array.from(data), shape);
  for (const v of p.graph.inputs) feeds[v.name] = tensor(v.dtype, p.feeds.get(v.name)!.data, v.shape);
  for (const v of p.graph.params) feeds[v.name] = tensor(v.dtype, p.params.get(v.name)!.data, v.shape);
  for (const d of exe.draws) feeds[d.input] = new ort.Tensor("float32", new Float32Array(size(d.shape as number[])).fill(0.5), d.shape as number[]);
  const runner = (s: unknown) => (s as { run(f: object): Promise<unknown> }).run(feeds);
  let ab: Record<string, number> | undefined;
  if (against !== undefined) {
    const sessions = await Promise.all([readFileSync(join(against, `${slug}.onnx`)), exe.bytes].map((b) => ort.InferenceSession.create(b, sessionOptions({}))));
    const rounds: number[][] = [[], []];
    const cpu: number[][] = [[], []];
    for (const s of sessions) for (let r = 0; r < 5; r++) await runner(s);
    const start = performance.now();
    for (let round = 0; performance.now() - start < AB_SECONDS * 1000 || round < 6; round++) {
      for (const k of round % 2 === 0 ? [0, 1] : [1, 0]) {
        let n = 0;
        const t = performance.now();
        const u = process.cpuUsage();
        do {
          await runner(sessions[k]);
          n++;
        } while (performance.now() - t < 25);
        rounds[k]!.push(((performance.now() - t) * 1000) / n);
        const used = process.cpuUsage(u);
        cpu[k]!.push((used.user + used.system) / n);
      }
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    // CPU time (all of the process's threads) is the steadier measure on a loaded machine: waiting for a core is not in it.
    const sum = (xs: number[]): number => xs.reduce((a, x) => a + x, 0);
    ab = {
      against_us: +med(rounds[0]!).toFixed(0),
      this_us: +med(rounds[1]!).toFixed(0),
      against_over_this: +(med(rounds[0]!) / med(rounds[1]!)).toFixed(3),
      against_cpu_us: +med(cpu[0]!).toFixed(0),
      this_cpu_us: +med(cpu[1]!).toFixed(0),
      cpu_against_over_this: +(sum(cpu[0]!) / sum(cpu[1]!)).toFixed(3),
    };
    for (const s of sessions) await s.release();
  }
  for (let r = 0; r < 5; r++) await runner(session);
  const t0 = performance.now();
  for (let r = 0; r < RUNS; r++) await runner(session);
  const wallUs = ((performance.now() - t0) * 1000) / RUNS;
  (session as unknown as { endProfiling(): void }).endProfiling();
  await session.release();
  exe.dispose();
  const file = readdirSync(folder).find((f) => f.startsWith(`${slug}.profile`) && f.endsWith(".json"));
  const events = (JSON.parse(readFileSync(join(folder, file!), "utf8")) as TraceEvent[]).filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
  // The profile holds the warm-up runs too: keep the last RUNS runs' worth of each node.
  const perNode = new Map<string, TraceEvent[]>();
  for (const e of events) perNode.set(e.name, [...(perNode.get(e.name) ?? []), e]);
  const byOp = new Map<string, { nodes: number; us: number }>();
  const nodes: { node: string; op: string; us: number; shapes: unknown }[] = [];
  for (const [name, es] of perNode) {
    const timed = es.slice(-RUNS);
    const us = timed.reduce((a, e) => a + e.dur, 0) / RUNS;
    const op = es[0]!.args?.op_name ?? "?";
    const o = byOp.get(op) ?? { nodes: 0, us: 0 };
    o.nodes++;
    o.us += us;
    byOp.set(op, o);
    nodes.push({ node: name.replace(/_kernel_time$/, ""), op, us: +us.toFixed(1), shapes: es[0]!.args?.input_type_shape });
  }
  const kernelUs = [...byOp.values()].reduce((a, o) => a + o.us, 0);
  const entry = {
    batch: w.batch,
    kernels: p.graph.kernels.length,
    ...(ab ?? {}),
    wall_us_per_run_profiled: +wallUs.toFixed(0),
    kernel_us_per_run: +kernelUs.toFixed(0),
    nodes_written: opTypes(written).counts,
    nodes_optimized: opTypes(optimized).counts,
    time_by_op: Object.fromEntries(
      [...byOp]
        .sort((a, b) => b[1].us - a[1].us)
        .map(([op, o]) => [op, { nodes: o.nodes, us: +o.us.toFixed(1), share: +(o.us / kernelUs).toFixed(3) }]),
    ),
    slowest_nodes: nodes.sort((a, b) => b.us - a.us).slice(0, Number(option("--top") ?? 12)),
  };
  results[w.name] = entry;
  console.error(w.name, JSON.stringify({ ...(ab ?? {}), wall: entry.wall_us_per_run_profiled, kernels: entry.kernel_us_per_run }));
}
console.log(JSON.stringify({ bench: "onnx-profile", unit: "microseconds per run (profiled)", runs: RUNS, node: process.version, cores: os.cpus().length, load: os.loadavg().map((l) => +l.toFixed(2)), date: new Date().toISOString(), workloads: results }, null, 2));
