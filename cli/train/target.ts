/**
 * What a `repr train` or `repr test` run works on: the checked program and
 * one pipeline of it — the one named by `--pipeline`, the file's first, or,
 * for `--model M`, a pipeline made for it: pretrain M on the first data
 * declaration that provides its inputs, then test on that data's test split.
 */
import { isTargetProblem, resolveMetricTarget } from "../../compiler/check/metric-targets.js";
import { DEFAULT_STEP_SETTINGS } from "../../compiler/check/settings.js";
import { readFileSync } from "node:fs";
import { Source } from "../../language/source.js";
import { hasErrors } from "../../language/diagnostics/diagnostic.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import { projectFileHost } from "../../compiler/check/file-host.js";
import { labelField } from "../../compiler/check/data.js";
import type { CheckedData, CheckedModel, CheckedPipeline, CheckedProgram, StepSettings } from "../../compiler/check/program.js";
import { formatType, sameType } from "../../compiler/check/types.js";
import { DEFAULT_MEMORY_LIMIT, estimateMemory, memoryDiagnostic, pipelineUses, type MemoryEstimate, type MemoryLimit } from "../../compiler/check/memory.js";
import { readTextFile } from "../files.js";
import { UserError } from "../errors.js";

/**
 * A checked program, or null after its diagnostics were printed.
 * `allowImportOutside` lifts the project-folder rule of imports; `maxMemory`
 * is the limit the model's estimated memory is checked against.
 */
export function loadProgram(
  file: string,
  options: { readonly allowImportOutside?: boolean; readonly maxMemory?: MemoryLimit } = {},
): { program: CheckedProgram; texts: string[] } | null {
  const source = new Source(file, readTextFile(file));
  const host = projectFileHost(file, { allowOutside: options.allowImportOutside ?? false });
  const { program, diagnostics } = checkProgram(source, host, { maxMemory: options.maxMemory ?? DEFAULT_MEMORY_LIMIT });
  if (diagnostics.length > 0) process.stderr.write(renderDiagnostics(diagnostics) + "\n\n");
  if (hasErrors(diagnostics)) return null;
  // The texts of every file the program read: the run's fingerprint covers imports too.
  const texts = program.files.map((f) => {
    try {
      return readFileSync(f, "utf8");
    } catch {
      return f;
    }
  });
  return { program, texts };
}


/**
 * Refuses a run whose model would need more memory than the limit, with the
 * run's own batch (`--batch`) and steps, before anything is allocated
 * (RC535, printed). The checker already refused the program's own uses;
 * this covers what the command line changes. True when the run may go on.
 */
export function fitsMemory(program: CheckedProgram, pipeline: CheckedPipeline, batch: number | null, limit: MemoryLimit): boolean {
  const model = program.models.find((m) => m.name === pipeline.model);
  if (!model) return true;
  let worst: MemoryEstimate | null = null;
  for (const use of pipelineUses(pipeline, batch)) {
    const e = estimateMemory(model, use);
    if (!worst || e.total > worst.total) worst = e;
  }
  const d = worst && memoryDiagnostic(model, worst, limit);
  if (!d || d.severity !== "error") return true;
  process.stderr.write(renderDiagnostics([d]) + "\n\n");
  return false;
}

/** The pipeline a run follows, and the program that holds it. */
export function chooseTarget(program: CheckedProgram, file: string, options: { pipeline: string | null; model: string | null }): { program: CheckedProgram; pipeline: CheckedPipeline } {
  if (options.model !== null) return modelPipeline(program, file, options.model);
  if (options.pipeline !== null) {
    const pipeline = program.pipelines.find((p) => p.name === options.pipeline);
    if (!pipeline) throw new UserError(`${file} has no pipeline '${options.pipeline}' (pipelines: ${program.pipelines.map((p) => p.name).join(", ") || "none"})`);
    return { program, pipeline };
  }
  const first = program.pipelines[0];
  if (first) return { program, pipeline: first };
  const model = program.models[0];
  if (!model) throw new UserError(`${file} declares no model and no pipeline to train`);
  return modelPipeline(program, file, model.name);
}

/** `pretrain M on D.train`, then `test on D.test`, for the first data D that provides M's inputs. */
function modelPipeline(program: CheckedProgram, file: string, name: string): { program: CheckedProgram; pipeline: CheckedPipeline } {
  const model = program.models.find((m) => m.name === name);
  if (!model) throw new UserError(`${file} has no model '${name}' (models: ${program.models.map((m) => m.name).join(", ") || "none"})`);
  const data = program.data.find((d) => provides(d.fields, model));
  if (!data) {
    const types = model.inputs.map((i) => `${i.name}: ${formatType(i.type)}`).join(", ");
    throw new UserError(`${file}: no data declaration provides every input of model '${name}' with its type (${types}); declare one, or train it in a pipeline, where a step may select labels`);
  }
  const labels = labelField(data);
  const classes = labels?.type.classes ?? null;
  const ref = { data: data.name, perClass: null, labels: null, classes };
  const metrics = [
    // Accuracy where the prediction is one score per class of the data's labels (spec/pipelines.md, "Metrics").
    ...(model.prediction && labels && model.prediction.type.shape.join() === String(classes) ? [{ name: "accuracy", args: {} }] : []),
    // The mse of the prediction where it has a target of its own shape (an autoencoder's image).
    ...(model.prediction && !isTargetProblem(resolveMetricTarget(model, model.prediction.type, { name: "mse", args: {} }, labels)) ? [{ name: "mse", args: {} }] : []),
  ];
  const location = model.location;
  const pipeline: CheckedPipeline = {
    name: `train ${name}`,
    doc: null,
    model: name,
    steps: [
      // As the checker resolves a step that names no objective: every loss of the model.
      { kind: "pretrain", model: name, data: { ...ref, split: "train" }, settings: { ...DEFAULT_STEP_SETTINGS, objectives: model.losses.map((l) => l.name) }, trainable: model.parts.map((p) => p.name), location },
      { kind: "test", data: { ...ref, split: "test" }, settings: { ...DEFAULT_STEP_SETTINGS, metrics }, location },
    ],
    location,
  };
  return { program: { ...program, pipelines: [...program.pipelines, pipeline] }, pipeline };
}

/** Whether data fields provide every input of the model, by name and type. */
function provides(fields: CheckedData["fields"], model: CheckedModel): boolean {
  return model.inputs.every((i) => {
    const f = fields.find((x) => x.name === i.name);
    if (!f) return false;
    // Without a pipeline's checks (RC515), a label field must have exactly the model's classes.
    return sameType(f.type, i.type);
  });
}
