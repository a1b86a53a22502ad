/**
 * `repr compile --target pytorch` against repr's reference backend, for
 * every training step of every example (the model's own and each
 * pipeline's): the generated module in float64, given the same tensors,
 * batch, seed and noise tables, computes the same loss; its autograd
 * gradients equal repr's (for each model's own step, whose gradient graph
 * the test lowers as the plan does); and one update through the step's
 * `Update` (clipping, decay, optimizer, schedule) gives the same new
 * tensors as the step's graph, running statistics included. Skipped, with
 * the reason, where /usr/bin/python3 lacks torch.
 *
 * One tensor kind is judged differently, as in test/torch/README.md: a
 * gradient that is zero in exact arithmetic (attention's key bias: softmax
 * ignores a constant added to every score) holds only roundoff on both sides,
 * and Adam turns noise into a step anywhere in (−lr, lr). Where torch's
 * gradient is at most 1e-10 of the step's largest, the gradient is compared
 * to that scale and the update only checked to move less than its rate.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describePytorch, printPytorch } from "../../compiler/emit/pytorch/index.js";
import { lowerModel, lowerTrainStep } from "../../compiler/lower/index.js";
import { referenceBackend } from "../../runtime/backends/reference/executor.js";
import { decodeSafetensors, encodeSafetensors, type Tensor } from "../../runtime/checkpoint/index.js";
import type { TensorFeed } from "../../runtime/backends/backend.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { examplePrograms } from "../gradients/helpers.js";
import { exampleGraphs, graphAt } from "../onnx/harness.js";
import { PYTHON, torchMissing } from "./available.js";
import { readFileSync } from "node:fs";

const missing = torchMissing();
if (missing) console.warn(`test/pytorch: PyTorch checks skipped: ${missing}`);

/** Relative to each tensor's scale: float64 roundoff, summed in another order. */
const TOLERANCE = 1e-8;
const BATCH = 3;
const dir = mkdtempSync(join(tmpdir(), "repr-pytorch-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f64 = (shape: readonly number[], data: ArrayLike<number>): Tensor => ({ dtype: "F64", shape: [...shape], data: Float64Array.from(data) });
const i64 = (shape: readonly number[], data: ArrayLike<number>): Tensor => ({ dtype: "I64", shape: [...shape], data: BigInt64Array.from(Array.from(data, (x) => BigInt(x))) });
const asTensor = (dtype: "f32" | "i32", f: TensorFeed): Tensor => (dtype === "f32" ? f64(f.shape, f.data) : i64(f.shape, f.data));

/** max|a − b| / max(max|b|, 1e-12). */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let s = 1e-12;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return Number.isNaN(d) ? Infinity : d / s;
}

describe.skipIf(missing !== null)(`the PyTorch module equals the reference backend${missing ? ` (skipped: ${missing})` : ""}`, () => {
  const all = missing ? [] : exampleGraphs().filter((g) => g.kind === "training");
  const programs = missing ? [] : examplePrograms();
  const files = [...new Set(all.map((g) => g.file))];

  it("covers a training step of every example", () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });

  for (const file of files) {
    it(`${file}: loss, gradients and one update of every training step, in float64`, () => {
      const graphs = all.filter((g) => g.file === file);
      const plan = graphs[0]!.plan;
      const folder = join(dir, file.replace(/\W/g, "_"));
      mkdirSync(join(folder, "module"), { recursive: true });
      const module = describePytorch([plan]);
      for (const [name, text] of printPytorch(module)) writeFileSync(join(folder, "module", name), text);
      const replaceMethod = new Map<string, string>();
      const cases = graphs.map((g, k) => {
        const { kernel, feeds, params } = graphAt(g, BATCH, { seed: 5, step: 0 });
        writeFileSync(join(folder, `tensors_${k}.safetensors`), encodeSafetensors(new Map(kernel.params.map((v) => [v.name, asTensor(v.dtype, params.get(v.name)!)]))));
        const data = new Map<string, Tensor>();
        for (const v of kernel.inputs) if (v.name !== "seed" && v.name !== "step" && v.name !== "updates") data.set(v.name, asTensor(v.dtype, feeds.get(v.name)!));
        writeFileSync(join(folder, `inputs_${k}.safetensors`), encodeSafetensors(data));
        const want = referenceBackend.compile(kernel).run(feeds, params);
        const updates = Number(feeds.get("updates")?.data[0] ?? 100);
        return { g, kernel, feeds, params, want, updates };
      });
      // Replace methods, by step key (their docs name it).
      for (const c of module.classes[0]!.methods) if (c.name.startsWith("replace_")) replaceMethod.set(c.doc!.match(/\(step ("[^"]*")\)/)![1]!, c.name);
      const caseJson = {
        class: module.classes[0]!.name,
        cases: cases.map((c) => ({ key: c.g.key, replace: c.g.replacedBefore.map((k) => replaceMethod.get(JSON.stringify(k))!), seed: 5, updates: c.updates })),
      };
      writeFileSync(join(folder, "case.json"), JSON.stringify(caseJson));
      const r = spawnSync(PYTHON, [join(import.meta.dirname, "step_check.py"), folder], { encoding: "utf8", timeout: 300_000 });
      expect(r.status, r.stdout + r.stderr).toBe(0);

      const program = programs.find((p) => p.file === file)!.program;
      cases.forEach((c, k) => {
        const torch = decodeSafetensors(readFileSync(join(folder, `torch_${k}.safetensors`)), `torch_${k}.safetensors`).tensors;
        const rows: [string, number][] = [["loss", rel(torch.get("loss")!.data as Float64Array, c.want["loss"]!.data)]];
        const optimizer = c.g.training!.optimizer!;
        const trained = optimizer.params.map((p) => p.name);
        expect(trained.length, c.g.label).toBeGreaterThan(0);
        const maxAbs = (name: string): number => (torch.get(name)!.data as Float64Array).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        const scale = Math.max(...trained.map((n) => maxAbs(`grad:${n}`)));
        const noise = new Set(trained.filter((n) => maxAbs(`grad:${n}`) <= 1e-10 * scale));
        for (const name of [...trained, ...[...torch.keys()].filter((n) => n.startsWith("new:") && !trained.includes(n.slice(4))).map((n) => n.slice(4))]) {
          const got = torch.get(`new:${name}`)!.data as Float64Array;
          if (noise.has(name)) {
            // |Δθ| ≤ lr · rate: the update of a noise gradient moves less than one step.
            const before = c.params.get(name)!.data;
            const bound = optimizer.lr * optimizer.params.find((p) => p.name === name)!.rate * (1 + 1e-9);
            rows.push([`Δ${name} within lr`, got.every((x, i) => Math.abs(x - before[i]!) <= bound) && c.want[`new:${name}`]!.data.every((x, i) => Math.abs(x - before[i]!) <= bound) ? 0 : 1]);
          } else rows.push([`new:${name}`, rel(got, c.want[`new:${name}`]!.data)]);
        }
        if (c.g.key === "train") {
          // repr's gradients: the same step lowered with its gradient nodes as outputs.
          const model = c.g.plan.model;
          const lowered = lowerModel(program, model, { batch: BATCH, mode: "train", prediction: false });
          const step = lowerTrainStep(lowered, null, new Set(), "input");
          const outputs = Object.fromEntries([...step.grads].map(([n, g]) => [`grad:${n}`, g]));
          const graph = planKernelGraph(lowered.builder.graph({ loss: lowered.outputs.loss!, ...outputs }));
          const grads = referenceBackend.compile(graph).run(c.feeds, c.params);
          for (const name of trained) {
            const got = torch.get(`grad:${name}`)!.data as Float64Array;
            const want = grads[`grad:${name}`]!.data;
            rows.push([`grad:${name}`, noise.has(name) ? got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i]!)), 0) / scale : rel(got, want)]);
          }
          expect(rows.filter(([n]) => n.startsWith("grad:")).length).toBe(trained.length);
        }
        expect(rows.filter(([, e]) => !(e <= TOLERANCE)), `${c.g.label}: ${JSON.stringify(rows.map(([n, e]) => [n, +e.toPrecision(2)]))}`).toEqual([]);
      });
    }, 300_000);
  }
});
