/**
 * `repr compile --emit` (issue 5, item 6): every kernel graph of the module
 * as JSON and text, every kernel's WGSL compute shader, and what the CPU
 * backend runs for every kernel with its WebAssembly module as text, so
 * people can read what the compiler did.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import initWabt from "wabt";
import { beforeAll, describe, expect, it } from "vitest";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { Source } from "../../language/source.js";
import { compileCpu, CPU_PLAN, printCpuAccount } from "../../runtime/backends/cpu/index.js";
import { instantiateBatchGraph } from "../../runtime/ir/batch-graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { simdModuleBytes } from "../../runtime/backends/cpu/simd.js";
import { wasmApi } from "../../runtime/backends/cpu/wasm.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/wgsl.js";
import { kernelGraphFromJson, kernelGraphToJson } from "../../runtime/kernel/graph.js";
import { assertValidKernelGraph } from "../../runtime/kernel/validate.js";
import { runCli } from "../cli/run-cli.js";
import { tempDir } from "../train/helpers.js";

const dir = tempDir("emit");
const AE = "examples/mnist-autoencoder.repr";

const folder = join(dir, "ae.graphs");

/** The shared graphs' names: `NAME.json` (beside each backend's own, `NAME.cpu.json` and `NAME.wgsl.json`). */
const sharedGraphNames = (files: readonly string[]): string[] => files.filter((f) => f.endsWith(".json") && !/\.(cpu|wgsl)\.json$/.test(f)).map((f) => f.slice(0, -5));

/** The graphs written in `where` for `kind` ("" for the shared plan, "cpu", "wgsl"), by name, as the JSON read back. */
function writtenGraphs(kind: "" | "cpu" | "wgsl" = "", where = folder) {
  const suffix = kind === "" ? ".json" : `.${kind}.json`;
  const names = kind === "" ? sharedGraphNames(readdirSync(where)) : readdirSync(where).filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length));
  return names.sort().map((name) => ({ name, graph: kernelGraphFromJson(readFileSync(join(where, `${name}${suffix}`), "utf8")) }));
}

describe("repr compile --emit", () => {
  beforeAll(() => {
    const r = runCli(["compile", "examples/mnist-autoencoder.repr", "-o", join(dir, "ae.ts"), "--emit", "graph", "--emit", "wgsl", "--emit", "cpu"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("the CPU backend's routine for every kernel as .cpu.txt, from the graphs as it plans them (.cpu.json), each graph's generated WebAssembly module as .cpu.wat");
  });

  it("writes each graph as valid kernel-graph JSON, its text form and the WGSL shader of every dispatch", () => {
    const files = readdirSync(folder).sort();
    // init, encode, decode, forward (each at the batch and at 1), the training step, and (since plans carry
    // their pipelines) each step of the pipeline `Train` that runs a graph: its pretrain and its test.
    const graphs = sharedGraphNames(files);
    expect(graphs).toEqual(["Train.1-pretrain", "Train.2-test", "decode", "decode.single", "encode", "encode.single", "forward", "forward.single", "init", "train.train"]);
    for (const g of graphs) {
      assertValidKernelGraph(kernelGraphFromJson(readFileSync(join(folder, `${g}.json`), "utf8")));
      expect(readFileSync(join(folder, `${g}.txt`), "utf8").length).toBeGreaterThan(0);
      // The shaders are the WebGPU backend's, from the graph as it plans it.
      const graph = kernelGraphFromJson(readFileSync(join(folder, `${g}.wgsl.json`), "utf8"));
      assertValidKernelGraph(graph);
      const wgsl = readFileSync(join(folder, `${g}.wgsl`), "utf8");
      // One shader per dispatch the executor runs, each naming the kernels it computes; together they compute every kernel.
      const dispatches = kernelWgsl(graph);
      const headers = [...wgsl.matchAll(/^\/\/ dispatch (\d+): kernels (.*)$/gm)];
      expect(headers.map((h) => Number(h[1])), g).toEqual(dispatches.map((_, i) => i));
      expect(wgsl.match(/@compute @workgroup_size/g)!.length, g).toBe(dispatches.length);
      expect(dispatches.map((d) => d.wgsl).every((s) => wgsl.includes(s)), g).toBe(true);
      const covered = new Set(headers.flatMap((h) => h[2]!.split(", ").map((k) => Number(k.slice(1)))));
      expect([...covered].sort((a, b) => a - b), g).toEqual(graph.kernels.map((k) => k.id).sort((a, b) => a - b));
    }
  });

  it("writes, per graph, the CPU backend's own account of compiling it, and its generated WebAssembly as text that assembles back to its bytes, readable by standard tools", async () => {
    const wabt = await initWabt();
    const cpuGraphs = writtenGraphs("cpu");
    expect(cpuGraphs.map((g) => g.name)).toEqual(writtenGraphs().map((g) => g.name));
    // The graphs are planned as the runtime's CPU home plans them (CPU_PLAN), not with the shared plan.
    const plan = buildModelPlan(checkProgram(new Source(AE, readFileSync(AE, "utf8")), nodeFileHost).program!, "Autoencoder");
    const step = plan.training[0]!;
    expect(kernelGraphToJson(cpuGraphs.find((g) => g.name === "train.train")!.graph)).toBe(kernelGraphToJson(planKernelGraph(instantiateBatchGraph(step.graph, step.batch), CPU_PLAN)));
    for (const { name, graph } of cpuGraphs) {
      // The file is what the backend says when it compiles the graph (on one thread, as --emit does): every kernel, with the function generated for it.
      const exe = compileCpu(graph, { threads: 1 });
      expect(exe.kernels, name).toMatch(/^generated/);
      const { account } = exe;
      const text = readFileSync(join(folder, `${name}.cpu.txt`), "utf8");
      expect(text, name).toBe(printCpuAccount(account.graph, account, `${name}.cpu.wat`));
      expect([...text.matchAll(/^\s*k(\d+): /gm)].map((m) => Number(m[1])), name).toEqual(account.graph.kernels.map((k) => k.id));
      // The module's text, read with wabt's standard features (SIMD, relaxed SIMD; not threads: the memory is not shared), assembles to the bytes the backend instantiated.
      const wat = readFileSync(join(folder, `${name}.cpu.wat`), "utf8");
      const parsed = wabt.parseWat(`${name}.cpu.wat`, wat, { simd: true, relaxed_simd: true });
      const assembled = new Uint8Array(parsed.toBinary({}).buffer);
      parsed.destroy();
      expect(assembled, name).toEqual(account.wasm);
      expect(wasmApi()!.validate(assembled), name).toBe(true);
      expect(wat, name).toMatch(/\(import "env" "memory" \(memory \(;0;\) \d+\)\)/);
      expect(wat, name).not.toContain("shared");
      // Every function the account names is exported from that module.
      for (const m of account.kernels.join("\n").matchAll(/\b(k\d+_\d+):/g)) expect(wat, `${name} ${m[1]}`).toContain(`(export "${m[1]}")`);
    }
    expect(readFileSync(join(folder, "train.train.cpu.txt"), "utf8")).toMatch(/k\d+_\d+: matmul: 1 × \[32, 784\] · \[784, 256\]/);
  });

  it("with REPR_CPU_GENERATED=0, writes the fixed SIMD kernels' one module as cpu-simd.wat, which assembles back to its bytes", async () => {
    const ops = join(dir, "ops.graphs");
    const r = runCli(["compile", "examples/mnist-autoencoder.repr", "-o", join(dir, "ops.ts"), "--emit", "cpu"], { env: { REPR_CPU_GENERATED: "0" } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("the CPU backend's routine for every kernel as .cpu.txt, from the graphs as it plans them (.cpu.json), the fixed SIMD kernels' WebAssembly module as cpu-simd.wat");
    let wasm: Uint8Array | undefined;
    for (const name of readdirSync(ops).filter((f) => f.endsWith(".cpu.txt")).map((f) => f.slice(0, -8))) {
      const graph = writtenGraphs("cpu", ops).find((g) => g.name === name)!.graph;
      const { account } = compileCpu(graph, { generated: false });
      const text = readFileSync(join(ops, `${name}.cpu.txt`), "utf8");
      expect(text, name).toBe(printCpuAccount(account.graph, account, "cpu-simd.wat"));
      expect([...text.matchAll(/^\s*k(\d+): /gm)].map((m) => Number(m[1])), name).toEqual(account.graph.kernels.map((k) => k.id));
      wasm = account.wasm;
    }
    expect(readFileSync(join(ops, "train.train.cpu.txt"), "utf8")).toMatch(/WebAssembly SIMD kernel "matmul": m=32 k=784 n=256/);
    // The module the executables were instantiated from, and the one the backend generates, are what the text assembles to.
    const wabt = await initWabt();
    const parsed = wabt.parseWat("cpu-simd.wat", readFileSync(join(ops, "cpu-simd.wat"), "utf8"), { simd: true });
    const assembled = parsed.toBinary({}).buffer;
    parsed.destroy();
    expect(wasm).toEqual(simdModuleBytes());
    expect(new Uint8Array(assembled)).toEqual(wasm);
    expect(readFileSync(join(ops, "cpu-simd.wat"), "utf8")).toContain('(func (;0;) (export "matmul")');
  });

  it("names what it can write when asked for something else", () => {
    const r = runCli(["compile", "examples/mnist-autoencoder.repr", "-o", join(dir, "x.ts"), "--emit", "asm"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--emit takes graph, wgsl or cpu, got 'asm'");
  });
});
