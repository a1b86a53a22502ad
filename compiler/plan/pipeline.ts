/**
 * A checked pipeline as plan data (`PlanPipeline`, runtime/api/plan.ts): every
 * step as the training engine runs it — training steps with their graphs,
 * `freeze`/`unfreeze` as records, `replace` with the new head's tensors and
 * their initialization (any shape the checker accepts), and test steps with
 * their evaluation graph and metrics — and the model after the pipeline
 * when a head was replaced. Each graph is symbolic in the batch size.
 */
import type { PlanDataRef, PlanInput, PlanMetric, PlanPipeline, PlanStep, PlanTensors } from "../../runtime/api/plan.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { labelField } from "../check/data.js";
import { ancestors } from "../check/graph.js";
import { isTargetProblem, METRIC_KINDS, resolveMetricTarget } from "../check/metric-targets.js";
import type { CheckedData, CheckedModel, CheckedPipeline, CheckedProgram, DataRef, LayerNode, StepSettings } from "../check/program.js";
import type { TensorType } from "../check/types.js";
import { modelParams } from "../lower/declare.js";
import { initGraph } from "../lower/init.js";
import { lowerModel } from "../lower/model.js";
import { stepLowering } from "../lower/steps.js";
import { fitBatchGraph } from "./batch-fit.js";
import { planFunctions } from "./functions-plan.js";
import { noiseTables } from "./noise.js";
import { inputsOf, lowerTraining } from "./training.js";

/**
 * The metrics of a test step with the graph outputs they compare the
 * prediction with (compiler/check/metric-targets.ts), and the target outputs
 * to lower. `predictionType` is the prediction's type at that step (a
 * replaced head's shape).
 */
function metricTargets(
  model: CheckedModel,
  predictionType: TensorType | null,
  data: CheckedData | null,
  metrics: StepSettings["metrics"],
): { metrics: PlanMetric[]; targets: Record<string, { node: number } | { mask: number }> } {
  const targets: Record<string, { node: number } | { mask: number }> = {};
  const planned = metrics.map((m): PlanMetric => {
    const args = { ...(m.args as Record<string, number | string | boolean>) };
    const base = { name: m.name, args, label: metricLabel(m) };
    if (!METRIC_KINDS[m.name]) return { ...base, target: null };
    if (!predictionType) throw new Error(`internal error: metric '${m.name}' of a model without a prediction`);
    const t = resolveMetricTarget(model, predictionType, m, data ? labelField(data) : null);
    if (isTargetProblem(t)) throw new Error(`internal error: metric '${m.name}' has no target`);
    if (t.kind === "labels") return { ...base, target: null };
    targets[t.text] = t.mask ? { mask: t.mask.id } : { node: t.node };
    return { ...base, target: `target/${t.text}` };
  });
  return { metrics: planned, targets };
}

/** How reports name a metric: `accuracy`, `top_k(k: 3)`. */
export function metricLabel(m: { readonly name: string; readonly args: Readonly<Record<string, unknown>> }): string {
  const args = Object.entries(m.args);
  return args.length === 0 ? m.name : `${m.name}(${args.map(([k, v]) => `${k}: ${String(v)}`).join(", ")})`;
}

/** A step's data as the plan refers to it. */
function dataRef(ref: DataRef): PlanDataRef {
  return { data: ref.data, split: ref.split, labels: ref.labels === null ? null : [...ref.labels], perClass: ref.perClass };
}

/** The heads replaced by the first `count` steps. */
function replacedBy(pipeline: CheckedPipeline, count: number): Map<string, LayerNode> {
  const replaced = new Map<string, LayerNode>();
  for (const s of pipeline.steps.slice(0, count)) if (s.kind === "replace" && s.layer) replaced.set(s.part, s.layer);
  return replaced;
}

/** A set of tensors of the model and their initialization graph. */
function tensorsOf(model: CheckedModel, replaced: ReadonlyMap<string, LayerNode>, only?: string): PlanTensors {
  const params = modelParams(model, replaced).filter((p) => only === undefined || p.owner === only);
  return {
    tensors: params.map((p) => ({ name: p.name, dtype: p.dtype, shape: [...p.shape], owner: p.owner })),
    init: planKernelGraph(initGraph(params)),
  };
}

/** The heads a pipeline has replaced by its end. */
export function replacedByPipeline(pipeline: CheckedPipeline): Map<string, LayerNode> {
  return replacedBy(pipeline, pipeline.steps.length);
}

/** Plans pipeline `pipeline` of `program` over its model. */
export function planPipeline(program: CheckedProgram, model: CheckedModel, pipeline: CheckedPipeline): PlanPipeline {
  const counts = new Map<string, number>();
  let lastTraining: PlanDataRef | null = null;
  const steps: PlanStep[] = pipeline.steps.map((step, index): PlanStep => {
    switch (step.kind) {
      case "freeze":
      case "unfreeze":
        return { kind: step.kind, parts: [...step.parts] };
      case "replace":
        return { kind: "replace", part: step.part, head: tensorsOf(model, replacedBy(pipeline, index + 1), step.part) };
      case "pretrain":
      case "adapt": {
        const k = (counts.get(step.kind) ?? 0) + 1;
        counts.set(step.kind, k);
        const lowering = stepLowering(program, pipeline.name, index);
        const name = k === 1 ? step.kind : `${step.kind}${k}`;
        const training = lowerTraining(program, model, { name, options: lowering.options, settings: lowering.settings, step });
        if (training === null) throw new Error(`internal error: step ${index + 1} of pipeline '${pipeline.name}' cannot be planned`);
        lastTraining = dataRef(step.data);
        return { kind: step.kind, data: lastTraining, seed: step.settings.seed, training };
      }
      case "test": {
        const lowering = stepLowering(program, pipeline.name, index);
        const settings = step.settings;
        const data = program.data.find((d) => d.name === step.data.data) ?? null;
        // The prediction as this step computes it (a replaced head's shape) decides the metrics' targets.
        const predicted = lowerModel(program, model.name, lowering.options).outputs.prediction;
        const predictionType: TensorType | null = predicted ? { dtype: "f32", shape: predicted.shape.slice(1), batched: true } : null;
        const { metrics, targets } = metricTargets(model, predictionType, data, settings.metrics);
        const features = settings.metrics.some((m) => m.name === "nearest_neighbors");
        // Named outputs the split can feed come along as pictures (`picture/@<name>`), which repr train draws.
        const fields = new Set(data?.fields.map((f) => f.name) ?? []);
        const outputs = model.outputs.filter((o) => modelInputsOf(model, o.node).every((i) => fields.has(i))).map((o) => o.name);
        const options = { ...lowering.options, features, targets, pictures: true, outputs };
        const lowered = lowerModel(program, model.name, options);
        const inputs: PlanInput[] = lowered.inputs
          .filter((i) => i.kind === "data")
          .map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape.slice(1) }));
        const noise = noiseTables(model, inputs, inputsOf(lowered.graph)) ?? [];
        const graph = fitBatchGraph((b) => lowerModel(program, model.name, { ...options, batch: b }).graph, `test step ${index + 1} of pipeline '${pipeline.name}'`);
        return {
          kind: "test",
          data: dataRef(step.data),
          seed: settings.seed,
          batch: lowering.options.batch,
          inputs,
          graph,
          metrics,
          label: data ? (labelField(data)?.name ?? null) : null,
          reference: lastTraining,
          noise,
        };
      }
    }
  });
  const replaced = replacedBy(pipeline, pipeline.steps.length);
  const after = replaced.size === 0 ? null : { ...tensorsOf(model, replaced), functions: planFunctions(model, replaced) };
  return { name: pipeline.name, doc: pipeline.doc, steps, start: tensorsOf(model, new Map()), after };
}

/** The model inputs a node of the model graph reads. */
function modelInputsOf(model: CheckedModel, id: number): string[] {
  return [...ancestors({ node: (i) => model.graph.nodes[i]! }, id)].flatMap((i) => {
    const n = model.graph.nodes[i]!;
    return n.op === "input" ? [n.name] : [];
  });
}
