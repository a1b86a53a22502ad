/**
 * The decisions behind a generated module, made once: the class name, every
 * method's name, parameters, types and documentation, as plain data. The
 * printer (`print.ts`) only writes this description out.
 */
import type { ExampleType, ModelPlan, PlanFunction, PlanInput, PlanPipeline, PlanTraining } from "../../runtime/api/plan.js";
import { docInline, docLines, formatExampleType, plainLine } from "./docs.js";
import { planToJson } from "../../runtime/api/plan-json.js";
import { FIXED_MEMBER_NAMES, MODULE_SCOPE_NAMES, classNameFor, pascalCase, uniqueIdentifiers } from "./names.js";

/** How a generated module is made. */
export interface EmitOptions {
  /** The module specifier the generated module imports the runtime from (`repr/runtime`). */
  readonly runtimeImport: string;
  /** The class name, for a module of one plan; by default the model name in PascalCase. */
  readonly className?: string;
}

/** The typed array that holds one dtype's numbers. */
export type ArrayType = "Float32Array" | "Int32Array";

/** A doc comment: its text lines, `@param` tags and `@returns` tag, all comment-safe. */
export interface DocDescription {
  readonly lines: readonly string[];
  readonly params: readonly { readonly name: string; readonly text: string }[];
  readonly returns: string | null;
}

/** A function method: its parameters, each the array one input's examples are fed from. */
export interface CallMethod {
  readonly kind: "call";
  readonly name: string;
  readonly doc: DocDescription;
  /** The plan function it runs. */
  readonly fn: string;
  /** `name`: the parameter; `key`: the input name the runtime expects. */
  readonly params: readonly { readonly name: string; readonly key: string; readonly type: ArrayType }[];
  readonly returns: ArrayType;
}

/** A training method: `trainStep` (one update on one batch), `fit` (a run) or `evaluate` (the loss without updates). */
export interface TrainingMethod {
  readonly kind: "trainStep" | "fit" | "evaluate";
  readonly name: string;
  readonly doc: DocDescription;
  /** The plan training step it runs. */
  readonly step: string;
  /** The fields of one batch (for `trainStep`): input names and their arrays. */
  readonly batch: readonly { readonly key: string; readonly type: ArrayType }[];
}

/** A static method that runs one of the model's pipelines (`runTransfer`). */
export interface PipelineMethod {
  readonly kind: "pipeline";
  readonly name: string;
  readonly doc: DocDescription;
  /** The plan pipeline it runs. */
  readonly pipeline: string;
}

/** `sample(options)`: the plan's sampling (spec/sampling.md), new token ids or decoded outputs. */
export interface SampleMethod {
  readonly kind: "sample";
  readonly name: string;
  readonly doc: DocDescription;
  readonly returns: ArrayType;
}

/** A method of the generated class. */
export type MethodDescription = CallMethod | TrainingMethod | PipelineMethod | SampleMethod;

/** One model of a generated module, decided: its class and the module-level constants the class reads. */
export interface ClassDescription {
  /** The module-level constants' names: the plan, the parts and the inputs (`PLAN`, `PARTS`, `INPUTS` in a one-model module). */
  readonly planName: string;
  readonly partsName: string;
  readonly inputsName: string;
  /** The plan as JSON text, for the runtime's `planFromJson`. */
  readonly planJson: string;
  readonly className: string;
  readonly classDoc: readonly string[];
  /** Static metadata: the parts, and the inputs of the functions and training steps (first occurrence of each name). */
  readonly parts: readonly { readonly name: string; readonly role: string }[];
  readonly inputs: readonly PlanInput[];
  /** The names `freeze` and `unfreeze` take, and the names `replaceHead` takes (no method when empty). */
  readonly partNames: readonly string[];
  readonly headNames: readonly string[];
  readonly methods: readonly MethodDescription[];
}

/** Everything a generated module says, decided: one import, then each model's constants and class. */
export interface ModuleDescription {
  /** The header comment's text, on one line. */
  readonly header: string;
  readonly runtimeImport: string;
  /** The types the module imports from the runtime (besides the values `Model` and `planFromJson`): only those it uses. */
  readonly runtimeTypes: readonly string[];
  readonly classes: readonly ClassDescription[];
}

const arrayType = (t: ExampleType): ArrayType => (t.dtype === "i32" ? "Int32Array" : "Float32Array");
const code = (text: string): string => `\`${docInline(text)}\``;

/** The fields of one batch or example, for docs: `` `image` f32[32, 1, 28, 28], `label` i32[32] (10 classes) ``. */
function fieldsDoc(inputs: readonly PlanInput[], batch: string | number): string {
  return inputs.map((i) => `${code(i.name)} ${formatExampleType(i, batch)}`).join(", ") || "no fields";
}

function callDoc(fn: PlanFunction, params: readonly string[]): DocDescription {
  const lines = fn.doc !== null ? docLines(fn.doc) : [];
  return {
    lines: lines.length > 0 ? lines : [`Runs the function ${code(fn.name)} on n examples.`],
    params: [
      ...fn.inputs.map((input, i) => ({
        name: params[i]!,
        text: `${params[i] === input.name ? "" : `input ${code(input.name)}: `}${formatExampleType(input, "n")}, n examples one after another`,
      })),
      {
        name: "count",
        text:
          fn.inputs.length > 0
            ? `the number of examples n; by default, what the length of ${code(params[0]!)} says`
            : "the number of examples n",
      },
    ],
    returns: `${formatExampleType(fn.output, "n")}, one result per example`,
  };
}

/** How long `fit` trains by default, as its doc says it. */
function defaultLength(step: PlanTraining): string {
  if (step.updates > 0) return `${step.updates} update${step.updates === 1 ? "" : "s"}`;
  return `${step.epochs} pass${step.epochs === 1 ? "" : "es"} over the data`;
}

function trainingDocs(step: PlanTraining): Record<TrainingMethod["kind"], DocDescription> {
  const own = step.doc !== null ? docLines(step.doc) : [];
  const about = own.length > 0 ? [...own, ""] : [];
  const name = code(step.name);
  return {
    trainStep: {
      lines: [...about, `One update of the training step ${name} on one batch of any number of examples (the step's own batch is ${step.batch}).`],
      params: [{ name: "batch", text: `the batch by input name: ${fieldsDoc(step.inputs, "n")}` }],
      returns: "the loss on the batch",
    },
    fit: {
      lines: [...about, `Trains with the training step ${name}: ${defaultLength(step)} in batches of ${step.batch}, unless options say otherwise.`],
      params: [
        { name: "data", text: `the examples by input name: ${fieldsDoc(step.inputs, "n")}` },
        { name: "options", text: "the batch size, epochs or updates, the shuffle seed, a progress callback, an abort signal" },
      ],
      returns: "the number of updates taken and their losses",
    },
    evaluate: {
      lines: [...about, `The loss of the training step ${name} on data, without updating anything.`],
      params: [
        { name: "data", text: `the examples by input name: ${fieldsDoc(step.inputs, "n")}` },
        { name: "options", text: "the batch size (default: the step's own)" },
      ],
      returns: "the mean loss over all the examples",
    },
  };
}

/** A pipeline's steps as one line: `pretrain on digits.train, freeze f, replace W, adapt on …, test on digits.test`. */
function stepsLine(pipeline: PlanPipeline): string {
  const ref = (r: { data: string; split: string }) => `${r.data}.${r.split}`;
  return pipeline.steps
    .map((s) => {
      switch (s.kind) {
        case "pretrain":
        case "adapt":
        case "test":
          return `${s.kind} on ${ref(s.data)}`;
        case "freeze":
        case "unfreeze":
          return `${s.kind} ${s.parts.join(", ")}`;
        case "replace":
          return `replace ${s.part}`;
      }
    })
    .join(", ");
}

function pipelineDoc(pipeline: PlanPipeline): DocDescription {
  const own = pipeline.doc !== null ? docLines(pipeline.doc) : [];
  return {
    lines: [
      ...(own.length > 0 ? [...own, ""] : []),
      `Runs the pipeline ${code(pipeline.name)}: ${docInline(stepsLine(pipeline))}.`,
      "Resolves with the trained model, or, when the signal stopped it, with the state to resume from.",
    ],
    params: [{ name: "options", text: "the backend, the data by declaration name (typed arrays by field), progress and step callbacks, an abort signal, a state to resume" }],
    returns: "how the run ended: the history and the trained model, or the state to resume from",
  };
}

/** `sample`, documented for what the model samples. */
function sampleMethod(s: NonNullable<ModelPlan["sampling"]>): SampleMethod {
  const tokens: DocDescription = {
    lines: [
      `Generates text: extends a prompt of token ids (input ${code(s.kind === "next-token" ? s.input : "")}) one drawn token at a time, with a temperature, top-k and a seed.`,
      "The draws are the shared generator's: one seed gives the same tokens every time.",
    ],
    params: [{ name: "options", text: "count, seed, temperature (0: greedy), topK (0: every token), tokens (how many to add), prompt (ids)" }],
    returns: "count × tokens new ids, sample after sample",
  };
  const prior: DocDescription = {
    lines: ["Draws codes from the variational bottleneck's prior N(0, I) and decodes them.", "The draws are the shared generator's: one seed gives the same samples every time."],
    params: [{ name: "options", text: "count, seed, temperature (the prior's standard deviation)" }],
    returns: "count decoded outputs, one after another",
  };
  return s.kind === "next-token" ? { kind: "sample", name: "sample", doc: tokens, returns: "Int32Array" } : { kind: "sample", name: "sample", doc: prior, returns: "Float32Array" };
}

/** The method names a training step asks for: `trainStep`, `fit`, `evaluate` for the step `train`, else `trainPretrain`, `fitPretrain`, ... */
function trainingNames(step: string): Record<TrainingMethod["kind"], string> {
  if (step === "train") return { trainStep: "trainStep", fit: "fit", evaluate: "evaluate" };
  const suffix = pascalCase(step);
  return { trainStep: `train${suffix}`, fit: `fit${suffix}`, evaluate: `evaluate${suffix}` };
}

/** Input names are keys of one object per call, so a function or step with two inputs of one name is a broken plan. */
function checkInputNames(plan: ModelPlan): void {
  for (const [what, list] of [
    ["function", plan.functions],
    ["training step", plan.training],
  ] as const) {
    for (const item of list) {
      const names = item.inputs.map((i) => i.name);
      const twice = names.find((n, i) => names.indexOf(n) !== i);
      if (twice !== undefined) throw new Error(`internal error: ${what} ${JSON.stringify(item.name)} has two inputs named ${JSON.stringify(twice)}`);
    }
  }
}

/** The methods of the class for `plan`, named. */
function describeMethods(plan: ModelPlan): MethodDescription[] {
  const kinds = ["trainStep", "fit", "evaluate"] as const;
  const wanted = [
    ...plan.functions.map((f) => f.name),
    ...plan.training.flatMap((s) => kinds.map((kind) => trainingNames(s.name)[kind])),
    ...plan.pipelines.map((p) => `run${pascalCase(p.name)}`),
  ];
  const names = uniqueIdentifiers(wanted, FIXED_MEMBER_NAMES);
  const methods: MethodDescription[] = plan.functions.map((fn, i) => {
    const params = uniqueIdentifiers(
      fn.inputs.map((input) => input.name),
      new Set(["count"]),
    );
    return {
      kind: "call",
      name: names[i]!,
      doc: callDoc(fn, params),
      fn: fn.name,
      params: fn.inputs.map((input, j) => ({ name: params[j]!, key: input.name, type: arrayType(input) })),
      returns: arrayType(fn.output),
    };
  });
  let next = plan.functions.length;
  for (const step of plan.training) {
    for (const kind of kinds) {
      methods.push({
        kind,
        name: names[next++]!,
        doc: trainingDocs(step)[kind],
        step: step.name,
        batch: step.inputs.map((input) => ({ key: input.name, type: arrayType(input) })),
      });
    }
  }
  for (const pipeline of plan.pipelines) methods.push({ kind: "pipeline", name: names[next++]!, doc: pipelineDoc(pipeline), pipeline: pipeline.name });
  if (plan.sampling !== null) methods.push(sampleMethod(plan.sampling));
  return methods;
}

/**
 * The class and constant names of a module for `plans`. One model keeps
 * `PLAN`, `PARTS` and `INPUTS`; several take `PLAN_<Class>`, ... . Class names
 * that come out equal (`a-b` and `a_b` are both `AB`) get `_2`, `_3`, ... in
 * order, and no constant takes a class's name.
 */
function moduleNames(plans: readonly ModelPlan[], className: string | undefined): { className: string; planName: string; partsName: string; inputsName: string }[] {
  const classes = uniqueIdentifiers(
    plans.map((p) => classNameFor(p.model, className)),
    MODULE_SCOPE_NAMES,
  );
  if (plans.length === 1) return [{ className: classes[0]!, planName: "PLAN", partsName: "PARTS", inputsName: "INPUTS" }];
  const consts = uniqueIdentifiers(
    classes.flatMap((c) => [`PLAN_${c}`, `PARTS_${c}`, `INPUTS_${c}`]),
    MODULE_SCOPE_NAMES,
    classes,
  );
  return classes.map((c, i) => ({ className: c, planName: consts[3 * i]!, partsName: consts[3 * i + 1]!, inputsName: consts[3 * i + 2]! }));
}

/**
 * Decides everything about the module for one plan or several (see
 * `ModuleDescription`): one class per plan, in order. Throws on no plans, on
 * `className` with several plans, and on a plan whose input names repeat
 * within a function or step.
 */
export function describeModule(plans: ModelPlan | readonly ModelPlan[], options: EmitOptions): ModuleDescription {
  const list: readonly ModelPlan[] = Array.isArray(plans) ? plans : [plans as ModelPlan];
  if (list.length === 0) throw new Error("internal error: a module needs at least one plan");
  if (list.length > 1 && options.className !== undefined) throw new Error("internal error: a class name is for a module of one plan");
  list.forEach(checkInputNames);
  const names = moduleNames(list, options.className);
  const sources = [...new Set(list.map((p) => plainLine(p.source)))];
  return {
    header: `Generated by repr from ${sources.join(", ")} — do not edit.`,
    runtimeImport: options.runtimeImport,
    runtimeTypes: [
      ...(list.some((p) => p.training.length > 0) ? ["FitOptions", "FitResult"] : []),
      ...(list.some((p) => p.pipelines.length > 0) ? ["BackendChoice", "PipelineRunOptions", "RunHistory", "RunState"] : []),
      "ModelOptions",
      "ModelPlan",
      ...(list.some((p) => p.sampling !== null) ? ["SampleOptions"] : []),
      "TensorCopy",
      "Weights",
    ],
    classes: list.map((plan, i) => describeClass(plan, names[i]!)),
  };
}

function describeClass(plan: ModelPlan, names: ReturnType<typeof moduleNames>[number]): ClassDescription {
  const seen = new Set<string>();
  const inputs = [...plan.functions.flatMap((f) => f.inputs), ...plan.training.flatMap((s) => s.inputs)].filter(
    (input) => !seen.has(input.name) && seen.add(input.name),
  );
  const modelDoc = plan.doc !== null ? docLines(plan.doc) : [];
  return {
    ...names,
    planJson: planToJson(plan),
    classDoc: [
      ...(modelDoc.length > 0 ? [...modelDoc, ""] : []),
      `The model ${code(plan.model)}, compiled by repr from ${code(plan.source)}.`,
    ],
    parts: plan.parts.map((p) => ({ name: p.name, role: p.role })),
    inputs,
    partNames: plan.parts.map((p) => p.name),
    headNames: plan.parts.filter((p) => p.role === "head").map((p) => p.name),
    methods: describeMethods(plan),
  };
}
