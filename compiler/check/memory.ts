/**
 * How much memory a model needs, estimated from its checked shapes before
 * anything is allocated, and the rule that it fits a limit
 * (spec/models.md#memory).
 *
 * Every number is 4 bytes (f32 and i32). A use of a model needs:
 * - its parameters;
 * - when it trains: a gradient for every trainable parameter, plus the
 *   optimizer's state (adam and adamw: 2 numbers per parameter, momentum: 1,
 *   sgd: none);
 * - its values for a batch: every value the model computes (each layer's
 *   output, inside parts and blocks too) per example, times the batch, and
 *   twice that when it trains (the values are kept for the backward pass,
 *   which makes a gradient of each);
 * - when it trains a `skipgram` objective: the noise table over the
 *   vocabulary (token counts, 8 bytes per id, and an alias table of 8 bytes
 *   per entry of the next power of two).
 *
 * The runtime reuses buffers, so this is an upper estimate: it is there to
 * refuse a model that cannot fit before anything is allocated, not to
 * predict the exact peak.
 */
import { diagnostic, type Diagnostic } from "../../language/diagnostics/diagnostic.js";
import { messages } from "../../language/diagnostics/messages.js";
import type { CheckedModel, CheckedPipeline, CheckedProgram, LayerNode, Location, StepSettings } from "./program.js";
import { followedPartsOf, teacherNode } from "./teacher.js";
import { elementCount } from "./types.js";

/** The default memory limit: 4 GB. A fixed default, so a program checks the same on every machine. */
export const DEFAULT_MAX_MEMORY = 4 * 2 ** 30;

/** The batch of a training step that names none (as lowering uses: compiler/lower/steps.ts). */
export const DEFAULT_TRAIN_BATCH = 32;

/** Bytes per number: every tensor is f32 or i32. */
const BYTES = 4;

/** The memory a check run may plan for, and where that limit comes from (for messages). */
export interface MemoryLimit {
  readonly bytes: number;
  /** `the default` or `--max-memory 8GB`. */
  readonly origin: string;
}

export const DEFAULT_MEMORY_LIMIT: MemoryLimit = { bytes: DEFAULT_MAX_MEMORY, origin: "the default" };

/** One way a model is used: trained by a step (with its optimizer and batch) or evaluated. */
export interface ModelUse {
  /** How messages name it: `training with adam, batch 32`, `step 2 of pipeline 'P' (adapt, sgd, batch 256)`. */
  readonly label: string;
  readonly batch: number;
  /** The parts trained, or null when the use only evaluates. */
  readonly trainable: ReadonlySet<string> | null;
  /** Optimizer state per trained parameter (adam 2, momentum 1, sgd 0). */
  readonly statePerParam: number;
  readonly optimizer: string;
  /** Where the use is written (a pipeline step), or null for the default training of a model. */
  readonly location: Location | null;
}

/** What a use of a model needs, in bytes, and the part that needs the most. */
export interface MemoryEstimate {
  readonly model: string;
  readonly use: ModelUse;
  readonly params: number;
  readonly paramBytes: number;
  /** Gradients and optimizer state. */
  readonly stateBytes: number;
  /** The values of one batch (and their gradients, when training). */
  readonly valueBytes: number;
  readonly total: number;
  /** The part that needs the most: its parameters, their state, and the values it computes. */
  readonly largest: { readonly name: string; readonly role: string; readonly params: number; readonly bytes: number; readonly location: Location } | null;
}

/** Optimizer state per parameter. */
export function optimizerState(name: string): number {
  return name === "adam" || name === "adamw" ? 2 : name === "momentum" ? 1 : 0;
}

/** The ways a program uses each of its models: every step of its pipelines, or, for a model no pipeline uses, training it with the defaults. */
export function modelUses(program: CheckedProgram): Map<string, ModelUse[]> {
  const uses = new Map<string, ModelUse[]>(program.models.map((m) => [m.name, []]));
  for (const pipeline of program.pipelines) {
    if (!pipeline.model || !uses.has(pipeline.model)) continue;
    uses.get(pipeline.model)!.push(...pipelineUses(pipeline));
  }
  for (const model of program.models) {
    if (uses.get(model.name)!.length === 0) uses.get(model.name)!.push(defaultTraining(model, null));
  }
  return uses;
}

/** The uses of a pipeline's steps; `batch` overrides every step's batch (`repr train --batch`). */
export function pipelineUses(pipeline: CheckedPipeline, batch: number | null = null): ModelUse[] {
  return pipeline.steps.flatMap((step, i): ModelUse[] => {
    const where = `step ${i + 1} of pipeline '${pipeline.name}'`;
    switch (step.kind) {
      case "pretrain":
      case "adapt":
        return [trainingUse(`${where} (${step.kind}`, step.settings, new Set(step.trainable), batch, step.location)];
      case "test": {
        const b = batch ?? step.settings.batch ?? DEFAULT_TRAIN_BATCH;
        return [{ label: `${where} (test, batch ${b})`, batch: b, trainable: null, statePerParam: 0, optimizer: "", location: step.location }];
      }
      default:
        return [];
    }
  });
}

function trainingUse(prefix: string, settings: StepSettings, trainable: ReadonlySet<string>, batch: number | null, location: Location | null): ModelUse {
  const optimizer = settings.optimizer?.name ?? "adam";
  const b = batch ?? settings.batch ?? DEFAULT_TRAIN_BATCH;
  return { label: `${prefix}, ${optimizer}, batch ${b})`, batch: b, trainable, statePerParam: optimizerState(optimizer), optimizer, location };
}

/** Training a model with the default settings, as `repr train --model` does. */
export function defaultTraining(model: CheckedModel, batch: number | null): ModelUse {
  const b = batch ?? DEFAULT_TRAIN_BATCH;
  return { label: `training it (adam, batch ${b})`, batch: b, trainable: new Set(model.parts.map((p) => p.name)), statePerParam: 2, optimizer: "adam", location: null };
}

/** The numbers momentum teachers keep: a copy of each learned parameter of the parts each follows. */
function teacherCopies(model: CheckedModel): number {
  const parts = new Map(model.parts.map((p) => [p.name, p]));
  let count = 0;
  for (const p of model.parts) {
    const teacher = teacherNode(p.layer);
    if (teacher) for (const student of followedPartsOf(teacher, parts)) count += parts.get(student)!.params;
  }
  return count;
}

/** Estimates what one use of a model needs. */
export function estimateMemory(model: CheckedModel, use: ModelUse): MemoryEstimate {
  const values = new ValueCounter(model);
  const training = use.trainable !== null;
  // Values: each graph node's own value, plus what the layers it applies compute inside.
  let perExample = 0;
  const perPart = new Map<string, number>();
  for (const node of model.graph.nodes) {
    let n = elementCount(node.type.shape);
    if (node.op === "apply") {
      n = values.inside(node.layer);
      if (node.part) perPart.set(node.part, (perPart.get(node.part) ?? 0) + n);
    }
    perExample += n;
  }
  const valueFactor = BYTES * use.batch * (training ? 2 : 1);
  const trained = (name: string) => use.trainable?.has(name) ?? false;
  const trainedParams = model.parts.reduce((sum, p) => sum + (trained(p.name) ? p.params : 0), 0);
  // Momentum teachers hold a copy of every parameter they follow (spec/teachers.md).
  const paramBytes = (model.totalParams + teacherCopies(model)) * BYTES;
  const stateBytes = training ? trainedParams * (1 + use.statePerParam) * BYTES : 0;
  const valueBytes = perExample * valueFactor + (training ? noiseTableBytes(model) : 0);
  let largest: MemoryEstimate["largest"] = null;
  for (const p of model.parts) {
    const bytes = p.params * BYTES * (1 + (trained(p.name) ? 1 + use.statePerParam : 0)) + (perPart.get(p.name) ?? 0) * valueFactor;
    if (bytes > 0 && (!largest || bytes > largest.bytes)) largest = { name: p.name, role: p.role, params: p.params, bytes, location: p.location };
  }
  return { model: model.name, use, params: model.totalParams, paramBytes, stateBytes, valueBytes, total: paramBytes + stateBytes + valueBytes, largest };
}

/** The noise table a `skipgram` objective samples from, over the largest vocabulary of the model's inputs. */
function noiseTableBytes(model: CheckedModel): number {
  if (!model.losses.some((l) => l.objectives.includes("skipgram"))) return 0;
  const vocab = Math.max(0, ...model.inputs.map((i) => i.type.vocab ?? 0));
  let size = 1;
  while (size < vocab) size *= 2;
  return 8 * vocab + 8 * size;
}

/**
 * Counts the numbers per example a layer computes inside: the output of
 * every built-in layer, of every value in a block's body and of the parts
 * it uses. A node's count is kept, so a part or a repeated node is counted
 * once however often it appears; walking is iterative (layers nest deeply).
 */
class ValueCounter {
  private readonly counts = new Map<LayerNode, number>();
  private readonly parts: ReadonlyMap<string, LayerNode | null>;

  constructor(model: CheckedModel) {
    this.parts = new Map(model.parts.map((p) => [p.name, p.layer]));
  }

  inside(root: LayerNode): number {
    const stack: { node: LayerNode; expanded: boolean }[] = [{ node: root, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (this.counts.has(top.node)) {
        stack.pop();
        continue;
      }
      const children = this.children(top.node);
      if (!top.expanded) {
        top.expanded = true;
        for (const c of children) if (!this.counts.has(c)) stack.push({ node: c, expanded: false });
        continue;
      }
      stack.pop();
      this.counts.set(top.node, this.own(top.node) + children.reduce((sum, c) => sum + (this.counts.get(c) ?? 0), 0));
    }
    return this.counts.get(root)!;
  }

  private children(node: LayerNode): LayerNode[] {
    switch (node.kind) {
      case "builtin":
        return [...node.children];
      case "sequence":
        return [...node.layers];
      case "block":
        return node.graph.nodes.flatMap((n) => (n.op === "apply" ? [n.layer] : []));
      case "part": {
        const layer = this.parts.get(node.name);
        return layer ? [layer] : [];
      }
    }
  }

  /** The numbers a node computes itself, besides its children's. */
  private own(node: LayerNode): number {
    switch (node.kind) {
      case "builtin":
        // A repeat's values are its copies'.
        return node.children.length > 0 ? 0 : elementCount(node.output.shape);
      case "block":
        // The body's values other than applications (those are the children) and its inputs (values made outside): sums, products.
        return node.graph.nodes.reduce((sum, n) => sum + (n.op === "apply" || n.op === "input" ? 0 : elementCount(n.type.shape)), 0);
      case "sequence":
      case "part":
        return 0;
    }
  }
}

/**
 * The rule: the most demanding use of each model must fit the limit (RC535,
 * at the part that needs the most); one that needs more than half of it gets
 * a warning (RC536). One diagnostic per model at most.
 */
export function checkMemory(program: CheckedProgram, limit: MemoryLimit, uses: ReadonlyMap<string, readonly ModelUse[]> = modelUses(program)): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const model of program.models) {
    let worst: MemoryEstimate | null = null;
    for (const use of uses.get(model.name) ?? []) {
      const e = estimateMemory(model, use);
      if (!worst || e.total > worst.total) worst = e;
    }
    const d = worst && memoryDiagnostic(model, worst, limit);
    if (d) out.push(d);
  }
  return out;
}

/** RC535 when an estimate passes the limit, RC536 past half of it, else null. */
export function memoryDiagnostic(model: CheckedModel, e: MemoryEstimate, limit: MemoryLimit): Diagnostic | null {
  if (e.total <= limit.bytes / 2) return null;
  const over = e.total > limit.bytes;
  // The part that needs the most is where to look, when it needs most of it; otherwise the model as a whole.
  const at = over && e.largest && e.largest.bytes * 2 >= e.total ? e.largest.location : model.location;
  const args = { model: model.name, total: formatBytes(e.total), use: e.use.label, limit: formatBytes(limit.bytes), origin: limit.origin };
  const parts = [`parameters ${formatBytes(e.paramBytes)} (${e.params.toLocaleString("en-US")})`];
  if (e.stateBytes > 0) parts.push(`their gradients${e.use.statePerParam > 0 ? ` and ${e.use.optimizer} state` : ""} ${formatBytes(e.stateBytes)}`);
  parts.push(`values for a batch of ${e.use.batch.toLocaleString("en-US")} ${formatBytes(e.valueBytes)}`);
  const notes = [parts.join(", ")];
  if (e.largest) {
    notes.push(`${e.largest.role} '${e.largest.name}' needs ${formatBytes(e.largest.bytes)} of it (${e.largest.params.toLocaleString("en-US")} parameters)`);
  }
  if (!over) return diagnostic(messages.memoryLarge, at.source, at.span, args, { notes });
  const raise = formatBytes(2 ** 30 * Math.ceil(e.total / 2 ** 30)).replace(" ", "");
  return diagnostic(messages.memoryTooLarge, at.source, at.span, args, {
    notes,
    help: [`make the model or the batch smaller, or raise the limit with --max-memory ${raise} if the machine has that much memory`],
  });
}

/** `1.5 GB`, `640 MB`, `12 KB`, `512 bytes` (binary units: 1 GB is 2^30 bytes). */
export function formatBytes(bytes: number): string {
  const units: [string, number][] = [["TB", 2 ** 40], ["GB", 2 ** 30], ["MB", 2 ** 20], ["KB", 2 ** 10]];
  for (const [unit, size] of units) {
    if (bytes >= size) {
      const n = bytes / size;
      const text = n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1).replace(/\.0$/, "");
      return `${text} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

/**
 * Reads a memory size as the command line writes it: `8GB`, `512MB`, `1.5GB`,
 * `4096` (bytes); units KB, MB, GB, TB are binary (1 GB = 2^30 bytes).
 * Null when the text is not a size.
 */
export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? "B").toUpperCase();
  const scale = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 }[unit]!;
  const bytes = Math.floor(Number(m[1]) * scale);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}
