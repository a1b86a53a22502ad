/**
 * A plan as ONNX models, decided: which graph goes in which file, under what
 * name, with what metadata (`describeOnnx`); `print.ts` only encodes each
 * model to bytes. The graphs are the plan's batch graphs, so every file
 * takes any number of examples: the batch is the symbolic dimension `B`.
 *
 * Files, one `NAME.onnx` per graph:
 * - every function of the model (`encode`, `decode`, `forward`, each head);
 * - with `training`, every training step: the model's own (`train.NAME`)
 *   and each pipeline's (`PIPELINE.N-pretrain`, `PIPELINE.N-adapt`), params
 *   and optimizer state in, `loss` and `new:NAME` out;
 * - with `training`, each pipeline's test steps (`PIPELINE.N-test`).
 * Names are the plan's, made safe for a file system (letters, digits, `_`,
 * `.` and `-`) and unique.
 *
 * Metadata (`metadata_props`) says what a runtime needs besides the graph:
 * `repr.kind` (function, training, test), `repr.model`, `repr.inputs` (the
 * data inputs, JSON), for training `repr.state` (optimizer state, zero at
 * the start), `repr.trainable` and `repr.frozen`, and `repr.draws` (each
 * random draw's input, generator stream, seed and step: spec/random.md).
 * Text from the `.repr` file (doc comments) goes in as protobuf strings,
 * never into code.
 */
import { batchSource, translateGraph, type OnnxModel } from "../../../runtime/backends/onnx/index.js";
import type { BatchGraph } from "../../../runtime/ir/batch-graph.js";
import type { ModelPlan, PlanInput } from "../../../runtime/api/plan.js";

/** One file to write. */
export interface OnnxFile {
  /** File name inside the output folder, `.onnx` included. */
  readonly file: string;
  readonly model: OnnxModel;
}

/** What to put in the folder. */
export interface OnnxEmitOptions {
  /** Also the training and test steps (default: functions only). */
  readonly training?: boolean;
  /** Tensor values to write into the functions as initializers (trained weights); without them, params are inputs. */
  readonly weights?: ReadonlyMap<string, Float32Array | Int32Array>;
}

/** A name made safe for a file system. */
export const safeFileName = (name: string): string => name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_") || "_";

/** Every file of `plan`. */
export function describeOnnx(plan: ModelPlan, options: OnnxEmitOptions = {}): OnnxFile[] {
  const files: OnnxFile[] = [];
  const taken = new Set<string>();
  const add = (name: string, graph: BatchGraph, meta: Record<string, string>, doc: string | null, weights?: OnnxEmitOptions["weights"]): void => {
    let file = `${safeFileName(name)}.onnx`;
    for (let k = 2; taken.has(file.toLowerCase()); k++) file = `${safeFileName(name)}-${k}.onnx`;
    taken.add(file.toLowerCase());
    const metadata = { "repr.model": plan.model, "repr.name": name, ...meta };
    const { model } = translateGraph(batchSource(graph), { name: safeFileName(name), doc: doc ?? "", metadata, ...(weights ? { weights } : {}) });
    files.push({ file, model });
  };
  const inputs = (list: readonly PlanInput[]): string => JSON.stringify(list);
  for (const f of plan.functions) add(f.name, f.graph, { "repr.kind": "function", "repr.inputs": inputs(f.inputs) }, f.doc, options.weights);
  if (options.training) {
    for (const t of plan.training) {
      add(`train.${t.name}`, t.graph, { "repr.kind": "training", ...trainingMeta(t) }, t.doc);
    }
    for (const p of plan.pipelines) {
      p.steps.forEach((s, i) => {
        const name = `${p.name}.${i + 1}-${s.kind}`;
        if (s.kind === "pretrain" || s.kind === "adapt") add(name, s.training.graph, { "repr.kind": "training", ...trainingMeta(s.training) }, s.training.doc);
        if (s.kind === "test") add(name, s.graph, { "repr.kind": "test", "repr.inputs": inputs(s.inputs) }, null);
      });
    }
  }
  return files;
}

function trainingMeta(t: ModelPlan["training"][number]): Record<string, string> {
  return {
    "repr.inputs": JSON.stringify(t.inputs),
    "repr.state": JSON.stringify(t.state),
    "repr.trainable": JSON.stringify(t.trainable),
    "repr.frozen": JSON.stringify(t.frozen),
    "repr.batch": String(t.batch),
  };
}
