/**
 * Checking emitted modules: syntax (`ts.transpileModule`), types (one
 * `ts.Program` over a batch of modules, in memory, against the real runtime
 * API) and behaviour (the transpiled module run against a recording fake
 * runtime).
 */
import { join } from "node:path";
import { runInThisContext } from "node:vm";
import ts from "typescript";
import { planFromJson } from "../../runtime/index.js";

/** The runtime specifier emitted modules use in the type checks (from `test/emit/virtual/` and `test/emit/golden/`): the real runtime. */
export const RUNTIME_IMPORT = "../../../runtime/index.js";

const virtualDir = join(import.meta.dirname, "virtual");

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2023.d.ts"],
  types: ["node"],
  strict: true,
  noImplicitOverride: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  noImplicitReturns: true,
  exactOptionalPropertyTypes: true,
  verbatimModuleSyntax: true,
  skipLibCheck: true,
  noEmit: true,
};

// Library and runtime files parsed once for all programs.
const cache = new Map<string, ts.SourceFile | undefined>();

/** Syntactic diagnostics of `text` as a module, and its JavaScript (CommonJS) for running. */
export function transpile(text: string): { diagnostics: string[]; js: string } {
  const out = ts.transpileModule(text, {
    fileName: "module.ts",
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS },
  });
  return { diagnostics: (out.diagnostics ?? []).map(format), js: out.outputText };
}

function format(d: ts.Diagnostic): string {
  const where = d.file !== undefined && d.start !== undefined ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : "";
  return `${where}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
}

/** Every syntactic and semantic diagnostic of the modules, type-checked together under `strict` and more. */
export function typeCheck(modules: readonly string[]): string[] {
  const files = new Map(modules.map((text, i) => [join(virtualDir, `m${i}.ts`), text]));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, onError) => {
    const text = files.get(name);
    if (text !== undefined) return ts.createSourceFile(name, text, language, true);
    const key = `${name}\0${JSON.stringify(language)}`;
    if (!cache.has(key)) cache.set(key, getSourceFile(name, language, onError));
    return cache.get(key);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  const program = ts.createProgram([...files.keys()], options, host);
  return [...files.keys()].flatMap((name) => {
    const sf = program.getSourceFile(name)!;
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map(format);
  });
}

/** A call the fake runtime saw: the method and its arguments. */
export type Call = readonly [string, ...unknown[]];

/** A runtime that records every call, and the generated class the module exports, its first export (`classes`: how many classes it must export). */
export function runModule(js: string, runtimeImport = "repr/runtime", classes = 1): { cls: Record<string, (...args: unknown[]) => unknown>; exports: Record<string, unknown>; calls: Call[] } {
  const calls: Call[] = [];
  const record =
    (name: string, result?: unknown) =>
    (...args: unknown[]): unknown => {
      calls.push([name, ...args]);
      return result;
    };
  class Model {
    static create(...args: unknown[]): Promise<Model> {
      calls.push(["create", ...args]);
      return Promise.resolve(new Model(args[0]));
    }
    constructor(readonly plan: unknown) {}
    backend = "cpu";
    tensorNames = ["t"];
    tensor = record("tensor", Promise.resolve({ dtype: "f32", shape: [], data: new Float32Array(1) }));
    call = record("call", Promise.resolve(new Float32Array(0)));
    trainStep = record("trainStep", Promise.resolve(0.5));
    fit = record("fit", Promise.resolve({ updates: 0, losses: new Float32Array(0) }));
    evaluate = record("evaluate", Promise.resolve(0.25));
    freeze = record("freeze");
    unfreeze = record("unfreeze");
    replaceHead = record("replaceHead", Promise.resolve());
    save = record("save", Promise.resolve(new Uint8Array(0)));
    load = record("load", Promise.resolve());
    dispose = record("dispose");
  }
  class Pipeline {
    static create(...args: unknown[]): Promise<Pipeline> {
      calls.push(["Pipeline.create", ...args]);
      return Promise.resolve(new Pipeline(args[0]));
    }
    constructor(readonly plan: unknown) {}
    run(...args: unknown[]): Promise<unknown> {
      calls.push(["run", ...args]);
      return Promise.resolve({ kind: "done", history: { steps: [], series: [] }, model: new Model(this.plan) });
    }
  }
  const runtime = { Model, Pipeline, planFromJson };
  const exports: Record<string, unknown> = {};
  const require = (spec: string): unknown => {
    if (spec !== runtimeImport) throw new Error(`unexpected import ${spec}`);
    return runtime;
  };
  const fn = runInThisContext(`(function (exports, require) {${js}\n})`) as (e: unknown, r: unknown) => void;
  fn(exports, require);
  const names = Object.keys(exports).filter((k) => k !== "__esModule");
  if (names.length !== classes) throw new Error(`expected ${classes} exports, got ${names.join(", ")}`);
  return { cls: exports[names[0]!] as Record<string, (...args: unknown[]) => unknown>, exports, calls };
}
