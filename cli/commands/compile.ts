/**
 * `repr compile FILE -o OUT.ts`: compiles a model — or, without `--model` or
 * `--pipeline`, every model of the file — into one TypeScript module that
 * applications import: for each model, the plan — every function, training
 * step and pipeline as graphs symbolic in the batch size, the tensors and
 * their initialization — as data, and a typed class generated from the
 * model. `--emit graph` also writes each graph, instantiated at a batch size
 * (`--batch`, else each step's own), as a kernel graph in JSON and in its
 * text form, so people can read what the compiler did; `--emit wgsl` the
 * WebGPU backend's compute shader of every dispatch, each naming the kernels
 * it fuses; `--emit cpu` what the CPU backend runs for every kernel (its own
 * account from compiling the graph) and its WebAssembly module as text. Each
 * backend's files come from the graphs planned as that backend plans them
 * (the CPU with `CPU_PLAN`, WebGPU with attention kernels and wide views at
 * its guaranteed 8 bindings), written beside them as `.cpu.json` and
 * `.wgsl.json`; `--emit graph` writes the plan every backend shares.
 *
 * `--target onnx` writes ONNX files instead, one per function (and with
 * `--training` per training and test step) into the folder `-o` names
 * (`onnx.ts`); `--target pytorch` a Python module and training scripts
 * (`pytorch.ts`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { LowerError } from "../../compiler/lower/index.js";
import { buildModelPlan } from "../../compiler/plan/index.js";
import type { ModelPlan } from "../../runtime/api/plan.js";
import { kernelGraphToJson, printKernelGraph, type KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph, type PlanOptions } from "../../runtime/kernel/plan.js";
import { instantiateBatchGraph, type BatchGraph } from "../../runtime/ir/batch-graph.js";
import { kernelWgsl } from "../../runtime/backends/webgpu/wgsl.js";
import { compileCpu, CPU_PLAN, printCpuAccount, type CpuOptions } from "../../runtime/backends/cpu/index.js";
import { importOptional } from "../../runtime/optional-packages.js";
import { ExitCode, UserError } from "../errors.js";
import { writeFileAtomic } from "../files.js";
import { wholeNumber } from "../train/options.js";
import { loadProgram } from "../train/target.js";
import { memoryLimit } from "../memory-option.js";
import { wasmText } from "../wasm-text.js";
import { loadOnnxPackages, writeOnnx } from "./onnx.js";
import { writePytorch } from "./pytorch.js";

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
  readonly maxMemory?: string;
  /** Let imports lead outside the project folder (spec/names.md). */
  readonly allowImportOutside?: boolean;
  /** What to write: `ts` (the default), `onnx` or `pytorch`. */
  readonly target?: string;
  /** With `--target onnx`: also the training and test steps. */
  readonly training?: boolean;
  /** With `--target onnx`: a checkpoint whose tensors the functions carry as constants. */
  readonly weights?: string;
}

/** What `--target` can write. */
const TARGETS = ["ts", "onnx", "pytorch"] as const;

/** What `--emit` can write besides the module. */
const EMITS = ["graph", "wgsl", "cpu"] as const;

/** The file `--emit cpu` writes the fixed SIMD kernels' module to (REPR_CPU_GENERATED=0), once per folder: every graph's kernels share it. */
const CPU_WAT = "cpu-simd.wat";

/** The file `--emit cpu` writes a graph's generated module to: each executable has a module of its own. */
const cpuWatOf = (safe: string): string => `${safe}.cpu.wat`;

/**
 * How `--emit cpu` compiles: on one thread. The module it writes is a standalone
 * artifact for standard tools, so its memory is not shared; threads are a matter
 * of the run (the runtime declares the memory shared for its workers, and the
 * functions are the same), and compiling prints nothing that needs a worker pool.
 */
const EMIT_CPU: CpuOptions = { threads: 1 };

/** `repr compile FILE -o OUT.ts [options]`. */
export async function compileCommand(file: string, options: CompileOptions): Promise<number> {
  const target = options.target ?? "ts";
  if (!(TARGETS as readonly string[]).includes(target)) throw new UserError(`--target takes ${TARGETS.slice(0, -1).join(", ")} or ${TARGETS.at(-1)}, got '${target}'`);
  if (target !== "ts") {
    for (const [flag, given] of [["--emit", options.emit?.length], ["--runtime", options.runtime], ["--class-name", options.className]] as const) {
      if (given) throw new UserError(`${flag} is for --target ts, not --target ${target}`);
    }
  }
  if (target !== "onnx" && (options.training || options.weights !== undefined)) throw new UserError(`${options.training ? "--training" : "--weights"} is for --target onnx`);
  const emits = options.emit ?? [];
  for (const e of emits) {
    if (!(EMITS as readonly string[]).includes(e)) throw new UserError(`--emit takes ${EMITS.slice(0, -1).join(", ")} or ${EMITS.at(-1)}, got '${e}'`);
  }
  // Optional peer dependencies, loaded only here (runtime/optional-packages.ts), and before anything
  // is written, so that a missing one stops the command with nothing half done: ts-morph prints the
  // module, wabt the text of the CPU backend's WebAssembly.
  if (target === "onnx") await loadOnnxPackages();
  const emitTs = target === "ts" ? (await importOptional("ts-morph", () => import("../../compiler/emit/index.js"))).emitModule : null;
  if (emits.includes("cpu")) await importOptional("wabt", () => import("wabt"));
  const loaded = loadProgram(file, { ...options, maxMemory: memoryLimit(options.maxMemory) });
  if (!loaded) return ExitCode.userError;
  const { program } = loaded;
  const pipeline = options.pipeline === undefined ? undefined : program.pipelines.find((p) => p.name === options.pipeline);
  if (options.pipeline !== undefined && !pipeline) {
    throw new UserError(`${file} has no pipeline '${options.pipeline}' (pipelines: ${program.pipelines.map((p) => p.name).join(", ") || "none"})`);
  }
  // Without --model or --pipeline, every model of the file goes into the one module.
  const one = options.model ?? pipeline?.model ?? (pipeline && program.models.length === 1 ? program.models[0]!.name : undefined);
  const models = one !== undefined ? [one] : pipeline ? [] : program.models.map((m) => m.name);
  if (program.models.length === 0) throw new UserError(`${file} declares no model to compile`);
  if (models.length === 0) throw new UserError(`${file} declares ${program.models.length} models (${program.models.map((m) => m.name).join(", ")}); choose one with --model`);
  if (one !== undefined && !program.models.some((m) => m.name === one)) throw new UserError(`${file} has no model '${one}' (models: ${program.models.map((m) => m.name).join(", ")})`);
  if (models.length > 1 && options.className !== undefined) {
    throw new UserError(`--class-name names one class, but ${file} declares ${models.length} models (${models.join(", ")}); choose one with --model`);
  }
  const output = options.output ?? join(dirname(file), `${basename(file, ".repr")}${target === "ts" ? ".ts" : target === "onnx" ? ".onnx" : ".pytorch"}`);
  if (target === "ts" && !output.endsWith(".ts")) throw new UserError(`-o/--output must name a .ts file, got '${output}'`);
  if (options.weights !== undefined && models.length > 1) throw new UserError(`--weights holds one model's tensors, but ${file} declares ${models.length} models (${models.join(", ")}); choose one with --model`);

  const emitBatch = options.batch !== undefined ? wholeNumber("--batch", options.batch, 1, 1 << 16)! : null;
  const plans: ModelPlan[] = [];
  try {
    for (const model of models) {
      plans.push(
        buildModelPlan(program, model, {
          ...(options.trainBatch !== undefined ? { trainBatch: wholeNumber("--train-batch", options.trainBatch, 1, 1 << 16)! } : {}),
          // With --pipeline, the class is the model after it: it loads that run's weights, new heads and all.
          ...(pipeline ? { pipelines: [pipeline.name], afterPipeline: pipeline.name } : {}),
        }),
      );
    }
  } catch (err) {
    if (err instanceof LowerError && !err.message.startsWith("internal")) throw new UserError(`${file}: ${err.message}`);
    throw err;
  }
  if (target === "onnx") return writeOnnx(file, output, plans, options);
  if (target === "pytorch") return writePytorch(file, output, plans);
  const text = emitTs!(plans, { runtimeImport: options.runtime ?? "repr/runtime", ...(options.className ? { className: options.className } : {}) });
  mkdirSync(dirname(output), { recursive: true });
  writeFileAtomic(output, text);
  const written = [output];
  if (emits.length > 0) {
    const folder = output.replace(/\.ts$/, ".graphs");
    // One model's graphs go in the folder itself; several models' each in a subfolder named after the model.
    for (const plan of plans) written.push(await writeGraphs(plans.length === 1 ? folder : join(folder, safeFileName(plan.model)), plan, emits, emitBatch));
  }
  const summary = (plan: ModelPlan): string =>
    `${plan.functions.map((f) => f.name).join(", ")}${plan.training.length ? `; training: ${plan.training.map((t) => t.name).join(", ")}` : ""}`;
  for (const plan of plans) process.stdout.write(`compiled model ${plan.model} from ${file}: ${summary(plan)}\n`);
  process.stdout.write(`wrote ${written.join(", ")}\n`);
  return ExitCode.ok;
}

// File names come from model and method names, which are identifiers; keep them to a safe alphabet anyway.
const safeFileName = (name: string): string => name.replace(/[^A-Za-z0-9_.-]/g, "_");

/** The batch size `--emit` shows function graphs at, without `--batch`. */
const FUNCTION_EMIT_BATCH = 64;

/** How the WebGPU backend plans graphs, at WebGPU's guaranteed limits (a device may allow attention kernels more bindings). */
const WEBGPU_EMIT_PLAN: PlanOptions = { attention: true, wideViews: true };

/** A graph of the plan, planned as a backend asks (`options`); each batch graph is instantiated once. */
type PlanAs = (options: PlanOptions) => KernelGraph;

/** Every graph of a plan by file name: functions at `batch` (or 64) and at 1, training and test steps at `batch` (or their own); init graphs come planned already. */
function planGraphs(plan: ModelPlan, batch: number | null): (readonly [string, PlanAs])[] {
  const at = (graph: BatchGraph, b: number): PlanAs => {
    const ir = instantiateBatchGraph(graph, b);
    return (options) => planKernelGraph(ir, options);
  };
  const planned = (graph: KernelGraph): PlanAs => () => graph;
  const graphs: (readonly [string, PlanAs])[] = [["init", planned(plan.init)]];
  for (const f of plan.functions) graphs.push([f.name, at(f.graph, batch ?? FUNCTION_EMIT_BATCH)], [`${f.name}.single`, at(f.graph, 1)]);
  for (const t of plan.training) graphs.push([`train.${t.name}`, at(t.graph, batch ?? t.batch)]);
  for (const p of plan.pipelines) {
    p.steps.forEach((s, i) => {
      const name = `${p.name}.${i + 1}-${s.kind}`;
      if (s.kind === "pretrain" || s.kind === "adapt") graphs.push([name, at(s.training.graph, batch ?? s.training.batch)]);
      if (s.kind === "test") graphs.push([name, at(s.graph, batch ?? s.batch)]);
      if (s.kind === "replace") graphs.push([`${name}.init`, planned(s.head.init)]);
    });
  }
  return graphs;
}

/** Writes `--emit`'s files for `plan` into `folder`; says what it wrote. */
async function writeGraphs(folder: string, plan: ModelPlan, emits: readonly string[], batch: number | null): Promise<string> {
  mkdirSync(folder, { recursive: true });
  const graphs = planGraphs(plan, batch);
  // The one module of the fixed SIMD kernels every CPU executable op by op instantiates; undefined where none does.
  let wasm: Uint8Array | undefined;
  // Whether some graph ran on generated code, each with a module of its own.
  let generated = false;
  for (const [name, planAs] of graphs) {
    const safe = safeFileName(name);
    if (emits.includes("graph")) {
      // The plan every backend shares; each backend's files below come from the graph as it plans it.
      const graph = planAs({});
      writeFileSync(join(folder, `${safe}.json`), kernelGraphToJson(graph, 1) + "\n");
      writeFileSync(join(folder, `${safe}.txt`), printKernelGraph(graph) + "\n");
    }
    if (emits.includes("wgsl")) {
      const planned = planAs(WEBGPU_EMIT_PLAN);
      writeFileSync(join(folder, `${safe}.wgsl.json`), kernelGraphToJson(planned, 1) + "\n");
      const shaders = kernelWgsl(planned).map((k, i) => `// dispatch ${i}: kernels ${k.kernels.map((id) => `k${id}`).join(", ")}\n${k.wgsl}`);
      writeFileSync(join(folder, `${safe}.wgsl`), shaders.join("\n") + "\n");
    }
    if (emits.includes("cpu")) {
      const planned = planAs(CPU_PLAN);
      writeFileSync(join(folder, `${safe}.cpu.json`), kernelGraphToJson(planned, 1) + "\n");
      // Compiled for real, as the runtime compiles it: the account is the executable's own.
      const { account, kernels } = compileCpu(planned, EMIT_CPU);
      let wat: string | undefined;
      if (account.wasm !== undefined && kernels.startsWith("generated")) {
        wat = cpuWatOf(safe);
        generated = true;
        writeFileSync(join(folder, wat), await wasmText(account.wasm, wat));
      } else if (account.wasm !== undefined) {
        wat = CPU_WAT;
        wasm ??= account.wasm;
      }
      writeFileSync(join(folder, `${safe}.cpu.txt`), printCpuAccount(account.graph, account, wat));
    }
  }
  if (wasm !== undefined) writeFileSync(join(folder, CPU_WAT), await wasmText(wasm, CPU_WAT));
  const modules = [generated ? "each graph's generated WebAssembly module as .cpu.wat" : "", wasm !== undefined ? `the fixed SIMD kernels' WebAssembly module as ${CPU_WAT}` : ""].filter(Boolean);
  const kinds = [
    emits.includes("graph") ? "kernel graphs as .json and .txt" : "",
    emits.includes("wgsl") ? "WGSL compute shaders, one per dispatch (fused kernels share one), as .wgsl, from the graphs as WebGPU plans them (.wgsl.json)" : "",
    emits.includes("cpu") ? `the CPU backend's routine for every kernel as .cpu.txt, from the graphs as it plans them (.cpu.json)${modules.map((m) => `, ${m}`).join("")}` : "",
  ].filter(Boolean);
  return `${folder}/ (${graphs.length} graphs: ${kinds.join("; ")})`;
}
