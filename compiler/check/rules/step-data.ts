/**
 * Step data fits the model: the inputs a step reads are fields of its data,
 * with their types; a step that compares the prediction with labels has a
 * prediction of one score per class and a label field with that many classes;
 * label selections name real classes, once each.
 * Spec: spec/data.md#binding-data-to-a-model, spec/pipelines.md#metrics
 */
import type { Expr } from "../../../language/ast.js";
import { formatMessage, type MessageArgs } from "../../../language/diagnostics/diagnostic.js";
import type { MessageTemplate } from "../../../language/diagnostics/template.js";
import { messages } from "../../../language/diagnostics/messages.js";
import { labelField } from "../data.js";
import { inputsOf, selectedLosses } from "../step-needs.js";
import { describeType, formatType, sameType } from "../types.js";
import type { Rule, StepFacts } from "./rule.js";

/** The metric expressions of a test step, with their names. */
export function metricItems(facts: StepFacts): { name: string; expr: Expr }[] {
  const entry = facts.settingEntries.get("metrics");
  if (!entry) return [];
  const items = entry.value.kind === "List" ? entry.value.items : [entry.value];
  return items.flatMap((expr) => {
    const callee = expr.kind === "Call" ? expr.callee : expr;
    return callee.kind === "Ident" ? [{ name: callee.name, expr }] : [];
  });
}

/**
 * Each named input must be a field of the data with the input's type (label
 * inputs take the data's class count). False when one is not. A mismatch is
 * one mistake, reported at the first step that binds the input; the fields a
 * step lacks share one error, and so do the fields of another type, because
 * they all point at the same place.
 */
export function checkFields(facts: StepFacts, names: readonly string[]): boolean {
  const { model, data, step } = facts;
  if (!model || !data || !("data" in step)) return true;
  const missing: string[] = [];
  const mismatched: MessageArgs[] = [];
  let ok = true;
  for (const name of new Set(names)) {
    const input = model.inputs.find((i) => i.name === name);
    if (!input) continue;
    const field = data.fields.find((f) => f.name === name);
    const labels = input.type.classes !== undefined && field?.type.classes !== undefined;
    if (field && sameType(labels ? { ...field.type, classes: input.type.classes! } : field.type, input.type)) continue;
    ok = false;
    if (!facts.firstTime(`data field ${data.name}.${name}`)) continue;
    if (!field) missing.push(name);
    else mismatched.push({ field: name, model: model.name, expected: formatType(input.type), data: data.name, actual: formatType(field.type) });
  }
  reportOnce(facts, messages.dataMissingField, missing.map((field) => ({ data: data.name, field, model: model.name })));
  reportOnce(facts, messages.dataFieldType, mismatched);
  return ok;
}

/** One error for several mistakes at one place: the first in the message, the others as notes. */
function reportOnce(facts: StepFacts, template: MessageTemplate, each: readonly MessageArgs[]): void {
  const [first, ...others] = each;
  if (!first || !("data" in facts.step)) return;
  facts.report(template, facts.step.data.span, first, { notes: others.map((args) => `also: ${formatMessage(template, args)}`) });
}

/**
 * RC514 for a step whose data has no label field: once per step however many
 * of its needs (selecting by class, a metric, the adapt loss) call for labels,
 * and not at all when a field whose type failed (already reported) may be them.
 */
export function reportNoLabels(facts: StepFacts, what: string): void {
  const { data, step } = facts;
  if (!data || !("data" in step) || data.untyped.length > 0) return;
  if (facts.firstTime(`labels of step ${facts.index}`)) facts.report(messages.noLabels, step.data.span, { step: what, data: data.name });
}

/** The prediction against the labels: a prediction [K] and K classes. */
export function checkSupervised(facts: StepFacts, what: string): number | null {
  const { model, data, step, report } = facts;
  if (!model || !data || !("data" in step)) return null;
  const prediction = model.prediction;
  if (!prediction) {
    report(messages.noPrediction, step.span, { step: what, model: model.name });
    return null;
  }
  // An input the data does not provide as declared explains whatever the prediction looks like.
  if (!checkFields(facts, [prediction.input])) return null;
  if (!labelField(data)) {
    reportNoLabels(facts, what);
    return null;
  }
  const classes = facts.dataRef?.classes ?? null;
  const p = prediction.type;
  if (p.shape.length !== 1 || p.dtype !== "f32") {
    report(messages.stepNeeds, step.data.span, {
      what,
      needs: `a prediction of one score per class [K], but model '${model.name}' predicts ${describeType(p)}`,
    }, { notes: ["a head turns a representation into one vector of class scores, e.g. 'head W = mean_pool -> classifier(classes: 10)'"] });
    return null;
  }
  // After a failed replace (already reported), the head's class count is not the one meant.
  if (classes !== null && p.shape[0] !== classes && !facts.replaceFailed) {
    report(messages.headClasses, step.data.span, { model: model.name, actual: p.shape[0]!, data: `'${data.name}.${facts.dataRef!.split}'`, expected: classes }, {
      notes: ["replace the head first: replace W with classifier(classes: ...)"],
    });
    return null;
  }
  return p.shape[0]!;
}

/** True when the step's label selection names real classes, once each (else class counts are already wrong). */
export function selectionOk(facts: StepFacts): boolean {
  const { split, data } = facts;
  const labels = data ? labelField(data) : null;
  if (!split?.labels || !labels) return true;
  return new Set(split.labels).size === split.labels.length && split.labels.every((l) => l >= 0 && l < labels.type.classes!);
}

export const stepData: Rule = {
  name: "step-data",
  spec: "spec/data.md#binding-data-to-a-model",
  step(facts) {
    const { step, split, data, model, settings, report } = facts;
    if (!("data" in step) || !split || !data) return;
    const stepName = step.kind.toLowerCase();
    const labels = labelField(data);
    if ((split.labels || split.perClass !== null) && !labels) {
      reportNoLabels(facts, `selecting by class in ${stepName}`);
      return;
    }
    let selectionOk = true;
    if (split.labels && labels) {
      const max = labels.type.classes! - 1;
      const seen = new Set<number>();
      for (const label of split.labels) {
        if (label < 0 || label > max) report(messages.labelNotInData, step.data.span, { label, data: data.name, max });
        else if (seen.has(label)) report(messages.duplicateLabel, step.data.span, { label });
        else {
          seen.add(label);
          continue;
        }
        selectionOk = false;
      }
    }
    if (!model || facts.modelHadErrors) return;

    if (step.kind === "Pretrain" || (step.kind === "Adapt" && (settings?.objectives.length ?? 0) > 0)) {
      checkFields(facts, inputsOf(model, selectedLosses(model, settings).map((l) => l.node)));
      return;
    }
    // A wrong selection of labels also makes its class count wrong: that is not reported again.
    if (step.kind === "Adapt") {
      if (selectionOk) checkSupervised(facts, "adapt");
      return;
    }
    // test: the losses whose inputs the split provides are reported; metrics that compare
    // the prediction with a target are rules/metric-targets.ts; nearest neighbours need an encoder.
    const knn = metricItems(facts).find((m) => m.name === "nearest_neighbors");
    if (knn) {
      const encoder = model.prediction?.parts.find((p) => model.parts.find((q) => q.name === p)?.role === "encoder");
      if (!encoder) {
        report(messages.stepNeeds, knn.expr.span, { what: "metric 'nearest_neighbors'", needs: `an encoder on the prediction path of model '${model.name}'` });
      } else if (!labels) {
        reportNoLabels(facts, "metric 'nearest_neighbors'");
      } else if (model.prediction) checkFields(facts, [model.prediction.input]);
    }
  },
};
