/**
 * The checker's test harness: check source text (with optional extra files)
 * and assert it is valid, or that it gives exactly the expected errors.
 */
import { expect } from "vitest";
import { posix } from "node:path";
import { Source } from "../../language/source.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import type { Diagnostic } from "../../language/diagnostics/diagnostic.js";
import { checkProgram, type CheckResult } from "../../compiler/check/check.js";
import { nodeFileHost, resolveImport, type FileHost } from "../../compiler/check/file-host.js";

/** An in-memory file host; `std` imports still read the bundled library. */
export function memoryHost(files: Readonly<Record<string, string>> = {}): FileHost {
  return {
    readFile: (path) => files[path] ?? (path.startsWith("/") ? nodeFileHost.readFile(path) : null),
    resolve(from, importPath) {
      if (importPath === "std" || importPath.startsWith("std/")) return resolveImport(from, importPath);
      const withExt = importPath.endsWith(".repr") ? importPath : `${importPath}.repr`;
      return posix.normalize(posix.join(posix.dirname(from), withExt));
    },
  };
}

/** Checks `src` as `main.repr`, with `files` beside it. */
export function check(src: string, files: Readonly<Record<string, string>> = {}): CheckResult {
  return checkProgram(new Source("main.repr", src), memoryHost(files));
}

/** Asserts the program checks with no diagnostics at all; returns the result. */
export function expectValid(src: string, files: Readonly<Record<string, string>> = {}): CheckResult {
  const result = check(src, files);
  expect(result.diagnostics, renderDiagnostics(result.diagnostics)).toEqual([]);
  return result;
}

/** An expected diagnostic: code and 1-based position (in main.repr unless `file` says). */
export interface Expected {
  readonly code: string;
  readonly line: number;
  readonly column: number;
  readonly file?: string;
}

function position(d: Diagnostic): Expected {
  const p = d.source.position(d.span.start);
  return { code: d.code, line: p.line, column: p.column, ...(d.source.name !== "main.repr" ? { file: d.source.name } : {}) };
}

/** Asserts the program gives exactly these errors and warnings (in source order); returns the diagnostics. */
export function expectErrors(src: string, expected: readonly Expected[], files: Readonly<Record<string, string>> = {}): Diagnostic[] {
  const result = check(src, files);
  expect(result.diagnostics.map(position), renderDiagnostics(result.diagnostics)).toEqual(expected);
  return result.diagnostics;
}

/** The checked model named `name` (the first one when omitted), from a valid program. */
export function modelOf(src: string, name?: string, files: Readonly<Record<string, string>> = {}) {
  const { program } = expectValid(src, files);
  const model = name ? program.models.find((m) => m.name === name) : program.models[0];
  expect(model, `no model ${name ?? ""}`).toBeDefined();
  return model!;
}

/**
 * Applies `layer` to an input of type `input` inside a one-part model and
 * returns the part's output shape (batch included, as `B`) and parameter count.
 */
export function applied(layer: string, input: string, prelude = ""): { output: string; params: number } {
  const model = modelOf(`${prelude}\nmodel T {\n  input x: ${input}\n  part p = ${layer}\n  output p(x)\n}\n`);
  const part = model.parts.find((p) => p.name === "p")!;
  const out = part.output!;
  return { output: `${out.dtype}[${["B", ...out.shape].join(", ")}]`, params: part.params };
}

/** The codes of the errors and warnings a program gives, in order. */
export function codes(src: string, files: Readonly<Record<string, string>> = {}): string[] {
  return check(src, files).diagnostics.map((d) => d.code);
}
