/**
 * Step settings: the `{ ... }` after a pipeline step, bound to typed settings.
 * Which settings a step accepts depends on the step; names are checked here,
 * their relation to the model (loss names, part names) by the step rules.
 */
import type { Expr, MapEntry, MapExpr, Span } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import { toArgs } from "./arg-values.js";
import { evaluateArg } from "./bind.js";
import { metrics, optimizers, schedules } from "../builtins/optimizers.js";
import { NONNEG_FLOAT, NONNEG_INT, POS_FLOAT, POS_INT, type ParamSpec, type SettingDef } from "../builtins/spec.js";
import { bindBuiltinArgs } from "./calls.js";
import type { Evaluator } from "./evaluator.js";
import type { Args, StepSettings } from "./program.js";

type Handler = ParamSpec | "optimizer" | "schedule" | "objective" | "lr_scale" | "metrics";

/** A seed: any 32-bit unsigned int, as `--seed` takes (not a size, so not bound by the largest size). */
const SEED: ParamSpec["type"] = { kind: "int", min: 0, max: 2 ** 32 - 1 };

const spec = (name: string, type: ParamSpec["type"], doc: string): ParamSpec => ({ name, type, doc, optional: true });

const training: Record<string, Handler> = {
  epochs: spec("epochs", POS_INT, "Passes over the data."),
  steps: spec("steps", POS_INT, "Optimizer steps (instead of epochs)."),
  batch: spec("batch", POS_INT, "Examples per step."),
  seed: spec("seed", SEED, "Seed of every random draw in the step."),
  optimizer: "optimizer",
  weight_decay: spec("weight_decay", NONNEG_FLOAT, "L2 penalty added to the gradient."),
  clip: spec("clip", POS_FLOAT, "Largest global gradient norm."),
  schedule: "schedule",
  objective: "objective",
  lr_scale: "lr_scale",
  layer_decay: spec("layer_decay", { kind: "float", min: 0, max: 1, openMin: true }, "Learning-rate factor per layer from the top, in (0, 1]."),
};

/** The settings each step accepts. */
const bySteps: Record<string, Record<string, Handler>> = {
  pretrain: training,
  adapt: training,
  test: {
    batch: spec("batch", POS_INT, "Examples per evaluation batch."),
    seed: spec("seed", SEED, "Seed of every random draw in the step."),
    metrics: "metrics",
  },
  freeze: { train_mode: spec("train_mode", { kind: "bool" }, "Keep dropout and batch statistics in training mode.") },
  unfreeze: { train_mode: spec("train_mode", { kind: "bool" }, "Keep dropout and batch statistics in training mode.") },
};

/** The settings of a step that names none: every one at its default (spec/pipelines.md, "Step settings"). */
export const DEFAULT_STEP_SETTINGS: StepSettings = {
  epochs: null,
  steps: null,
  batch: null,
  seed: null,
  optimizer: null,
  weightDecay: null,
  clip: null,
  schedule: null,
  objectives: [],
  lrScale: {},
  layerDecay: null,
  metrics: [],
  trainMode: false,
};

/** Binds a step's settings; unknown or ill-typed settings are reported and left out. */
export function bindSettings(ev: Evaluator, step: string, map: MapExpr | null): { settings: StepSettings; entries: ReadonlyMap<string, MapEntry> } {
  const allowed = bySteps[step] ?? {};
  const entries = new Map<string, MapEntry>();
  const out = {
    ...DEFAULT_STEP_SETTINGS,
    objectives: [] as string[],
    // No prototype: a part may be called `__proto__` or `constructor`.
    lrScale: Object.create(null) as Record<string, number>,
    metrics: [] as { name: string; args: Args }[],
  } as { -readonly [K in keyof StepSettings]: StepSettings[K] } & { objectives: string[]; lrScale: Record<string, number>; metrics: { name: string; args: Args }[] };
  for (const entry of map?.entries ?? []) {
    const key = entry.name.text;
    const handler = allowed[key];
    if (!handler) {
      ev.report(messages.unknownSetting, entry.name.span, { step, name: key }, { notes: ev.env.didYouMean(key, Object.keys(allowed)) });
      continue;
    }
    if (entries.has(key)) {
      ev.report(messages.duplicateArgument, entry.name.span, { callee: `'${step}'`, name: key });
      continue;
    }
    entries.set(key, entry);
    if (typeof handler === "object") {
      const v = evaluateArg(ev, `'${step}'`, handler, entry.value);
      if (v.kind === "number") {
        const field = ({ epochs: "epochs", steps: "steps", batch: "batch", seed: "seed", weight_decay: "weightDecay", clip: "clip", layer_decay: "layerDecay" } as const)[key as "epochs"];
        if (field) out[field] = v.value;
      } else if (v.kind === "bool" && key === "train_mode") out.trainMode = v.value;
      continue;
    }
    switch (handler) {
      case "optimizer":
      case "schedule": {
        const r = settingCall(ev, step, key, entry.value, handler === "optimizer" ? optimizers : schedules);
        if (r) out[handler] = r;
        break;
      }
      case "metrics": {
        const items = entry.value.kind === "List" ? entry.value.items : [entry.value];
        for (const item of items) {
          const r = settingCall(ev, step, key, item, metrics);
          if (r) out.metrics.push(r);
        }
        break;
      }
      case "objective": {
        const items = entry.value.kind === "List" ? entry.value.items : [entry.value];
        for (const item of items) {
          if (item.kind === "Ident") out.objectives.push(item.name);
          else wrongType(ev, step, key, item, "a loss name or a list of loss names");
        }
        break;
      }
      case "lr_scale": {
        if (entry.value.kind !== "Map") {
          wrongType(ev, step, key, entry.value, "a map from part names to factors, e.g. { f: 0.1 }");
          break;
        }
        for (const e of entry.value.entries) {
          const v = evaluateArg(ev, `'lr_scale'`, spec(e.name.text, NONNEG_FLOAT, ""), e.value);
          if (v.kind === "number") out.lrScale[e.name.text] = v.value;
        }
        break;
      }
    }
  }
  return { settings: out, entries };
}

function wrongType(ev: Evaluator, step: string, key: string, e: Expr, expected: string): void {
  ev.report(messages.wrongArgumentType, e.span, { name: key, callee: `'${step}'`, expected, actual: `'${ev.module.source.slice(e.span)}'` });
}

/** `adam(lr: 1e-3)`, `cosine`, `top_k(k: 5)`: a named setting with arguments. */
function settingCall(ev: Evaluator, step: string, key: string, e: Expr, table: readonly SettingDef[]): { name: string; args: Args } | null {
  const callee = e.kind === "Call" ? e.callee : e;
  const args = e.kind === "Call" ? e.args : [];
  const names = table.map((d) => d.name);
  const category = table[0]!.category;
  if (callee.kind !== "Ident") {
    wrongType(ev, step, key, e, `${category === "metric" ? "a metric" : `an ${category}`} (${names.join(", ")})`);
    return null;
  }
  const def = table.find((d) => d.name === callee.name);
  if (!def) {
    if (category === "metric") ev.report(messages.unknownMetric, callee.span, { name: callee.name }, { notes: ev.env.didYouMean(callee.name, names) });
    else {
      ev.report(messages.wrongArgumentType, callee.span, { name: key, callee: `'${step}'`, expected: `a ${category} (${names.join(", ")})`, actual: `'${callee.name}'` }, {
        notes: ev.env.didYouMean(callee.name, names),
      });
    }
    return null;
  }
  const required = def.params.filter((p) => p.default === undefined && !p.optional);
  if (e.kind !== "Call" && required.length > 0) {
    ev.report(messages.bareNeedsArguments, e.span, {
      callee: `${category} '${def.name}'`,
      required: required.map((p) => p.name).join(", "),
      example: `${def.name}(${required.map((p) => `${p.name}: ...`).join(", ")})`,
    });
    return null;
  }
  // A metric's `target:` names a value of the model, which the pipeline's scope does not see: it is kept as written.
  const targetArg = category === "metric" ? args.find((a) => a.name?.text === "target") : undefined;
  let target: string | null = null;
  if (targetArg) {
    const v = targetArg.value;
    if (v.kind === "Ident") target = v.name;
    else if (v.kind === "Member" && v.target.kind === "Ident") target = `${v.target.name}.${v.name.text}`;
    else {
      wrongType(ev, step, "target", v, "a model input, a let or a mask's target, e.g. image or m.target");
      return null;
    }
  }
  const params = targetArg ? def.params.filter((p) => p.name !== "target") : def.params;
  const bound = bindBuiltinArgs(ev, `${category} '${def.name}'`, params, args.filter((a) => a !== targetArg), e.span);
  if (!bound) return null;
  const resolved: Record<string, unknown> = toArgs(bound.args);
  return { name: def.name, args: (target === null ? resolved : { ...resolved, target }) as Args };
}

/** Spans for rules: where a setting was written. */
export function settingSpan(entries: ReadonlyMap<string, MapEntry>, key: string): Span | null {
  return entries.get(key)?.span ?? null;
}

/** The settings a step (`pretrain`, `adapt`, `test`, `freeze`, `unfreeze`) accepts, with the typed ones' specs (for editors). */
export function stepSettings(step: string): readonly { readonly name: string; readonly spec: ParamSpec | null }[] {
  return Object.entries(bySteps[step] ?? {}).map(([name, h]) => ({ name, spec: typeof h === "string" ? null : h }));
}
