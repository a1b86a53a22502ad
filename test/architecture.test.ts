import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { OPTIONAL_PACKAGES } from "../runtime/optional-packages.js";

/**
 * Architecture invariants: the layers depend one way only
 * (language → compiler → runtime is the data flow; the language server,
 * lsp, sits above the compiler as the CLI does, and the CLI on top of it),
 * no module imports itself through a cycle, and the optional packages
 * (runtime/optional-packages.ts) are loaded only by `await import(...)`
 * where their feature starts.
 */
const root = join(import.meta.dirname, "..");
const layers = ["language", "compiler", "runtime", "lsp", "cli"] as const;
/** What each layer may import from the project (besides itself). */
const allowed: Record<(typeof layers)[number], readonly string[]> = {
  language: [],
  compiler: ["language", "runtime"],
  runtime: [],
  lsp: ["language", "compiler", "runtime"],
  cli: ["language", "compiler", "runtime", "lsp"],
};

function tsFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g)].map((m) => m[1]!);
  return specs.map((s) => normalize(join(dirname(file), s.replace(/\.js$/, ".ts"))));
}

const files = layers.flatMap((l) => tsFiles(join(root, l)));
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe("architecture", () => {
  it("has code in every layer that exists so far", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it("keeps the layers one-way", () => {
    const violations: string[] = [];
    for (const [file, deps] of graph) {
      const layer = relative(root, file).split(/[\\/]/)[0] as (typeof layers)[number];
      for (const dep of deps) {
        const depLayer = relative(root, dep).split(/[\\/]/)[0]!;
        if (depLayer !== layer && !allowed[layer].includes(depLayer)) {
          violations.push(`${relative(root, file)} imports ${relative(root, dep)}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it("keeps backends siblings: no backend's folder imports another's (they share runtime/backends/backend.ts)", () => {
    const violations: string[] = [];
    const backendOf = (f: string): string | null => {
      const parts = relative(root, f).split(/[\\/]/);
      return parts[0] === "runtime" && parts[1] === "backends" && parts.length > 3 ? parts[2]! : null;
    };
    for (const [file, deps] of graph) {
      const own = backendOf(file);
      if (own === null) continue;
      for (const dep of deps) {
        const other = backendOf(dep);
        if (other !== null && other !== own) violations.push(`${relative(root, file)} imports ${relative(root, dep)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("keeps the emitters siblings: compiler/emit/onnx and compiler/emit/pytorch import neither each other nor the TypeScript emitter", () => {
    const targetOf = (f: string): string | null => {
      const parts = relative(root, f).split(/[\\/]/);
      return parts[0] === "compiler" && parts[1] === "emit" ? (parts.length > 3 ? parts[2]! : "ts") : null;
    };
    const violations: string[] = [];
    for (const [file, deps] of graph) {
      const own = targetOf(file);
      if (own !== "onnx" && own !== "pytorch") continue;
      for (const dep of deps) {
        const other = targetOf(dep);
        if (other !== null && other !== own) violations.push(`${relative(root, file)} imports ${relative(root, dep)}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("has no import cycles", () => {
    const state = new Map<string, "visiting" | "done">();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(root, f)).join(" -> "));
        return;
      }
      state.set(file, "visiting");
      for (const dep of graph.get(file) ?? []) {
        // `import type` cycles are harmless at run time but still a smell; we count them too.
        if (graph.has(dep)) visit(dep, [...path, file]);
      }
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it("reaches no optional package through static imports from the CLI or either runtime entry", () => {
    const optional = Object.keys(OPTIONAL_PACKAGES);
    for (const entry of ["cli/main.ts", "runtime/index.ts", "runtime/node.ts"]) {
      const reached = staticPackages(join(root, entry));
      expect([...reached].filter(([name]) => optional.includes(name)).map(([name, chain]) => `${name} via ${chain}`), entry).toEqual([]);
    }
    // The walk sees them where they are imported: the emitter, which `repr compile` loads with `await import(...)`.
    expect(staticPackages(join(root, "compiler/emit/index.ts")).has("ts-morph")).toBe(true);
  });

  it("loads the language server's protocol library only for `repr lsp`, by `await import(...)`", () => {
    expect(staticPackages(join(root, "cli/main.ts")).has("vscode-languageserver")).toBe(false);
    expect(staticPackages(join(root, "lsp/stdio.ts")).has("vscode-languageserver")).toBe(true);
  });
});

/**
 * The packages `entry` loads when it is loaded: through its static value
 * imports and theirs (not `import type`, not `await import(...)`), each with
 * the chain of files that reaches it.
 */
function staticPackages(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string, chain: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s)?[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm)) {
      if (m[1] !== undefined) continue;
      const spec = (m[2] ?? m[3])!;
      const here = `${chain} → ${relative(root, file)}`;
      if (spec.startsWith(".")) visit(normalize(join(dirname(file), spec.replace(/\.js$/, ".ts"))), here);
      else if (!spec.startsWith("node:")) packages.set(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!, here.slice(3));
    }
  };
  visit(entry, "");
  return packages;
}
