/**
 * Golden kernel graphs: the text form (`printKernelGraph`) of small graphs
 * a model produces (a forward pass, and a training step with gradients and an
 * SGD update), one primitive per kernel and fused, compared with the sibling
 * `golden/*.txt` files. A missing
 * golden is written locally (and fails on CI); REPR_BLESS=1 rewrites all.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { printKernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { mlp } from "./models.js";

const dir = join(import.meta.dirname, "golden");
const bless = process.env.REPR_BLESS === "1";

describe("golden kernel graphs", () => {
  for (const [name, graph, fuse] of [
    ["mlp-forward", () => mlp(false), false],
    ["mlp-sgd-step", () => mlp(true), false],
    ["mlp-forward-fused", () => mlp(false), true],
    ["mlp-sgd-step-fused", () => mlp(true), true],
  ] as const) {
    it(name, () => {
      const text = printKernelGraph(planKernelGraph(graph(), { fuse }));
      const path = join(dir, `${name}.txt`);
      const missing = !existsSync(path);
      expect(missing && process.env.CI === "true", `${path} is missing`).toBe(false);
      if (bless || missing) writeFileSync(path, text);
      expect(text).toBe(readFileSync(path, "utf8"));
    });
  }
});
