/**
 * `repr compile FILE --target pytorch -o DIR`: the models as a PyTorch
 * module (`model.py`, one nn.Module class per model whose state_dict keys are
 * repr's tensor names), its helpers (`repr_runtime.py`) and a training script
 * per pipeline (`train_PIPELINE.py`, which runs under torchrun too), from
 * compiler/emit/pytorch/.
 */
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describePytorch, printPytorch, PytorchExportError } from "../../compiler/emit/pytorch/index.js";
import type { ModelPlan } from "../../runtime/api/plan.js";
import { ExitCode, UserError } from "../errors.js";
import { writeFileAtomic } from "../files.js";

/** Writes the PyTorch folder for `plans`; says what it wrote. */
export function writePytorch(file: string, output: string, plans: readonly ModelPlan[]): Promise<number> {
  try {
    if (!statSync(output).isDirectory()) throw new UserError(`-o/--output must name a folder for --target pytorch, but '${output}' is a file`);
  } catch (err) {
    if (err instanceof UserError) throw err;
  }
  let module;
  try {
    module = describePytorch(plans);
  } catch (err) {
    if (err instanceof PytorchExportError) throw new UserError(`${file}: ${err.message}`);
    throw err;
  }
  mkdirSync(output, { recursive: true });
  const files = printPytorch(module);
  for (const [name, text] of files) writeFileAtomic(join(output, name), text);
  for (const c of module.classes) process.stdout.write(`compiled model ${c.name} from ${file} to PyTorch\n`);
  process.stdout.write(`wrote ${files.map(([n]) => n).join(", ")} in ${output}/\n`);
  return Promise.resolve(ExitCode.ok);
}
