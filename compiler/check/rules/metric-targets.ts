/**
 * Metric targets: each metric that compares the prediction with a target
 * (accuracy, top_k, perplexity, mse, mae, psnr) has one that resolves and
 * fits — class ids with the prediction's positions and as many classes as
 * it scores, or values of the prediction's shape — and the data provides
 * what both read.
 * Spec: spec/pipelines.md#metrics
 */
import type { Expr } from "../../../language/ast.js";
import { messages } from "../../../language/diagnostics/messages.js";
import { labelField } from "../data.js";
import { fits, isTargetProblem, METRIC_KINDS, resolveMetricTarget, type MetricTarget } from "../metric-targets.js";
import { inputsOf } from "../step-needs.js";
import { describeType } from "../types.js";
import type { Rule, StepFacts } from "./rule.js";
import { checkFields, checkSupervised, metricItems, reportNoLabels, selectionOk } from "./step-data.js";

/** Where a metric's `target:` argument was written, else the metric. */
function targetSpan(expr: Expr) {
  const arg = expr.kind === "Call" ? expr.args.find((a) => a.name?.text === "target") : undefined;
  return (arg?.value ?? expr).span;
}

/** Checks one metric against a value target; the number of classes it scores, or null. */
function checkValueTarget(facts: StepFacts, metric: string, expr: Expr, target: Extract<MetricTarget, { kind: "value" }>): number | null {
  const { model, report } = facts;
  const prediction = facts.prediction!;
  const kind = METRIC_KINDS[metric]!;
  const fail = (problem: string): null => {
    report(messages.metricTarget, targetSpan(expr), { metric, prediction: describeType(prediction), target: target.text, actual: describeType(target.type), problem });
    return null;
  };
  if (!target.type.batched) {
    report(messages.needsExamples, targetSpan(expr), { construct: `metric '${metric}'`, origin: `'${target.text}'` });
    return null;
  }
  if (!fits(kind, prediction, target.type)) {
    return fail(kind === "values" ? "it needs f32 values of the prediction's shape" : "it needs class ids with the prediction's positions (its shape without the last axis)");
  }
  if (kind === "values") return null;
  const classes = prediction.shape[prediction.shape.length - 1]!;
  const known = target.type.vocab ?? target.type.classes;
  if (known !== undefined && known !== classes) return fail(`the prediction scores ${classes} classes and the target has ${known}`);
  checkFields(facts, inputsOf(model!, [target.node]));
  return classes;
}

export const metricTargets: Rule = {
  name: "metric-targets",
  spec: "spec/pipelines.md#metrics",
  step(facts) {
    const { step, model, data, settings, report } = facts;
    if (step.kind !== "Test" || !model || !data || !settings || facts.modelHadErrors || !selectionOk(facts)) return;
    const items = metricItems(facts);
    const used = new Set<number>();
    for (const item of items) {
      const kind = METRIC_KINDS[item.name];
      // The bound metric of this item (a metric with wrong arguments is already reported and absent).
      const index = settings.metrics.findIndex((m, i) => !used.has(i) && m.name === item.name);
      if (!kind || index < 0) continue;
      used.add(index);
      const metric = settings.metrics[index]!;
      if (!model.prediction || !facts.prediction) {
        if (facts.firstTime(`prediction of test ${facts.index}`)) report(messages.noPrediction, step.span, { step: `metric '${item.name}'`, model: model.name });
        continue;
      }
      if (!checkFields(facts, [model.prediction.input])) continue;
      const target = resolveMetricTarget(model, facts.prediction, metric, labelField(data));
      let classes: number | null = null;
      if (isTargetProblem(target)) {
        if (target.problem === "unknown") {
          report(messages.unknownMetricTarget, targetSpan(item.expr), { metric: item.name, name: target.name, model: model.name }, { notes: facts.didYouMean(target.name, target.known) });
        } else if (kind === "classes" && facts.prediction.shape.length === 1) {
          reportNoLabels(facts, `metric '${item.name}'`);
        } else {
          report(messages.stepNeeds, item.expr.span, {
            what: `metric '${item.name}'`,
            needs: `a target to compare the prediction ${describeType(facts.prediction)} with: name one, e.g. ${item.name}(target: ${kind === "values" ? "image" : "m.target"})`,
          });
        }
        continue;
      }
      if (target.kind === "labels") classes = checkSupervised(facts, `metric '${item.name}'`);
      else classes = checkValueTarget(facts, item.name, item.expr, target);
      const k = item.name === "top_k" && typeof metric.args["k"] === "number" ? metric.args["k"] : null;
      if (classes !== null && k !== null && k > classes) {
        report(messages.argumentOutOfRange, item.expr.span, { name: "k", callee: "top_k", expected: `at most the ${classes} classes`, actual: k });
      }
    }
  },
};
