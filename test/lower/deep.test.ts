/**
 * Lowering follows the program's nesting without nesting calls
 * (compiler/lower/task.ts): a chain of 1,200 blocks, each calling the one
 * before, checks clean, and so must lower, plan, compile and train; so must
 * a model whose lets form a chain of 5,000.
 */
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { lowerCheckedModel } from "../../compiler/lower/index.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { hasStackTrace, runCli } from "../cli/run-cli.js";
import { tempDir } from "../train/helpers.js";
import { checked } from "./harness.js";

/** Blocks b0 … b(n−1), each b(i) the block b(i−1), and a model applying the last one. */
function blockChain(n: number): string {
  const blocks = ["block b0() { relu }"];
  for (let i = 1; i < n; i++) blocks.push(`block b${i}() { b${i - 1} }`);
  return `${blocks.join("\n")}
model M {
  input x: f32[4]
  encoder f = b${n - 1} -> dense(4)
  loss l = mse(f(x), x)
}

data rows {
  x: f32[4]
}

pipeline P {
  pretrain M on rows.train { steps: 2, batch: 8 }
}
`;
}

/** A model whose lets each apply relu to the one before. */
function letChain(n: number): string {
  const lets = Array.from({ length: n - 1 }, (_, i) => `  let a${i + 1} = a${i} -> relu`);
  return `model L {\n  input x: f32[4]\n  encoder f = dense(4)\n  let a0 = f(x)\n${lets.join("\n")}\n  loss l = mse(a${n - 1}, x)\n}\n`;
}

const dir = tempDir("deep");

describe("deep programs lower without exhausting the stack", () => {
  it("a chain of 1,200 blocks lowers and plans: its one dense layer is stage 1 of f", () => {
    const program = checked(blockChain(1200));
    const lowered = lowerCheckedModel(program.models[0]!, { batch: 2, mode: "train" });
    expect(lowered.params.map((p) => p.name)).toEqual(["f.1.weight", "f.1.bias"]);
    const plan = buildModelPlan(program, "M");
    expect(plan.pipelines[0]!.steps[0]!.kind).toBe("pretrain");
    expect(plan.tensors.map((t) => t.name)).toEqual(["f.1.weight", "f.1.bias"]);
  });

  it("a chain of 5,000 lets lowers: 4,999 relus between the dense layer and the loss", () => {
    const lowered = lowerCheckedModel(checked(letChain(5000)).models[0]!, { batch: 2, mode: "eval" });
    let relus = 0;
    const seen = new Set<unknown>();
    const stack = [lowered.outputs.loss!];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      if (n.op === "relu") relus++;
      stack.push(...n.inputs);
    }
    expect(relus).toBe(4999);
  });

  it("repr graph, compile and train run the 1,200-block chain (exit 0)", () => {
    const file = join(dir, "chain.repr");
    writeFileSync(file, blockChain(1200));
    const rows = ["x_0,x_1,x_2,x_3", ...Array.from({ length: 16 }, (_, i) => [0, 1, 2, 3].map((j) => ((i * 7 + j * 3) % 10) / 10).join(","))];
    writeFileSync(join(dir, "rows.csv"), `${rows.join("\n")}\n`);
    const runs = [
      runCli(["graph", file]),
      runCli(["compile", file, "-o", join(dir, "chain.ts")]),
      runCli(["train", file, "--data", `rows=${join(dir, "rows.csv")}`, "--out", join(dir, "run"), "--backend", "reference"]),
    ];
    for (const r of runs) {
      expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
      expect(r.stderr).not.toContain("internal error");
      expect(r.status, r.stderr).toBe(0);
    }
    expect(runs[0]!.stdout).toMatch(/param "f\.1\.weight" : f32\[4, 4\]/);
    expect(runs[2]!.stdout).toContain("1 pretrain");
  });
});
