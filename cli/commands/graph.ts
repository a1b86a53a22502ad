import { Source } from "../../language/source.js";
import { hasErrors } from "../../language/diagnostics/diagnostic.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import { projectFileHost } from "../../compiler/check/file-host.js";
import { learnedCount, LowerError, lowerModel, type LoweredModel, type Mode } from "../../compiler/lower/index.js";
import { stepLowering } from "../../compiler/lower/steps.js";
import { lowerTrainStep } from "../../compiler/lower/step-graph.js";
import type { Graph } from "../../runtime/ir/node.js";
import { printDot, printGraph } from "../../runtime/ir/print.js";
import { printKernelGraph, type KernelGraph } from "../../runtime/kernel/graph.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { CPU_PLAN } from "../../runtime/backends/cpu/index.js";
import { convPoolsOf } from "../../runtime/backends/cpu/emit/conv-pool-plan.js";
import { formatShape } from "../../runtime/ir/shape.js";
import { readTextFile } from "../files.js";
import { ExitCode, UserError } from "../errors.js";

/** The options of `repr graph`, as commander gives them (strings, checked here). */
export interface GraphOptions {
  readonly model?: string;
  readonly batch?: string;
  readonly format?: string;
  readonly mode?: string;
  readonly pipeline?: string;
  readonly step?: string;
  /** Print the model's whole training step (default optimizer settings) instead of its forward pass. */
  readonly train?: boolean;
  /** Print the planned kernel graph (fused unless `fuse` is false) instead of the IR. */
  readonly kernels?: boolean;
  /** With `kernels`: false plans one kernel per primitive. */
  readonly fuse?: boolean;
  /** With `kernels`: plan for this backend ("webgpu" joins attention into `attention` kernels); by default, as every backend shares. */
  readonly for?: string;
  /** Let imports lead outside the project folder (spec/names.md). */
  readonly allowImportOutside?: boolean;
}

/** Reads a whole-number option ≥ 1, or `fallback` when absent. */
function parseCount(option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UserError(`${option} must be a whole number of at least 1, got '${text}'`);
  }
  return n;
}

function oneOf<T extends string>(option: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UserError(`${option} must be ${allowed.join(" or ")}, got '${value}'`);
  return value as T;
}

/** The text form's header: what was lowered, its inputs and tensors, as comments. */
function header(title: string, lowered: LoweredModel, graph: Graph): string {
  const lines = [`// ${title}`];
  const inputs = new Set(graph.outputs.length > 0 ? lowered.inputs.map((i) => i.name) : []);
  for (const i of lowered.inputs) if (inputs.has(i.name)) lines.push(`// input ${i.name}: ${i.dtype}${formatShape(i.shape)}`);
  const used = lowered.params.filter((p) => p.used);
  lines.push(`// ${used.length} tensors read, ${learnedCount(used).toLocaleString("en-US")} learned numbers`);
  // Whole parts by name; a part frozen in part (spec/paths.md) by its frozen tensors' layers.
  const weights = lowered.params.filter((p) => p.kind === "weight" && p.part !== null);
  const frozen = [...new Set(weights.filter((p) => !p.trainable).map((p) => (weights.some((q) => q.part === p.part && q.trainable) ? p.name.slice(0, p.name.lastIndexOf(".")) : p.part)))];
  if (frozen.length > 0) lines.push(`// frozen (no gradient, no update): ${frozen.join(", ")}`);
  return lines.join("\n");
}

/** Lowers what the options ask for: a model's forward pass, or a pipeline step (a training step with its update). */
function lower(program: Parameters<typeof lowerModel>[0], file: string, options: GraphOptions): { lowered: LoweredModel; graph: Graph; title: string } {
  const mode = oneOf("--mode", options.mode, ["train", "eval"] as const, "train");
  if (options.pipeline === undefined) {
    if (options.step !== undefined) throw new UserError("--step needs --pipeline");
    const batch = parseCount("--batch", options.batch, 32);
    const name = options.model ?? program.models[0]?.name;
    if (name === undefined) throw new UserError(`'${file}' declares no model`);
    if (options.train && options.mode === "eval") throw new UserError("--train lowers a training step, which runs in train mode; drop --mode eval");
    const lowered = lowerModel(program, name, { batch, mode });
    if (options.train) {
      const step = lowerTrainStep(lowered, null);
      const title = `model ${name}, batch ${batch}: training step of every loss (forward, backward, update; default settings: adam(lr: 1e-3))`;
      return { lowered, graph: step.graph, title };
    }
    return { lowered, graph: lowered.graph, title: `model ${name}, batch ${batch}, ${describeMode(mode)}: forward pass` };
  }
  const index = parseCount("--step", options.step, 1) - 1;
  const s = stepLowering(program, options.pipeline, index);
  const batch = parseCount("--batch", options.batch, s.options.batch);
  const lowered = lowerModel(program, s.model, { ...s.options, batch });
  const what = `pipeline ${options.pipeline}, step ${index + 1} (${s.step.kind}), model ${s.model}, batch ${batch}`;
  if (s.step.kind === "test") return { lowered, graph: lowered.graph, title: `${what}, ${describeMode("eval")}: forward pass` };
  const step = lowerTrainStep(lowered, s.settings, s.options.frozen ?? new Set());
  return { lowered, graph: step.graph, title: `${what}: training step (forward, backward, update)` };
}

function describeMode(mode: Mode): string {
  return mode === "train" ? "training mode" : "inference mode";
}

/**
 * The kernel graph's pooled convolutions, one line each: a convolution, its
 * epilogue's map and its pool's reduce (`kernel/pool-chains.ts`) that the
 * CPU backend runs as one kernel (`conv-pool-plan.ts`); WebGPU renders such
 * chains as one dispatch too.
 */
function pooledConvolutions(kg: KernelGraph): string {
  return convPoolsOf(kg)
    .map(({ conv, map, pool }) => `pooled convolution: ${[conv, map, pool].map((k) => `k${k.id}`).join(", ")} (${[conv, map, pool].map((k) => k.kind).join(", ")}), one kernel on the CPU\n`)
    .join("");
}

/**
 * `repr graph FILE`: prints the tensor IR of a model's forward pass (its
 * losses and its prediction), or with `--pipeline P --step N` one step of a
 * pipeline — for `pretrain` and `adapt` the whole training step, in which
 * frozen parts have no gradient and no update — as text, or as Graphviz with
 * `--format dot`. With `--kernels` it prints the kernel graph every backend
 * runs instead: the fused kernels (`--no-fuse`: one per primitive), the ops
 * inside each, the buffer each value lives in, the memory plan's peak and
 * the pooled convolutions the CPU runs as one kernel.
 */
export function graphCommand(file: string, options: GraphOptions): number {
  const format = oneOf("--format", options.format, ["text", "dot"] as const, "text");
  if (options.kernels && format === "dot") throw new UserError("--kernels prints text only; drop --format dot");
  if (options.fuse === false && !options.kernels) throw new UserError("--no-fuse needs --kernels");
  const target = oneOf("--for", options.for, ["all", "webgpu", "cpu"] as const, "all");
  if (options.for !== undefined && !options.kernels) throw new UserError("--for needs --kernels");
  oneOf("--mode", options.mode, ["train", "eval"] as const, "train");
  const source = new Source(file, readTextFile(file));
  const { program, diagnostics } = checkProgram(source, projectFileHost(file, { allowOutside: options.allowImportOutside ?? false }));
  if (diagnostics.length > 0) process.stderr.write(renderDiagnostics(diagnostics) + "\n\n");
  if (hasErrors(diagnostics)) return ExitCode.userError;
  let result: ReturnType<typeof lower>;
  try {
    result = lower(program, file, options);
  } catch (err) {
    if (err instanceof LowerError && !err.message.startsWith("internal")) throw new UserError(`${file}: ${err.message}`);
    throw err;
  }
  const { lowered, graph, title } = result;
  if (options.kernels) {
    const kg = planKernelGraph(graph, { fuse: options.fuse !== false, ...(target === "cpu" ? CPU_PLAN : { attention: target === "webgpu", wideViews: target === "webgpu" }) });
    process.stdout.write(`${header(title, lowered, graph)}\n${printKernelGraph(kg)}${pooledConvolutions(kg)}`);
    return ExitCode.ok;
  }
  const text = format === "dot" ? printDot(graph, { renumber: true }) : `${header(title, lowered, graph)}\n${printGraph(graph, { renumber: true })}`;
  process.stdout.write(text + "\n");
  return ExitCode.ok;
}
