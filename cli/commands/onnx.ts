/**
 * `repr compile FILE --target onnx -o DIR`: every function of each model as
 * an ONNX file (opset 17, the batch a symbolic dimension `B`), and with
 * `--training` every training and test step too (compiler/emit/onnx/).
 * One model's files go in DIR itself, several models' each in a subfolder
 * named after the model. `--weights CHECKPOINT` writes a trained model's
 * tensors into its functions as constants, so that a server needs the file
 * alone; without it, every tensor is an input.
 */
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describeOnnx, printOnnx, safeFileName } from "../../compiler/emit/onnx/index.js";
import { messages } from "../../language/diagnostics/messages.js";
import type { ModelPlan } from "../../runtime/api/plan.js";
import { loadProtobuf, OnnxExportError, type ProtobufLight } from "../../runtime/backends/onnx/index.js";
import { CheckpointError, readCheckpoint } from "../../runtime/checkpoint/index.js";
import { ExitCode, UserError } from "../errors.js";
import { writeFileAtomic } from "../files.js";
import { fromCheckpointTensor } from "../train/params.js";
import { VERSION } from "../version.js";

/** What `--target onnx` reads of `repr compile`'s options. */
export interface OnnxTargetOptions {
  /** Also the training and test steps. */
  readonly training?: boolean;
  /** A checkpoint whose tensors the functions carry as constants. */
  readonly weights?: string;
}

let protobuf: ProtobufLight | undefined;

/** Loads what writing ONNX needs (protobufjs), before anything is written: a missing package stops the command with nothing half done. */
export async function loadOnnxPackages(): Promise<void> {
  protobuf ??= await loadProtobuf();
}

/** The tensors of `--weights`, checked against the model's. */
async function readWeights(path: string, plan: ModelPlan): Promise<Map<string, Float32Array | Int32Array>> {
  let tensors;
  try {
    tensors = (await readCheckpoint(path)).tensors;
  } catch (err) {
    if (err instanceof CheckpointError) throw UserError.from(messages.badCheckpoint, { problem: err.message });
    throw err;
  }
  const out = new Map<string, Float32Array | Int32Array>();
  for (const t of plan.tensors) {
    const given = tensors.get(t.name);
    if (given === undefined) throw UserError.from(messages.badCheckpoint, { problem: `--weights ${path}: the model's tensor '${t.name}' is not in it` });
    const converted = fromCheckpointTensor(given, { shape: t.shape, dtype: t.dtype });
    if (typeof converted === "string") throw UserError.from(messages.badCheckpoint, { problem: `--weights ${path}: tensor '${t.name}' ${converted}` });
    out.set(t.name, converted.data);
  }
  return out;
}

/** Writes every plan's ONNX files under `output`; says what it wrote. */
export async function writeOnnx(file: string, output: string, plans: readonly ModelPlan[], options: OnnxTargetOptions): Promise<number> {
  try {
    if (!statSync(output).isDirectory()) throw new UserError(`-o/--output must name a folder for --target onnx, but '${output}' is a file`);
  } catch (err) {
    if (err instanceof UserError) throw err;
  }
  const written: string[] = [];
  for (const plan of plans) {
    const folder = plans.length === 1 ? output : join(output, safeFileName(plan.model));
    const weights = options.weights !== undefined ? await readWeights(options.weights, plan) : undefined;
    let files;
    try {
      files = describeOnnx(plan, { training: options.training === true, ...(weights ? { weights } : {}) });
    } catch (err) {
      if (err instanceof OnnxExportError) throw new UserError(`${file}: ${err.message}`);
      throw err;
    }
    mkdirSync(folder, { recursive: true });
    for (const [name, bytes] of printOnnx(protobuf!, files, VERSION)) {
      writeFileAtomic(join(folder, name), bytes);
      written.push(join(folder, name));
    }
    process.stdout.write(`compiled model ${plan.model} from ${file} to ONNX (opset 17, batch dimension B): ${files.map((f) => f.file).join(", ")}\n`);
  }
  process.stdout.write(`wrote ${written.length} files in ${output}/\n`);
  return ExitCode.ok;
}
