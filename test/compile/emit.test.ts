/**
 * `repr compile --emit` (issue 5, item 6): every kernel graph of the module
 * as JSON and text, and every kernel's WGSL compute shader, so people can
 * read what the compiler did.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kernelGraphFromJson } from "../../runtime/kernel/graph.js";
import { assertValidKernelGraph } from "../../runtime/kernel/validate.js";
import { runCli } from "../cli/run-cli.js";
import { tempDir } from "../train/helpers.js";

const dir = tempDir("emit");

describe("repr compile --emit", () => {
  it("writes each graph as valid kernel-graph JSON, its text form and one WGSL shader per kernel", () => {
    const out = join(dir, "ae.ts");
    const r = runCli(["compile", "examples/mnist-autoencoder.repr", "-o", out, "--emit", "graph", "--emit", "wgsl"]);
    expect(r.status, r.stderr).toBe(0);
    const folder = join(dir, "ae.graphs");
    const files = readdirSync(folder).sort();
    // init, encode, decode, forward (each at the batch and at 1) and the training step.
    const graphs = files.filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
    expect(graphs).toEqual(["decode", "decode.single", "encode", "encode.single", "forward", "forward.single", "init", "train.train"]);
    for (const g of graphs) {
      const graph = kernelGraphFromJson(readFileSync(join(folder, `${g}.json`), "utf8"));
      assertValidKernelGraph(graph);
      expect(readFileSync(join(folder, `${g}.txt`), "utf8").length).toBeGreaterThan(0);
      const wgsl = readFileSync(join(folder, `${g}.wgsl`), "utf8");
      expect(wgsl.match(/^\/\/ kernel k\d+$/gm)!.length, g).toBe(graph.kernels.length);
      expect(wgsl.match(/@compute @workgroup_size/g)!.length, g).toBe(graph.kernels.length);
    }
  });

  it("names what it can write when asked for something else", () => {
    const r = runCli(["compile", "examples/mnist-autoencoder.repr", "-o", join(dir, "x.ts"), "--emit", "cpu"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--emit takes graph or wgsl, got 'cpu'");
  });
});
