/**
 * The functions of a plan (`encode`, `decode`, `forward`, one per head, one
 * per named output), each
 * lowered (functions.ts) and made symbolic in the number of examples
 * (`fitBatchGraph`), in the order a generated module lists them.
 */
import type { PlanFunction } from "../../runtime/api/plan.js";
import type { CheckedModel, LayerNode } from "../check/program.js";
import { encodePath, lowerEncode, lowerForward, lowerNamedOutput, lowerPartAlone, type LoweredFunction } from "./functions.js";
import { fitBatchGraph } from "./batch-fit.js";
import { headMethodNames } from "./names.js";

/** The input name of `decode`. */
export const DECODE_INPUT = "code";
/** The input name of a head function. */
export const HEAD_INPUT = "features";

/** The batch size a function's types are read at (any would do: they are per example). */
const PROBE_BATCH = 2;

/** A function to build: its name, doc and lowering at a batch size. */
interface FunctionSpec {
  readonly name: string;
  readonly doc: string | null;
  readonly lower: (batch: number) => LoweredFunction | null;
}

/** The plan's functions of `model` with the heads `replaced`. */
export function planFunctions(model: CheckedModel, replaced: ReadonlyMap<string, LayerNode>): PlanFunction[] {
  return functionSpecs(model, replaced).flatMap((spec) => {
    const probe = spec.lower(PROBE_BATCH);
    if (!probe) return [];
    const graph = fitBatchGraph((b) => {
      const lowered = spec.lower(b);
      if (!lowered) throw new Error(`internal error: function '${spec.name}' lowers at ${PROBE_BATCH} examples but not at ${b}`);
      return lowered.graph;
    }, `function '${spec.name}'`);
    const fn: PlanFunction = { name: spec.name, doc: spec.doc, inputs: probe.inputs, output: probe.output, graph };
    return [fn];
  });
}

/** The functions of a model, in the order a generated module lists them: encode, decode, forward, heads, named outputs. */
function functionSpecs(model: CheckedModel, replaced: ReadonlyMap<string, LayerNode>): FunctionSpec[] {
  const specs: FunctionSpec[] = [];
  const path = encodePath(model);
  if (path) specs.push({ name: "encode", doc: path.encoder.doc ?? path.bottleneck?.doc ?? null, lower: (b) => lowerEncode(model, b, replaced) });
  const decoder = model.parts.find((p) => p.role === "decoder");
  if (decoder) specs.push({ name: "decode", doc: decoder.doc, lower: (b) => lowerPartAlone(model, decoder, DECODE_INPUT, b, replaced) });
  if (model.prediction) specs.push({ name: "forward", doc: outputDoc(model), lower: (b) => lowerForward(model, b, replaced) });
  const heads = model.parts.filter((p) => p.role === "head");
  const names = headMethodNames(
    heads.map((h) => h.name),
    specs.map((s) => s.name),
  );
  heads.forEach((head, i) => specs.push({ name: names[i]!, doc: head.doc, lower: (b) => lowerPartAlone(model, head, HEAD_INPUT, b, replaced) }));
  // Named outputs (`output attention = ...`), after the heads, named like them.
  const outputs = headMethodNames(
    model.outputs.map((o) => o.name),
    specs.map((s) => s.name),
  );
  model.outputs.forEach((o, i) => specs.push({ name: outputs[i]!, doc: o.doc, lower: (b) => lowerNamedOutput(model, o.name, b, replaced) }));
  return specs;
}

/**
 * The doc of the model's prediction: the doc of the `let` its `output` names
 * (`output score`). The checked model keeps no doc for the `output` member
 * itself, so an `output` written as an expression has none here.
 */
function outputDoc(model: CheckedModel): string | null {
  const output = model.prediction?.output ?? null;
  if (output === null) return null;
  return model.lets.find((l) => l.node === output)?.doc ?? null;
}
