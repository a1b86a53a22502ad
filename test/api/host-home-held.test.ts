/**
 * Tensors held in a CPU executable's own buffers (`runtime/api/host-home.ts`,
 * `Executable.paramView`): a training step run again and again keeps its
 * updated params inside its memory instead of copying them out and back,
 * and every way of reaching a tensor sees the same numbers as a home that
 * copies: reads between updates, a second graph reading the same params,
 * writes and zeroes from outside, an update left uncommitted (the NaN
 * guard's case), and a destroyed graph. Compared bit for bit against the
 * same CPU backend with `paramView` hidden.
 */
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { hostHome } from "../../runtime/api/host-home.js";
import type { HomeTensor, TensorHome } from "../../runtime/api/home.js";
import type { Backend } from "../../runtime/backends/backend.js";
import { cpuBackend } from "../../runtime/backends/cpu/index.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { numbers } from "../cpu/compare.js";

/** A training step (params w [6, 5], v [5]; input x [4, 6]; outputs loss, new:w, new:v) and an evaluation reading w and v. */
function graphs() {
  const b = new IRBuilder();
  const x = b.input("x", [4, 6]);
  const w = b.param("w", [6, 5]);
  const v = b.param("v", [5]);
  const y = b.tanh(b.add(b.matmul(x, w), b.broadcastTo(v, [4, 5])));
  const loss = b.sum(b.mul(y, y));
  const [dw, dv] = grad(b, loss, [w, v]);
  const step = planKernelGraph(b.graph({ loss, "new:w": b.sub(w, b.mul(dw!, 0.05)), "new:v": b.sub(v, b.mul(dv!, 0.05)) }), cpuBackend.plan);
  const e = new IRBuilder();
  const ew = e.param("w", [6, 5]);
  const ev = e.param("v", [5]);
  const evaluate = planKernelGraph(e.graph({ out: e.add(e.sum(ew, 0), ev) }), cpuBackend.plan);
  return { step, evaluate };
}

/** The same sequence of runs, commits, reads and writes on `home`; every number read, in order. */
async function script(home: TensorHome): Promise<number[][]> {
  const { step, evaluate } = graphs();
  const w = home.create([6, 5], "f32", Float32Array.from(numbers(30, 1)));
  const v = home.create([5], "f32", Float32Array.from(numbers(5, 2)));
  const params = new Map<string, HomeTensor>([["w", w], ["v", v]]);
  const train = home.compile(step, params);
  const look = home.compile(evaluate, params);
  const seen: number[][] = [];
  const feeds = (k: number) => new Map([["x", { shape: [4, 6], data: Float32Array.from(numbers(24, 10 + k)) }]]);
  const update = async (k: number, commit = true) => {
    const out = await train.run(feeds(k), ["loss"]);
    seen.push([...out["loss"]!]);
    if (commit) train.commit([{ output: "new:w", tensor: w }, { output: "new:v", tensor: v }]);
  };
  for (let k = 0; k < 3; k++) await update(k);
  seen.push([...(await home.read(w))]);
  await update(3);
  // Another graph reads the params the step holds.
  seen.push([...(await look.run(new Map(), ["out"]))["out"]!]);
  await update(4);
  // An update left uncommitted changes nothing.
  await update(5, false);
  seen.push([...(await home.read(w))], [...(await home.read(v))]);
  await update(6);
  // Written and zeroed from outside while held.
  home.write(v, Float32Array.from(numbers(5, 3)));
  await update(7);
  home.zero(w);
  await update(8);
  await update(9);
  train.destroy();
  seen.push([...(await home.read(w))], [...(await home.read(v))]);
  seen.push([...(await look.run(new Map(), ["out"]))["out"]!]);
  return seen;
}

describe("tensors held in a CPU executable's buffers", () => {
  it("read, evaluate, skip a commit, write, zero and destroy with the bits of a home that copies", async () => {
    const copying: Backend = {
      name: "cpu",
      plan: cpuBackend.plan,
      compile(graph) {
        const exe = cpuBackend.compile(graph);
        return { graph: exe.graph, run: (feeds, params) => exe.run(feeds, params) };
      },
    };
    expect(cpuBackend.compile(graphs().step).paramView?.("w")).toBeInstanceOf(Float32Array);
    const held = await script(hostHome(cpuBackend));
    const copied = await script(hostHome(copying));
    expect(held.length).toBe(copied.length);
    held.forEach((row, i) => expect(Float32Array.from(row), `read ${i}`).toEqual(Float32Array.from(copied[i]!)));
    // The updates did something: the losses move.
    expect(held[0]![0]).not.toBe(held[2]![0]);
  });
});
