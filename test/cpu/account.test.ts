/**
 * The CPU backend's account of what it runs (`account.ts`, printed by
 * `repr compile --emit cpu`): it names the routine each kernel's step was
 * compiled to — SIMD or JavaScript, a reshape as a view, a transpose folded
 * into its product — lists the steps the executable really runs, and carries
 * the bytes of the WebAssembly module the kernels were instantiated from.
 */
import { describe, expect, it } from "vitest";
import { buildModelPlan } from "../../compiler/plan/index.js";
import type { TensorFeeds } from "../../runtime/backends/backend.js";
import { compileCpu, printCpuAccount, simdAvailable, type CpuOptions } from "../../runtime/backends/cpu/index.js";
import { simdModuleBytes } from "../../runtime/backends/cpu/simd.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { instantiateBatchGraph } from "../../runtime/ir/batch-graph.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import type { KernelGraph, NamedValue } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { examplePrograms } from "../gradients/helpers.js";

const FALLBACK: CpuOptions = { simd: false };
/** The fixed SIMD kernels op by op (the backend before code generation), which these accounts describe. */
const OPS: CpuOptions = { generated: false };

/** y = exp(x · wᵀ + reshape(b)): a transpose to fold, a reshape to alias, a SIMD add, a JavaScript exp. */
function layer(): KernelGraph {
  const g = new IRBuilder();
  const [x, w, b] = [g.input("x", [8, 5]), g.input("w", [6, 5]), g.input("b", [2, 3])];
  return planKernelGraph(g.graph({ y: g.exp(g.add(g.matmul(x, g.transpose(w)), g.broadcastTo(g.reshape(b, [1, 6]), [8, 6]))) }), { fuse: false });
}

/** The account of each kernel, keyed by its op. */
function accountsByOp(graph: KernelGraph, kernels: readonly string[]): Map<string, string[]> {
  const byOp = new Map<string, string[]>();
  graph.kernels.forEach((k, i) => byOp.set(k.ops[0]!.op, [...(byOp.get(k.ops[0]!.op) ?? []), kernels[i]!]));
  return byOp;
}

/** Zeros for every input and param of `graph`. */
function zeros(list: readonly NamedValue[]): TensorFeeds {
  return Object.fromEntries(list.map((n) => [n.name, { shape: n.shape, data: n.dtype === "f32" ? new Float32Array(sizeOf(n.shape)) : new Int32Array(sizeOf(n.shape)) }]));
}

describe("the CPU backend's account of what it runs", () => {
  it("with SIMD: the transpose folded into a SIMD matmul, the reshape a view, add on SIMD, exp a JavaScript loop", () => {
    expect(simdAvailable()).toBe(true);
    const graph = layer();
    const exe = compileCpu(graph, OPS);
    const byOp = accountsByOp(graph, exe.account.kernels);
    expect(byOp.get("permute")).toEqual([expect.stringMatching(/^no step: a transpose nothing reads any more/)]);
    expect(byOp.get("matmul")).toEqual([expect.stringMatching(/^the product v\d+ · v\d+ᵀ, the transposes around it folded in; WebAssembly SIMD kernel "matmul": m=8 k=5 n=6; A as stored \[m, k\]; B read transposed/)]);
    expect(byOp.get("reshape")).toEqual([expect.stringMatching(/^no step: a view of v\d+/)]);
    expect(byOp.get("add")).toEqual(["WebAssembly SIMD kernel \"add\": 4 lanes at a time, then one at a time, 48 elements"]);
    expect(byOp.get("exp")).toEqual([expect.stringMatching(/^JavaScript loop: exp, 48 f32 elements$/)]);
    expect(byOp.get("expand")).toEqual([expect.stringMatching(/^JavaScript loop: repeat a source of 6 element\(s\)/)]);
    // expand, add and exp run as one chunked chain after the product.
    const ids = (op: string) => graph.kernels.filter((k) => k.ops[0]!.op === op).map((k) => k.id);
    expect(exe.account.steps).toEqual([ids("matmul"), [...ids("expand"), ...ids("add"), ...ids("exp")]]);
    expect(exe.account.wasm).toEqual(simdModuleBytes());
  });

  it("on the JavaScript fallback: every step a JavaScript routine, nothing folded, no WebAssembly", () => {
    const graph = layer();
    const exe = compileCpu(graph, FALLBACK);
    const byOp = accountsByOp(graph, exe.account.kernels);
    expect(exe.account.wasm).toBeUndefined();
    expect(exe.account.kernels.join("\n")).not.toContain("WebAssembly");
    expect(byOp.get("permute")).toEqual([expect.stringMatching(/^JavaScript transpose of 1 matrix \[6, 5\]/)]);
    expect(byOp.get("matmul")).toEqual([expect.stringMatching(/^JavaScript matmul: m=8 k=5 n=6/)]);
    expect(byOp.get("add")).toEqual(["JavaScript loop: add, 48 f32 elements"]);
    expect(printCpuAccount(graph, exe.account)).toContain("JavaScript fallback (no WebAssembly SIMD)");
  });

  it("lists every kernel of the autoencoder's training step once, and the steps it lists are the steps that run", () => {
    const ae = examplePrograms().find((p) => p.file === "mnist-autoencoder.repr")!;
    const step = buildModelPlan(ae.program, ae.program.models[0]!.name, {}).training[0]!;
    const graph = planKernelGraph(instantiateBatchGraph(step.graph, step.batch), { fuse: false });
    const exe = compileCpu(graph, OPS);
    const text = printCpuAccount(graph, exe.account);
    const listed = [...text.matchAll(/^\s*k(\d+): /gm)].map((m) => Number(m[1]));
    expect(listed).toEqual(graph.kernels.map((k) => k.id));
    // Every kernel's routine line follows it, and SIMD elementwise kernels are the ops they say.
    graph.kernels.forEach((k, i) => {
      const account = exe.account.kernels[i]!;
      expect(text).toContain(`k${k.id}: `);
      const simdOp = /^WebAssembly SIMD kernel "(\w+)"/.exec(account)?.[1];
      if (simdOp !== undefined && simdOp !== "matmul") expect(simdOp).toBe(k.ops[0]!.op);
      if (account.startsWith("no step")) expect(exe.account.steps.flat()).not.toContain(k.id);
      else expect(exe.account.steps.flat()).toContain(k.id);
    });
    expect(exe.account.kernels.some((a) => a.includes('WebAssembly SIMD kernel "matmul"'))).toBe(true);
    // Timed kernel by kernel, a run calls exactly the steps the account lists.
    const profiled = compileCpu(graph, { ...OPS, profile: true });
    profiled.run(zeros(graph.inputs), zeros(graph.params));
    const calls = [...profiled.profile!.values()].reduce((n, e) => n + e.n, 0);
    expect(calls).toBe(profiled.account.steps.length);
    expect(profiled.account.steps.flat()).toEqual(exe.account.steps.flat());
  });

  it("generated: one WebAssembly function per fused kernel of the autoencoder's step, each named in the module", () => {
    const ae = examplePrograms().find((p) => p.file === "mnist-autoencoder.repr")!;
    const step = buildModelPlan(ae.program, ae.program.models[0]!.name, {}).training[0]!;
    const graph = planKernelGraph(instantiateBatchGraph(step.graph, step.batch));
    const exe = compileCpu(graph);
    expect(exe.kernels).toMatch(/^generated/);
    expect(exe.account.kernels).toHaveLength(graph.kernels.length);
    const text = new TextDecoder("latin1").decode(exe.account.wasm!);
    graph.kernels.forEach((k, i) => {
      const account = exe.account.kernels[i]!;
      const kind = k.kind === "matmul" || k.kind === "conv" ? "matmul" : k.kind === "single" ? "JavaScript" : k.kind!;
      expect(account, `k${k.id}`).toContain(kind);
      // Every generated function is exported under the name its account gives.
      for (const m of account.matchAll(/\b(k\d+_\d+):/g)) expect(text).toContain(m[1]!);
    });
    expect(exe.account.kernels.filter((a) => a.includes("matmul:")).length).toBe(graph.kernels.filter((k) => k.kind === "matmul").length);
  });
});
