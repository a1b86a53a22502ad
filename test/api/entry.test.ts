/**
 * The public entries: `repr/runtime` (runtime/index.ts) runs in browsers, so
 * nothing it imports, directly or through any chain, may be a Node module
 * (`node:fs`, ...) or a package; `repr/runtime/node` (runtime/node.ts) adds
 * those. package.json maps both, with their type declarations.
 */
import { readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import * as runtime from "../../runtime/index.js";
import * as node from "../../runtime/node.js";

const root = join(import.meta.dirname, "..", "..");

/** Every import and re-export specifier of a file, type-only ones included. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

/** The files `entry` reaches through relative imports, and every non-relative specifier met on the way, with the chain that reached it. */
function reach(entry: string): { files: Set<string>; external: Map<string, string[]> } {
  const files = new Set<string>();
  const external = new Map<string, string[]>();
  const visit = (file: string, chain: string[]): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith(".")) visit(normalize(join(dirname(file), spec.replace(/\.js$/, ".ts"))), [...chain, relative(root, file)]);
      else if (!external.has(spec)) external.set(spec, [...chain, relative(root, file)]);
    }
  };
  visit(join(root, entry), []);
  return { files, external };
}

describe("public entries", () => {
  it("runtime/index.ts reaches no Node module and no package, through any import chain", () => {
    const { files, external } = reach("runtime/index.ts");
    expect([...external].map(([spec, chain]) => `${spec} via ${chain.join(" → ")}`)).toEqual([]);
    expect(files.size).toBeGreaterThan(10);
    for (const f of files) expect(relative(root, f).startsWith("runtime")).toBe(true);
  });

  it("bundles for the browser with nothing but runtime/ in it, and loads Node-only modules only by computed dynamic imports", async () => {
    const result = await build({ entryPoints: [join(root, "runtime/index.ts")], bundle: true, platform: "browser", format: "esm", write: false, metafile: true, logLevel: "silent" });
    expect(Object.keys(result.metafile.inputs).filter((p) => !p.startsWith("runtime/"))).toEqual([]);
    const text = result.outputFiles[0]!.text;
    expect(text).not.toMatch(/\bfrom\s*["']|\brequire\(/);
    // Those left are taken only in Node, and only where needed: Dawn for WebGPU, ONNX Runtime and protobufjs for the onnx backend (optional packages: optional-packages.ts), and node:fs to look for a Vulkan loader first.
    const sites = [...reach("runtime/index.ts").files].flatMap((f) =>
      [...readFileSync(f, "utf8").matchAll(/await import\((\w+)\)/g)].map((m) => `${relative(root, f)}: import(${m[1]})`),
    );
    expect(sites.sort()).toEqual([
      "runtime/api/backends.ts: import(fsName)",
      "runtime/backends/onnx/index.ts: import(name)",
      "runtime/backends/onnx/proto.ts: import(name)",
      "runtime/backends/webgpu/device.ts: import(name)",
    ]);
    expect([...text.matchAll(/\bimport\(/g)]).toHaveLength(sites.length);
  });

  it("uses no Node-only global on the universal path", () => {
    for (const f of reach("runtime/index.ts").files) {
      const text = readFileSync(f, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      expect(text, relative(root, f)).not.toMatch(/\b(setImmediate|process\.|Buffer\.|require\(|__dirname)/);
    }
  });

  it("runtime/node.ts adds the Node-only helpers to everything the universal entry has", () => {
    for (const name of Object.keys(runtime)) expect(node).toHaveProperty(name);
    expect(Object.keys(node).filter((n) => !(n in runtime)).sort()).toEqual(["loadModel", "mnistDigits", "readCheckpoint", "saveModel", "writeCheckpointAtomic"]);
    expect(Object.keys(runtime).sort()).toEqual([
      "CheckpointError",
      "DataError",
      "Model",
      "PLAN_FORMAT",
      // The training engine's entry (runtime/api/pipeline.ts) and the error a diverged run rejects with.
      "Pipeline",
      "REPR_VERSION",
      "ReprError",
      "TrainingDiverged",
      "VOCABULARY_FORMAT",
      "accuracy",
      "checkpointMetadata",
      "countTopK",
      "decodeIdx",
      "decodeNpy",
      "decodeSafetensors",
      // Sampling (runtime/api/sample.ts) and a text run's vocabulary (runtime/data/vocabulary.ts).
      "drawToken",
      "encodeIdx",
      "encodeNpy",
      "encodeSafetensors",
      "idsToText",
      "nearest",
      "nearestNeighbourAccuracy",
      "planFromJson",
      "planToJson",
      "readCheckpointInfo",
      "shuffledOrder",
      "textToIds",
      "topKAccuracy",
      "vocabularyFromJson",
      "vocabularyToJson",
    ]);
  });

  it("package.json exports both entries with their declarations and keeps the bin", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: Record<string, { types: string; default: string }>; bin: Record<string, string> };
    expect(pkg.bin).toEqual({ repr: "dist/cli/main.js" });
    expect(pkg.exports["."]).toEqual({ types: "./dist/runtime/index.d.ts", default: "./dist/runtime/index.js" });
    expect(pkg.exports["./runtime"]).toEqual(pkg.exports["."]);
    expect(pkg.exports["./runtime/node"]).toEqual({ types: "./dist/runtime/node.d.ts", default: "./dist/runtime/node.js" });
  });
});
