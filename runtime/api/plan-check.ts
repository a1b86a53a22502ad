/**
 * Checks that a plan is one this runtime can run: its format, and that each
 * graph's inputs and outputs are what the plan says they are. A plan that
 * fails was not made by a matching compiler: the messages say so.
 */
import type { KernelGraph } from "../kernel/graph.js";
import { ReprError } from "./errors.js";
import { PLAN_FORMAT, type ModelPlan } from "./plan.js";

/** Checks the plan's format and the parts every model needs. */
export function checkPlan(plan: ModelPlan): void {
  if (typeof plan !== "object" || plan === null) throw new ReprError("a model plan must be an object (the `plan` a compiled module exports)");
  if (plan.format !== PLAN_FORMAT) {
    throw new ReprError(
      `this model plan has format ${JSON.stringify(plan.format)}, but this runtime runs format ${PLAN_FORMAT}; compile the model again with this version of repr`,
    );
  }
  for (const key of ["tensors", "functions", "training", "parts"] as const) {
    if (!Array.isArray(plan[key])) throw new ReprError(`this model plan has no '${key}' list`);
  }
}

/** Checks that `graph` reads only `inputs` and the tensors of `params`, and has every output of `outputs`. */
export function checkGraph(where: string, graph: KernelGraph, inputs: readonly string[], outputs: readonly string[], params: ReadonlyMap<string, unknown>): void {
  for (const p of graph.params) {
    if (!params.has(p.name)) throw new ReprError(`${where}: its graph reads the tensor '${p.name}', which the plan does not describe`);
  }
  for (const i of graph.inputs) {
    if (!inputs.includes(i.name)) throw new ReprError(`${where}: its graph reads the input '${i.name}', which the plan does not describe`);
  }
  for (const o of outputs) {
    if (!graph.outputs.some((g) => g.name === o)) throw new ReprError(`${where}: its graph has no output '${o}'`);
  }
}
