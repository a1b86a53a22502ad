/**
 * `repr compile FILE -o OUT.ts`: compiles a model into a TypeScript module
 * that applications import (issue 5): the plan — every function and training
 * step as a kernel graph, the tensors and their initialization — as data, and
 * a typed class generated from the model. `--emit graph` also writes each
 * kernel graph as JSON and in its text form, so people can read what the
 * compiler did; `--emit wgsl` the WebGPU backend's compute shader of every
 * kernel.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { LowerError } from "../../compiler/lower/index.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import { emitModule } from "../../compiler/emit/index.js";
import type { ModelPlan } from "../../runtime/api/plan.js";
import { kernelGraphToJson, printKernelGraph } from "../../runtime/kernel/graph.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/wgsl.js";
import { ExitCode, UserError } from "../errors.js";
import { writeFileAtomic } from "../files.js";
import { wholeNumber } from "../train/options.js";
import { loadProgram } from "../train/target.js";

/** The options of `repr compile`, as commander gives them. */
export interface CompileOptions {
  readonly output?: string;
  readonly model?: string;
  readonly pipeline?: string;
  readonly batch?: string;
  readonly trainBatch?: string;
  readonly runtime?: string;
  readonly className?: string;
  readonly emit?: readonly string[];
}

/** What `--emit` can write besides the module. */
const EMITS = ["graph", "wgsl"] as const;

/** `repr compile FILE -o OUT.ts [options]`. */
export function compileCommand(file: string, options: CompileOptions): number {
  const emits = options.emit ?? [];
  for (const e of emits) {
    if (!(EMITS as readonly string[]).includes(e)) {
      throw new UserError(`--emit takes ${EMITS.join(" or ")}, got '${e}' (the CPU backend has no kernel sources to write: it runs precompiled kernels and a WebAssembly matmul it generates at load time)`);
    }
  }
  const loaded = loadProgram(file);
  if (!loaded) return ExitCode.userError;
  const { program } = loaded;
  const pipeline = options.pipeline === undefined ? undefined : program.pipelines.find((p) => p.name === options.pipeline);
  if (options.pipeline !== undefined && !pipeline) {
    throw new UserError(`${file} has no pipeline '${options.pipeline}' (pipelines: ${program.pipelines.map((p) => p.name).join(", ") || "none"})`);
  }
  const model = options.model ?? pipeline?.model ?? (program.models.length === 1 ? program.models[0]!.name : undefined);
  if (model === undefined) {
    if (program.models.length === 0) throw new UserError(`${file} declares no model to compile`);
    throw new UserError(`${file} declares ${program.models.length} models (${program.models.map((m) => m.name).join(", ")}); choose one with --model`);
  }
  if (!program.models.some((m) => m.name === model)) throw new UserError(`${file} has no model '${model}' (models: ${program.models.map((m) => m.name).join(", ")})`);
  const output = options.output ?? join(dirname(file), `${basename(file, ".repr")}.ts`);
  if (!output.endsWith(".ts")) throw new UserError(`-o/--output must name a .ts file, got '${output}'`);

  let plan: ModelPlan;
  try {
    plan = buildModelPlan(program, model, {
      ...(options.batch !== undefined ? { batch: wholeNumber("--batch", options.batch, 1, 1 << 16)! } : {}),
      ...(options.trainBatch !== undefined ? { trainBatch: wholeNumber("--train-batch", options.trainBatch, 1, 1 << 16)! } : {}),
      ...(pipeline ? { pipeline: pipeline.name } : {}),
    });
  } catch (err) {
    if (err instanceof LowerError && !err.message.startsWith("internal")) throw new UserError(`${file}: ${err.message}`);
    throw err;
  }
  const text = emitModule(plan, { runtimeImport: options.runtime ?? "repr/runtime", ...(options.className ? { className: options.className } : {}) });
  mkdirSync(dirname(output), { recursive: true });
  writeFileAtomic(output, text);
  const written = [output];
  if (emits.length > 0) {
    const folder = output.replace(/\.ts$/, ".graphs");
    mkdirSync(folder, { recursive: true });
    const graphs = [
      ["init", plan.init] as const,
      ...plan.functions.flatMap((f) => [[`${f.name}`, f.graph] as const, [`${f.name}.single`, f.single] as const]),
      ...plan.training.map((t) => [`train.${t.name}`, t.graph] as const),
    ];
    for (const [name, graph] of graphs) {
      // File names come from method names, which the plan made identifiers; keep them to a safe alphabet anyway.
      const safe = name.replace(/[^A-Za-z0-9_.-]/g, "_");
      if (emits.includes("graph")) {
        writeFileSync(join(folder, `${safe}.json`), kernelGraphToJson(graph, 1) + "\n");
        writeFileSync(join(folder, `${safe}.txt`), printKernelGraph(graph) + "\n");
      }
      if (emits.includes("wgsl")) {
        const shaders = kernelWgsl(graph).map((k) => `// kernel k${k.kernel}\n${k.wgsl}`);
        writeFileSync(join(folder, `${safe}.wgsl`), shaders.join("\n") + "\n");
      }
    }
    const kinds = [emits.includes("graph") ? "kernel graphs as .json and .txt" : "", emits.includes("wgsl") ? "WGSL compute shaders, one per kernel, as .wgsl" : ""].filter(Boolean);
    written.push(`${folder}/ (${graphs.length} graphs: ${kinds.join("; ")})`);
  }
  process.stdout.write(`compiled model ${model} from ${file}: ${plan.functions.map((f) => f.name).join(", ")}${plan.training.length ? `; training: ${plan.training.map((t) => t.name).join(", ")}` : ""}\nwrote ${written.join(", ")}\n`);
  return ExitCode.ok;
}
