/**
 * The checker's entry point: parses the entry file and its imports, resolves
 * names across files, and checks every block, model, data declaration and
 * pipeline, returning the checked program and every diagnostic.
 */
import type { DataDecl, ModelDecl, PipelineDecl } from "../../language/ast.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "../../language/diagnostics/diagnostic.js";
import type { ParseResult } from "../../language/parser.js";
import { DEFAULT_MEMORY_LIMIT, checkMemory, type MemoryLimit } from "./memory.js";
import type { Source } from "../../language/source.js";
import { checkBlockDecls } from "./block-decls.js";
import { checkData } from "./data.js";
import { CheckEnv, MAX_NESTING } from "./env.js";
import { messages } from "../../language/diagnostics/messages.js";
import type { FileHost } from "./file-host.js";
import { checkModel } from "./model.js";
import { loadModules, type ModuleInfo } from "./modules.js";
import { checkPipeline, type ModelCheck, type PipelineDeps } from "./pipeline.js";
import type { Suggester } from "./suggest.js";
import type { CheckedData, CheckedModel, CheckedPipeline, CheckedProgram } from "./program.js";

export { formatShapes } from "./format-shapes.js";
export type { FileHost } from "./file-host.js";
export type * from "./program.js";
export type { ModuleInfo } from "./modules.js";

function isParseCode(code: string): boolean {
  return /^RC1\d\d$/.test(code);
}

/** How a check run may be tuned. */
export interface CheckOptions {
  /** Finds "did you mean" suggestions; pass one to bound or observe their work (tests count its comparisons). */
  readonly suggester?: Suggester;
  /** The memory a model may need (RC535); 4 GB by default. */
  readonly maxMemory?: MemoryLimit;
  /** Parses a file; it must return what `parse` returns for the same text (the language server reparses only what an edit touched). */
  readonly parse?: (source: Source) => ParseResult;
  /** Reuses what models and pipelines reported in earlier runs (the language server). */
  readonly reuse?: DeclarationReuse;
}

/**
 * Per-declaration reuse. A model or pipeline whose diagnostics are given
 * again is not checked (a model still is when a pipeline that is checked
 * needs it), and is left out of the run's program: a run that reuses gives
 * every diagnostic but a partial program.
 */
export interface DeclarationReuse {
  /** What checking `decl` reported in an earlier run, when nothing it depends on has changed since; undefined to check it. */
  diagnostics(decl: ModelDecl | PipelineDecl, module: ModuleInfo): readonly Diagnostic[] | undefined;
  /** What checking `decl` reported in this run: for a model, its own problems; for a pipeline, what the run gained while checking it. */
  checked(decl: ModelDecl | PipelineDecl, module: ModuleInfo, diagnostics: readonly Diagnostic[]): void;
}

/** What checking produces: always a program (possibly partial), plus every problem found. */
export interface CheckResult {
  readonly program: CheckedProgram;
  /** Sorted by file and position. */
  readonly diagnostics: Diagnostic[];
}

/**
 * Checks a program. Never throws on bad input: every problem is a diagnostic.
 * The program holds the models, data and pipelines of the entry file, plus the
 * imported models and data its pipelines use.
 */
export function checkProgram(entry: Source, host: FileHost, options: CheckOptions = {}): CheckResult {
  const env = new CheckEnv(options.suggester);
  const modules = loadModules(entry, host, env, options.parse);
  try {
    const result = checkModules(env, modules, options.reuse);
    // Memory is estimated from complete shapes only: a program with errors has holes.
    if (hasErrors(result.diagnostics)) return result;
    const memory = checkMemory(result.program, options.maxMemory ?? DEFAULT_MEMORY_LIMIT);
    return memory.length === 0 ? result : { ...result, diagnostics: sortDiagnostics([...result.diagnostics, ...memory]) };
  } catch (error) {
    if (!isStackOverflow(error)) throw error;
    // Nesting is bounded (MAX_NESTING, order.ts), but a program can still combine deep
    // nesting with deep expressions at every level: it gets a coded error, never a crash.
    const at = env.deepest?.site ?? { source: entry, span: { start: 0, end: 0 } };
    env.report(messages.applicationTooDeep, at, { levels: (env.deepest?.level ?? 0).toLocaleString("en-US") }, {
      notes: [
        `checking ran out of stack here: a level with inputs, lets or long expressions takes more of it than the ${MAX_NESTING.toLocaleString("en-US")} levels a chain of plain layers may have`,
      ],
    });
    return { program: { files: modules.map((m) => m.source.name), models: [], data: [], pipelines: [] }, diagnostics: sortDiagnostics(env.diagnostics()) };
  }
}

/** True for the error JavaScript throws when the call stack is exhausted. */
function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/** Checks loaded modules: blocks, then models, data and pipelines. */
function checkModules(env: CheckEnv, modules: readonly ModuleInfo[], reuse: DeclarationReuse | undefined): CheckResult {
  // A tree with syntax errors has holes: checking it would only add confusing
  // follow-on errors, so syntax errors are reported alone.
  const syntaxErrors = env.diagnostics().filter((d) => d.severity === "error" && isParseCode(d.code));
  if (syntaxErrors.length > 0) {
    return {
      program: { files: modules.map((m) => m.source.name), models: [], data: [], pipelines: [] },
      diagnostics: sortDiagnostics(syntaxErrors),
    };
  }
  // Blocks first: a cycle of blocks is then reported once, at the declarations, not at each use.
  checkBlockDecls(env, modules);
  const models = new Map<ModelDecl, ModelCheck>();
  const datas = new Map<DataDecl, CheckedData>();
  const deps: PipelineDeps = {
    model(decl: ModelDecl, module: ModuleInfo): ModelCheck {
      let r = models.get(decl);
      if (!r) {
        // Kept aside as well, so pipeline steps can tell new problems from known ones.
        const { result, diagnostics } = env.capture(() => checkModel(env, module, decl));
        diagnostics.forEach((d) => env.add(d));
        models.set(decl, (r = { ...result, diagnostics }));
      }
      return r;
    },
    data(decl: DataDecl, module: ModuleInfo): CheckedData {
      let r = datas.get(decl);
      if (!r) datas.set(decl, (r = checkData(env, module, decl)));
      return r;
    },
  };

  const entryModels: CheckedModel[] = [];
  const entryData: CheckedData[] = [];
  const pipelines: CheckedPipeline[] = [];
  for (const module of modules) {
    const isEntry = module === modules[0];
    for (const item of module.ast.items) {
      switch (item.kind) {
        case "Model": {
          const earlier = models.has(item) ? undefined : reuse?.diagnostics(item, module);
          if (earlier) {
            earlier.forEach((d) => env.add(d));
            break;
          }
          const r = deps.model(item, module);
          reuse?.checked(item, module, r.diagnostics);
          if (isEntry) entryModels.push(r.model);
          break;
        }
        case "Data": {
          const d = deps.data(item, module);
          if (isEntry) entryData.push(d);
          break;
        }
        case "Pipeline": {
          const earlier = reuse?.diagnostics(item, module);
          if (earlier) {
            earlier.forEach((d) => env.add(d));
            break;
          }
          const before = reuse ? env.diagnostics().length : 0;
          const p = checkPipeline(env, module, item, deps);
          reuse?.checked(item, module, reuse ? env.diagnostics().slice(before) : []);
          if (isEntry) pipelines.push(p);
          break;
        }
        case "Import":
        case "Block":
          break;
      }
    }
  }

  // Imported models and data the entry's pipelines use belong to the program too.
  const usedModels = new Set(pipelines.map((p) => p.model));
  const usedData = new Set(pipelines.flatMap((p) => p.steps.flatMap((s) => ("data" in s ? [s.data.data] : []))));
  const importedModels = [...models.values()].map((r) => r.model).filter((m) => usedModels.has(m.name) && !entryModels.includes(m));
  const importedData = [...datas.values()].filter((d) => usedData.has(d.name) && !entryData.includes(d));

  const program: CheckedProgram = {
    files: modules.map((m) => m.source.name),
    models: [...entryModels, ...importedModels],
    data: [...entryData, ...importedData],
    pipelines,
  };
  return { program, diagnostics: sortDiagnostics(env.diagnostics()) };
}
