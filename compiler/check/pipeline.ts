/**
 * Checking a pipeline: walks its steps in order, keeping the state the steps
 * build up (the model, frozen parts, replaced heads), binds each step's data
 * and settings and runs the step rules.
 *
 * Each step sees the model as it is at that step: a step that reads labels
 * checks the model again with its label inputs typed by the data's class count,
 * and every step after a `replace` checks it with the new head. Problems that
 * only appear then are reported at the step, pointing into the model.
 */
import type { DataDecl, LayerTarget, ModelDecl, PipelineDecl, PipelineStep, Span } from "../../language/ast.js";
import type { Diagnostic } from "../../language/diagnostics/diagnostic.js";
import { messages } from "../../language/diagnostics/messages.js";
import { labelField } from "./data.js";
import type { CheckEnv } from "./env.js";
import { ExpressionEvaluator } from "./evaluate.js";
import { FrozenLayers } from "./frozen-layers.js";
import { resolveTarget, segmentsBelow, type ResolvedTarget } from "./layer-targets.js";
import type { Evaluator } from "./evaluator.js";
import { checkModel, type ModelResult } from "./model.js";
import type { ModuleInfo } from "./modules.js";
import type { CheckedData, CheckedModel, CheckedPipeline, CheckedStep, DataRef, StepSettings } from "./program.js";
import { runStepRules } from "./rules/index.js";
import type { StepFacts } from "./rules/rule.js";
import { moduleScope } from "./scope.js";
import { bindSettings } from "./settings.js";
import { partsOf, selectedLosses } from "./step-needs.js";
import type { TensorType } from "./types.js";
import type { LayerValue, SplitValue } from "./values.js";

/** A checked model with the diagnostics checking it gave. */
export interface ModelCheck extends ModelResult {
  readonly diagnostics: readonly Diagnostic[];
}

/** How the pipeline checker reaches checked models and data (each checked once). */
export interface PipelineDeps {
  model(decl: ModelDecl, module: ModuleInfo): ModelCheck;
  data(decl: DataDecl, module: ModuleInfo): CheckedData;
}

/** Checks one pipeline. */
export function checkPipeline(env: CheckEnv, module: ModuleInfo, decl: PipelineDecl, deps: PipelineDeps): CheckedPipeline {
  const ev = new ExpressionEvaluator(env, { module, scope: moduleScope(module), graph: null });
  const report: StepFacts["report"] = (template, span, args, extra) => ev.report(template, span, args, extra);
  let base: { check: ModelCheck; decl: ModelDecl; module: ModuleInfo } | null = null;
  let pretrainedAt: StepFacts["pretrainedAt"] = null;
  const roles = new Map<string, string>();
  // The model as the current step sees it, for splitting frozen layers (FrozenLayers.unfreeze).
  let current: CheckedModel | null = null;
  const frozen = new FrozenLayers((path) => (current ? segmentsBelow(current, path) : null));
  const replacements = new Map<string, LayerValue>();
  const relocated = new Set<string>();
  const steps: CheckedStep[] = [];
  // Keys rules asked about in this pipeline (StepFacts.firstTime).
  const asked = new Set<string>();
  let replaceFailed = false;

  /**
   * The model as this step sees it. New problems are reported at `span`, except
   * those `keep` rejects (in losses the step does not compute, say).
   */
  const effective = (inputs: ReadonlyMap<string, TensorType>, span: Span, context: string, keep: (d: Diagnostic) => boolean): ModelResult | null => {
    if (!base) return null;
    if (inputs.size === 0 && replacements.size === 0) return base.check;
    const b = base;
    const again = env.capture(() => checkModel(env, b.module, b.decl, { inputs, parts: replacements }));
    const known = new Set(b.check.diagnostics.map(key));
    for (const d of again.diagnostics) {
      if (d.severity !== "error" || known.has(key(d)) || relocated.has(d.message) || !keep(d)) continue;
      relocated.add(d.message);
      env.add({
        ...d,
        source: module.source,
        span,
        related: [{ source: d.source, span: d.span, message: `in model '${b.decl.name.text}'` }, ...d.related],
        notes: [...d.notes, `the model is checked here ${context}`],
      });
    }
    return again.result;
  };

  decl.steps.forEach((step, index) => {
    let split: SplitValue | null = null;
    let settings: StepSettings | null = null;
    let entries: StepFacts["settingEntries"] = new Map();
    if (step.kind === "Pretrain" && !base) {
      const found = resolveModel(ev, step);
      if (found) {
        base = { check: deps.model(found.decl, found.module), ...found };
        pretrainedAt = ev.loc(step.model.span);
        for (const p of base.check.model.parts) roles.set(p.name, p.role);
      }
    }
    if ("data" in step) split = evaluateSplit(ev, step);
    if ("config" in step) ({ settings, entries } = bindSettings(ev, step.kind.toLowerCase(), step.config));
    const data = split ? deps.data(split.data, split.module) : null;
    const dataRef = split && data ? toDataRef(split, data) : null;
    const b = base as typeof base;

    let model: ModelResult | null = b?.check ?? null;
    if (step.kind === "Replace" && b) {
      const old = b.check.model.parts.find((p) => p.name === step.part.text);
      if (old?.role === "head") {
        const layer = ev.evaluateLayer(step.value);
        if (layer) {
          replacements.set(step.part.text, layer);
          // Here only the new layer's own fit is checked; the losses are checked by the steps that use them.
          const inside = (d: Diagnostic) => d.source === module.source && d.span.start >= step.value.span.start && d.span.end <= step.value.span.end;
          model = effective(new Map(), step.value.span, `with head '${old.name}' replaced`, inside);
        }
      }
    } else if (b && data && dataRef && "data" in step) {
      const inputs = labelOverrides(b.check.model, data, dataRef);
      const why = [inputs.size > 0 ? `with the labels of '${data.name}.${dataRef.split}' (${dataRef.classes} classes)` : "", replacements.size > 0 ? `with the head${replacements.size > 1 ? "s" : ""} replaced` : ""];
      model = effective(inputs, step.data.span, why.filter(Boolean).join(" and "), inComputedLosses(b.decl, b.module, step, settings));
    }

    const checked = model?.model ?? null;
    current = checked ?? current;
    const prediction = checked?.prediction ?? null;
    const targets = new Map<LayerTarget, ResolvedTarget | null>();
    if ((step.kind === "Freeze" || step.kind === "Unfreeze") && current) for (const t of step.targets) targets.set(t, resolveTarget(current, t));
    runStepRules({
      pipeline: decl,
      source: module.source,
      step,
      index,
      model: checked,
      modelDecl: b?.decl ?? null,
      roles,
      frozen: new Set(frozen.modes().keys()),
      targets,
      split,
      data,
      dataRef,
      settings,
      settingEntries: entries,
      prediction: prediction?.type ?? null,
      predictionParts: prediction?.parts ?? [],
      pretrainedAt,
      modelHadErrors: b?.check.hadErrors ?? false,
      replaceFailed,
      report,
      didYouMean: (name, candidates) => env.didYouMean(name, candidates),
      firstTime(key) {
        if (asked.has(key)) return false;
        asked.add(key);
        return true;
      },
    });

    const location = ev.loc(step.span);
    const trains = (s: StepSettings): string[] => {
      if (!checked) return [];
      const reach = step.kind === "Adapt" && s.objectives.length === 0 ? [...(prediction?.parts ?? [])] : partsOf(checked, selectedLosses(checked, s).map((l) => l.node));
      return reach.filter((p) => !frozen.covers(p));
    };
    switch (step.kind) {
      case "Pretrain":
        if (checked && dataRef && settings && checked.name === step.model.text) {
          steps.push({ kind: "pretrain", model: checked.name, data: dataRef, settings: withObjectives(settings, checked), trainable: trains(settings), location });
        }
        break;
      case "Freeze":
      case "Unfreeze": {
        // Parts, and layers inside them by path (spec/paths.md); targets that name nothing were reported.
        const known = step.targets.flatMap((t) => {
          const r = targets.get(t);
          return r && "paths" in r ? r.paths : [];
        });
        const mode = settings?.trainMode ? "train" : "eval";
        for (const p of known) step.kind === "Freeze" ? frozen.freeze(p, mode) : frozen.unfreeze(p);
        if (settings) steps.push({ kind: step.kind === "Freeze" ? "freeze" : "unfreeze", parts: known, settings, location });
        break;
      }
      case "Replace": {
        const part = checked?.parts.find((p) => p.name === step.part.text);
        if (replacements.has(step.part.text) && part?.layer) {
          frozen.unfreeze(step.part.text);
          steps.push({ kind: "replace", part: part.name, layer: part.layer, params: part.params, location });
        } else replaceFailed = true;
        break;
      }
      case "Adapt":
        if (checked && dataRef && settings) steps.push({ kind: "adapt", data: dataRef, settings: withObjectives(settings, checked, true), trainable: trains(settings), location });
        break;
      case "Test":
        if (dataRef && settings) steps.push({ kind: "test", data: dataRef, settings, location });
        break;
    }
  });

  const last = base as { check: ModelCheck } | null;
  return { name: decl.name.text, doc: decl.doc, model: last?.check.model.name ?? null, steps, location: ev.loc(decl.name.span) };
}

/**
 * Keeps the problems a step meets: those outside losses, and those in the
 * losses it trains (pretrain, adapt with objective). A supervised adapt and a
 * test train no loss of the model, so problems inside losses are left out.
 */
function inComputedLosses(decl: ModelDecl, module: ModuleInfo, step: PipelineStep, settings: StepSettings | null): (d: Diagnostic) => boolean {
  const named = settings?.objectives ?? [];
  const trains = step.kind === "Pretrain" || (step.kind === "Adapt" && named.length > 0);
  const losses = decl.members.filter((m) => m.kind === "Loss");
  return (d) => {
    if (d.source !== module.source) return true;
    const loss = losses.find((l) => d.span.start >= l.span.start && d.span.end <= l.span.end);
    if (!loss || loss.kind !== "Loss") return true;
    return trains && (named.length === 0 || named.includes(loss.name.text));
  };
}

function key(d: Diagnostic): string {
  return `${d.code}|${d.span.start}|${d.message}`;
}

/**
 * Label inputs take their class count from the data: an input `label(classes: K)`
 * is checked, for this step, with the class count of the data field of its name.
 */
function labelOverrides(model: CheckedModel, data: CheckedData, ref: DataRef): Map<string, TensorType> {
  const out = new Map<string, TensorType>();
  const labels = labelField(data);
  for (const input of model.inputs) {
    const field = data.fields.find((f) => f.name === input.name);
    if (input.type.classes === undefined || field?.type.classes === undefined) continue;
    const classes = field === labels && ref.classes !== null ? ref.classes : field.type.classes;
    if (classes !== input.type.classes) out.set(input.name, { ...input.type, classes });
  }
  return out;
}

/** The model a pretrain step names. */
function resolveModel(ev: Evaluator, step: Extract<PipelineStep, { kind: "Pretrain" }>): { decl: ModelDecl; module: ModuleInfo } | null {
  const name = step.model.text;
  const top = ev.module.scope.get(name);
  if (top?.kind === "model") return { decl: top.decl, module: top.module };
  // A name whose import failed was reported there (RC203, RC204, RC205).
  if (!top && (ev.module.unresolved.has(name) || ev.module.wildcardFailed)) return null;
  const models = [...ev.module.scope.values()].filter((t) => t.kind === "model").map((t) => t.decl.name.text);
  ev.report(messages.unknownModel, step.model.span, { name }, { notes: ev.env.didYouMean(name, models) });
  return null;
}

/** Evaluates a step's data: it must be a split of a declared data set. */
function evaluateSplit(ev: Evaluator, step: Extract<PipelineStep, { data: unknown }>): SplitValue | null {
  const v = ev.evaluate(step.data);
  if (v.kind === "split") return v;
  if (v.kind === "data") {
    ev.report(messages.notData, step.data.span, { step: step.kind.toLowerCase(), actual: `data '${v.data.name.text}' without a split` }, {
      notes: [`write '${v.data.name.text}.train' or '${v.data.name.text}.test'`],
    });
  } else if (v.kind !== "error") {
    ev.report(messages.notData, step.data.span, { step: step.kind.toLowerCase(), actual: `'${ev.module.source.slice(step.data.span)}'` });
  }
  return null;
}

function toDataRef(split: SplitValue, data: CheckedData): DataRef {
  const labels = labelField(data);
  const classes = split.labels ? split.labels.length : (labels?.type.classes ?? null);
  return { data: data.name, split: split.split, perClass: split.perClass, labels: split.labels, classes };
}

/** A step's objectives: the named ones, or every loss of the model (none for a supervised adapt). */
function withObjectives(settings: StepSettings, model: CheckedModel, adapt = false): StepSettings {
  if (settings.objectives.length > 0 || adapt) return settings;
  return { ...settings, objectives: model.losses.map((l) => l.name) };
}
