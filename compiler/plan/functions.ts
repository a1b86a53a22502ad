/**
 * The functions of a plan (`encode`, `decode`, `forward`, one per head) as
 * IR graphs: inference mode, masks and views off, one graph per batch size.
 * Each graph's inputs are the function's inputs (batch axis first) and its one
 * output is `output`. Parameters keep the whole model's checkpoint names, so
 * one set of weights serves every function.
 *
 * A function is left out (null) when it is not a function of its inputs
 * alone: when its graph would also read the random generator's `seed` or
 * `step`, a `skipgram` alias table, or a model value the part refers to (an
 * attention `context:`), or when the part cannot be lowered on its own.
 */
import type { Graph } from "../../runtime/ir/node.js";
import { graphNodes } from "../../runtime/ir/node.js";
import type { DType } from "../../runtime/ir/ops.js";
import type { ExampleType, PlanInput } from "../../runtime/api/plan.js";
import type { CheckedModel, CheckedPart, LayerNode } from "../check/program.js";
import type { TensorType } from "../check/types.js";
import { LowerError, Session, val, type Val } from "../lower/context.js";
import { ModelLowerer } from "../lower/model-scope.js";
import { lowerPrediction } from "../lower/prediction.js";

/** A function lowered at one batch size: its graph and its inputs (per-example shapes). */
export interface LoweredFunction {
  readonly graph: Graph;
  readonly inputs: readonly PlanInput[];
  readonly output: ExampleType;
}

/** What a function computes, given the model being lowered; null when the model has no such function. */
type Body = (m: ModelLowerer) => { readonly x: Val; readonly type: TensorType | null } | null;

/** The element type a plan uses for a checker type (ids and positions are i32). */
export function planDType(t: Pick<TensorType, "dtype">): DType {
  return t.dtype === "f32" ? "f32" : "i32";
}

/**
 * A checker type with masks off: a sequence that is a subset of a longer one
 * (the visible patches of a `random_patches` mask, `positions` set) is the
 * whole sequence, as the prediction sees it.
 */
export function masksOff(t: TensorType): TensorType {
  if (t.positions === undefined) return t;
  const { positions, ...rest } = t;
  return { ...rest, shape: [positions, ...t.shape.slice(1)] };
}

/** The plan's description of one example of a checker type. */
export function exampleType(t: TensorType): ExampleType {
  const off = masksOff(t);
  return {
    dtype: planDType(off),
    shape: [...off.shape],
    ...(off.classes !== undefined ? { classes: off.classes } : {}),
    ...(off.vocab !== undefined ? { vocab: off.vocab } : {}),
  };
}

/** Lowers one function at `batch` examples; null when it has none or it is not a function of its inputs alone. */
function lowerFunction(model: CheckedModel, batch: number, replaced: ReadonlyMap<string, LayerNode>, inputType: (name: string) => ExampleType | null, body: Body): LoweredFunction | null {
  const s = new Session(batch, null);
  const m = new ModelLowerer(s, model, { mode: "eval", frozen: new Set(), partModes: new Map(), replaced });
  const result = body(m);
  if (!result) return null;
  const graph = s.b.graph({ output: result.x.x });
  const inputs: PlanInput[] = [];
  for (const n of graphNodes(graph)) {
    if (n.op !== "input") continue;
    const { name } = n.attrs as { name: string };
    const type = inputType(name);
    if (type === null) return null;
    inputs.push({ name, ...type });
  }
  const out = result.x.x;
  const output: ExampleType = {
    ...(result.type ? exampleType(result.type) : {}),
    dtype: out.dtype,
    shape: out.shape.slice(1),
  };
  return { graph, inputs, output };
}

/** The type of a model input, by name; null for any other graph input (`seed`, `step`, alias tables). */
function modelInput(model: CheckedModel): (name: string) => ExampleType | null {
  return (name) => {
    const declared = model.inputs.find((i) => i.name === name);
    return declared ? exampleType(declared.type) : null;
  };
}

/** Catches what makes a part impossible to lower on its own (a value it reads, a missing mask); other errors are bugs. */
function standalone<T>(f: () => T | null): T | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof LowerError && !e.message.startsWith("internal")) return null;
    throw e;
  }
}

/** The encoder `encode` runs: the first applied encoder on the prediction's path, else the first applied one (as `lowerFeatures`). */
export function encodePath(model: CheckedModel): { encoder: CheckedPart; bottleneck: CheckedPart | null } | null {
  const applied = (p: CheckedPart) => model.graph.nodes.some((n) => n.op === "apply" && n.part === p.name);
  const onPath = new Set(model.prediction?.parts ?? []);
  const encoders = model.parts.filter((p) => p.role === "encoder" && applied(p));
  const encoder = encoders.find((p) => onPath.has(p.name)) ?? encoders[0];
  if (!encoder) return null;
  const first = model.graph.nodes.find((n) => n.op === "apply" && n.part === encoder.name)!;
  const bottleneck = model.parts.find((p) => p.role === "bottleneck") ?? null;
  const coded = bottleneck !== null && model.graph.nodes.some((n) => n.op === "apply" && n.part === bottleneck.name && n.input === first.id);
  return { encoder, bottleneck: coded ? bottleneck : null };
}

/**
 * `encode`: the representation. The encoder chosen by `encodePath` at its
 * first application, on what it sees there with masks and views off, then the
 * bottleneck when the model applies it to that application's output — the
 * choices `lowerPrediction` makes for the head's input.
 */
export function lowerEncode(model: CheckedModel, batch: number, replaced: ReadonlyMap<string, LayerNode>): LoweredFunction | null {
  const path = encodePath(model);
  if (!path) return null;
  return lowerFunction(model, batch, replaced, modelInput(model), (m) => {
    const app = m.applicationsOf(path.encoder.name)[0]!;
    let x = m.applyPart(path.encoder.name, m.worlds.plain.value(app.input), 0, "plain");
    let type = path.encoder.output;
    if (path.bottleneck) {
      const code = m.applicationsOf(path.bottleneck.name).find((a) => a.input === app.id)!;
      x = m.applyPart(path.bottleneck.name, x, m.applicationIndex(code.id), "plain");
      type = path.bottleneck.output;
    }
    return { x, type };
  });
}

/** `forward`: the model's prediction (spec/models.md, "Output and the prediction"). */
export function lowerForward(model: CheckedModel, batch: number, replaced: ReadonlyMap<string, LayerNode>): LoweredFunction | null {
  return lowerFunction(model, batch, replaced, modelInput(model), (m) => {
    const x = lowerPrediction(m);
    return x && { x, type: model.prediction?.type ?? null };
  });
}

/** A named output of the model (`output attention = ...`), with masks off: its value from the model's inputs (spec/models.md). */
export function lowerNamedOutput(model: CheckedModel, name: string, batch: number, replaced: ReadonlyMap<string, LayerNode>): LoweredFunction | null {
  const out = model.outputs.find((o) => o.name === name);
  if (!out) return null;
  return lowerFunction(model, batch, replaced, modelInput(model), (m) => ({ x: m.worlds.plain.value(out.node), type: out.type }));
}

/**
 * One part alone, applied to an input `inputName` of the part's input type
 * (with masks off). Null when the part is never applied or reads anything
 * but its input.
 */
export function lowerPartAlone(model: CheckedModel, part: CheckedPart, inputName: string, batch: number, replaced: ReadonlyMap<string, LayerNode>): LoweredFunction | null {
  const input = part.input;
  if (input === null || !input.batched) return null;
  const t = masksOff(input);
  return standalone(() =>
    lowerFunction(model, batch, replaced, (name) => (name === inputName ? exampleType(input) : null), (m) => {
      const x = val(m.s.dataInput(inputName, [batch, ...t.shape], planDType(t)));
      return { x: m.applyPart(part.name, x, 0, "plain"), type: replaced.has(part.name) ? null : part.output };
    }),
  );
}
