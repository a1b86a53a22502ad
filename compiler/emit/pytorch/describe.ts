/**
 * A plan as a PyTorch module, decided (`describePytorch`): the class, its
 * tensors, every method's name, parameters and body, and each pipeline's
 * script; `print.ts` only lays the decided lines out.
 *
 * Per model, one `nn.Module` subclass:
 * - its tensors registered under their repr names, dots nesting submodules
 *   (`f.1.weight` is `self.f[1].weight`'s key), so `state_dict()` keys are the
 *   safetensors names repr writes (spec/checkpoints.md); tensors some step
 *   trains are parameters, the others (running statistics, integers) buffers;
 * - `reset_parameters(seed)`: the plan's initialization graph, so a module
 *   starts from the numbers repr starts from;
 * - one method per function (`encode`, `decode`, `forward`, each head), its
 *   parameters the function's inputs;
 * - `loss_STEP(inputs, seed, step, updates, offset)` per training step: the
 *   part of the step's graph that computes the loss (forward, masks, views,
 *   bottleneck terms, objectives), returning the loss and the new running
 *   statistics; PyTorch's autograd takes the gradients, and `STEPS[name]`
 *   describes the update (runtime-py.ts's `Update`);
 * - `evaluate_STEP(inputs, seed, step)` per test step: every output of the
 *   test graph; `replace_STEP(seed)` per replace step: the new head's tensors.
 * Per pipeline, a script `train_PIPELINE.py` that runs its steps in order
 * (`run_pipeline` in repr_runtime.py), under torchrun too.
 *
 * Names: methods are Python identifiers made from the plan's names (other
 * characters `_`, never a keyword or an nn.Module member, unique); every
 * other text (tensor, input, step names, docs) is a string literal
 * (python.ts), so nothing in a `.repr` file becomes code.
 */
import { batchSource, kernelSource, type SourceGraph, type SourceNode } from "../../../runtime/backends/onnx/index.js";
import { isBatchPoly } from "../../../runtime/ir/batch-graph.js";
import type { ModelPlan, PlanDataRef, PlanTensor, PlanTraining } from "../../../runtime/api/plan.js";
import { pyFloat, pyIdentifier, pyInt, pyString, stateDictProblem, uniqueIdentifiers } from "./python.js";
import { PytorchExportError, translateTorch } from "./translate.js";

export { PytorchExportError };

/** A method: its name, parameter list, doc and body lines. */
export interface PyMethod {
  readonly name: string;
  readonly params: readonly string[];
  readonly doc: string | null;
  readonly body: readonly string[];
}

/** The class of one model. */
export interface PyClass {
  readonly name: string;
  readonly doc: string | null;
  /** `TENSORS`: each tensor's name, shape, dtype and whether it is a parameter. */
  readonly tensors: readonly string[];
  /** `STEPS` and `PIPELINES` as Python literals. */
  readonly steps: string;
  readonly pipelines: string;
  readonly methods: readonly PyMethod[];
}

/** A pipeline's script. */
export interface PyScript {
  readonly file: string;
  readonly className: string;
  readonly pipeline: string;
}

/** The whole target folder. */
export interface PyModule {
  readonly classes: readonly PyClass[];
  readonly scripts: readonly PyScript[];
}

/** A JSON value as a Python literal. */
export function pyValue(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return Number.isSafeInteger(v) ? pyInt(v) : pyFloat(v);
  if (typeof v === "string") return pyString(v);
  if (Array.isArray(v)) return `[${v.map(pyValue).join(", ")}]`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyString(k)}: ${pyValue(x)}`).join(", ")}}`;
}

/** The line that sets B from the first input whose dim is c0 + c1·B, if any. */
function batchLine(source: SourceGraph, expr: (n: SourceNode) => string): string[] {
  for (const n of source.nodes) {
    if (n.op !== "input") continue;
    const k = n.shape.findIndex((d) => isBatchPoly(d) && d.B.length === 2);
    if (k < 0) continue;
    const [c0, c1] = (n.shape[k] as { B: number[] }).B as [number, number];
    return [`B = (torch.as_tensor(${expr(n)}).shape[${k}] - ${c0}) // ${c1}`];
  }
  return [];
}

/**
 * A graph's body for the chosen outputs, with its prelude (dtype, tensors,
 * B). Initialization computes in float64 and rounds once, as repr does (its
 * reference backend computes every initial tensor).
 */
function body(source: SourceGraph, outputs: readonly string[], input: (name: string, n: SourceNode) => string, init = false): { lines: string[]; outputs: ReadonlyMap<string, string> } {
  const leaf = (n: SourceNode): string => (n.op === "param" ? `T[${pyString(n.attrs["name"] as string)}]` : input(n.attrs["name"] as string, n));
  const t = translateTorch(source, outputs, leaf);
  const prelude = [init ? "F = torch.float64" : "F = R.float_dtype(self)", "T = R.tensors(self)"];
  return { lines: [...prelude, ...(t.usesBatch ? batchLine(source, (n) => input(n.attrs["name"] as string, n)) : []), ...t.lines], outputs: t.outputs };
}

/** An input read from `inputs[name]` (or a keyword argument for the counters). */
function stepInput(counters: ReadonlyMap<string, string>): (name: string, n: SourceNode) => string {
  return (name, n) => {
    const counter = counters.get(name);
    if (counter !== undefined) return `R.i(${counter})`;
    return n.dtype === "f32" ? `R.f(inputs[${pyString(name)}], F)` : `R.i(inputs[${pyString(name)}])`;
  };
}

/** Describes one plan's class. */
function describeClass(plan: ModelPlan, className: string): PyClass {
  const methods: PyMethod[] = [];
  // Submodules are attributes too: a method must not take a part's name (`W`).
  const allTensors = [...plan.tensors, ...plan.pipelines.flatMap((p) => p.steps.flatMap((s) => (s.kind === "replace" ? s.head.tensors : [])))];
  for (const t of allTensors) {
    const problem = stateDictProblem(t.name);
    if (problem !== null) throw new PytorchExportError(`model ${JSON.stringify(plan.model)}: ${problem}, so PyTorch cannot hold it under its repr name`);
  }
  const taken = new Set<string>(["TENSORS", "STEPS", "PIPELINES", ...allTensors.map((t) => t.name.split(".")[0]!)]);
  const method = (base: string): string => {
    const id = uniqueIdentifiers([base], taken)[0]!;
    taken.add(id);
    return id;
  };
  const register = (name: string): void => void taken.add(name);

  // Which tensors some step trains: those are parameters.
  const trainings: { key: string; t: PlanTraining }[] = plan.training.map((t) => ({ key: t.name, t }));
  for (const p of plan.pipelines) p.steps.forEach((s, i) => (s.kind === "pretrain" || s.kind === "adapt") && trainings.push({ key: `${p.name}.${i + 1}-${s.kind}`, t: s.training }));
  const trained = new Set(trainings.flatMap(({ t }) => t.optimizer?.params.map((p) => p.name) ?? []));
  const tensorLine = (t: PlanTensor): string => `(${pyString(t.name)}, (${t.shape.map(pyInt).join(", ")}${t.shape.length === 1 ? "," : ""}), ${pyString(t.dtype)}, ${t.dtype === "f32" && trained.has(t.name) ? "True" : "False"})`;

  // reset_parameters: the initialization graph.
  register("reset_parameters");
  const init = kernelSource(plan.init);
  const initBody = body(init, plan.tensors.map((t) => t.name).filter((n) => init.outputs.some((o) => o.name === n)), () => "R.i(seed)", true);
  methods.push({
    name: "reset_parameters",
    params: ["seed=0"],
    doc: "Every tensor's initial value for `seed`, as repr computes it (its initialization graph).",
    body: [...initBody.lines, "with torch.no_grad():", ...[...initBody.outputs].map(([name, e]) => `    T[${pyString(name)}].copy_(${e})`)],
  });

  // Functions.
  for (const f of plan.functions) {
    const name = method(f.name);
    const args = uniqueIdentifiers(f.inputs.map((i) => i.name), ["self", "F", "T", "B", "R", "I", "torch", "offset", "inputs"], new Set());
    const argOf = new Map(f.inputs.map((i, k) => [i.name, args[k]!]));
    const source = batchSource(f.graph);
    const b = body(source, ["output"], (n, node) => (node.dtype === "f32" ? `R.f(${argOf.get(n) ?? "None"}, F)` : `R.i(${argOf.get(n) ?? "None"})`));
    methods.push({ name, params: [...args, "offset=0"], doc: f.doc, body: [...b.lines, `return ${b.outputs.get("output")!}`] });
  }

  // Training steps: the loss and the running statistics.
  const steps: Record<string, unknown> = {};
  for (const { key, t } of trainings) {
    const name = method(`loss_${key}`);
    const source = batchSource(t.graph);
    const optimized = new Set([...(t.optimizer?.params.map((p) => p.name) ?? []), ...t.state.map((s) => s.name)]);
    const stats = source.outputs.filter((o) => o.name.startsWith("new:") && !optimized.has(o.name.slice(4))).map((o) => o.name);
    const counters = new Map([["seed", "seed"], ["step", "step"], ...(t.updatesInput !== null ? [[t.updatesInput, "updates"] as const] : [])]);
    const b = body(source, ["loss", ...stats], stepInput(counters));
    methods.push({
      name,
      params: ["inputs", "seed=0", "step=0", "updates=1", "offset=0"],
      doc: `Training step ${JSON.stringify(key)}: the loss of one batch (inputs by name) and the new values of the running statistics it updates.`,
      body: [...b.lines, `return ${b.outputs.get("loss")!}, {${stats.map((s) => `${pyString(s.slice(4))}: ${b.outputs.get(s)!}.detach()`).join(", ")}}`],
    });
    steps[key] = { method: name, inputs: t.inputs, batch: t.batch, updates: t.updates, epochs: t.epochs, noise: t.noise, updatesInput: t.updatesInput, optimizer: t.optimizer ?? null, trainable: t.trainable, frozen: t.frozen };
  }

  // A step's data, with the label field its selection reads.
  const dataRef = (ref: PlanDataRef): Record<string, unknown> => ({ ...ref, labelField: plan.data.find((d) => d.name === ref.data)?.fields.find((f) => f.kind === "label")?.name ?? null });

  // Pipelines: test and replace steps.
  const pipelines: Record<string, unknown[]> = {};
  for (const p of plan.pipelines) {
    pipelines[p.name] = p.steps.map((s, i) => {
      const key = `${p.name}.${i + 1}-${s.kind}`;
      switch (s.kind) {
        case "pretrain":
        case "adapt":
          return { kind: s.kind, step: key, data: dataRef(s.data), seed: s.seed };
        case "freeze":
        case "unfreeze":
          return { kind: s.kind, parts: s.parts };
        case "replace": {
          const name = method(`replace_${key}`);
          const init = kernelSource(s.head.init);
          const b = body(init, s.head.tensors.map((t) => t.name).filter((n) => init.outputs.some((o) => o.name === n)), () => "R.i(seed)", true);
          methods.push({
            name,
            params: ["seed=0"],
            doc: `Replaces ${JSON.stringify(s.part)} with a new head of its own shape (step ${JSON.stringify(key)}).`,
            body: [...s.head.tensors.map((t) => `R.register(self, ${tensorLine(t).slice(1, -1)})`), ...b.lines, "with torch.no_grad():", ...[...b.outputs].map(([n, e]) => `    T[${pyString(n)}].copy_(${e})`)],
          });
          return { kind: "replace", part: s.part, method: name };
        }
        case "test": {
          const name = method(`evaluate_${key}`);
          const source = batchSource(s.graph);
          const b = body(source, source.outputs.map((o) => o.name), stepInput(new Map([["seed", "seed"], ["step", "step"]])));
          methods.push({
            name,
            params: ["inputs", "seed=0", "step=0", "offset=0"],
            doc: `Test step ${JSON.stringify(key)}: every output of its graph for one batch (losses, predictions, pictures).`,
            body: [...b.lines, `return {${[...b.outputs].map(([n, e]) => `${pyString(n)}: ${e}`).join(", ")}}`],
          });
          return { kind: "test", method: name, data: dataRef(s.data), seed: s.seed, batch: s.batch, inputs: s.inputs, metrics: s.metrics, label: s.label, noise: s.noise };
        }
      }
    });
  }
  return { name: className, doc: plan.doc, tensors: plan.tensors.map(tensorLine), steps: pyValue(steps), pipelines: pyValue(pipelines), methods };
}

/** Every class and script of `plans`. */
export function describePytorch(plans: readonly ModelPlan[]): PyModule {
  const classNames = uniqueIdentifiers(plans.map((p) => p.model), [], new Set(["Module", "R", "nn", "torch", "TENSORS"]));
  const classes = plans.map((p, k) => describeClass(p, classNames[k]!));
  const files = new Set<string>();
  const scripts: PyScript[] = [];
  plans.forEach((p, k) =>
    p.pipelines.forEach((pl) => {
      let file = `train_${pyIdentifier(pl.name, new Set())}.py`;
      for (let n = 2; files.has(file.toLowerCase()); n++) file = `train_${pyIdentifier(pl.name, new Set())}_${n}.py`;
      files.add(file.toLowerCase());
      scripts.push({ file, className: classNames[k]!, pipeline: pl.name });
    }),
  );
  return { classes, scripts };
}
