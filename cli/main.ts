#!/usr/bin/env node
import { Command, CommanderError } from "commander";
// The CPU backend's worker threads (worker_threads): the CLI runs in Node, as the Node entry does.
import "../runtime/backends/cpu/node-threads.js";
import { checkCommand } from "./commands/check.js";
import { fmtCommand } from "./commands/fmt.js";
import { graphCommand } from "./commands/graph.js";
import { benchCommand, type RawBenchOptions } from "./commands/bench.js";
import { trainCommand } from "./commands/train.js";
import { testCommand } from "./commands/test.js";
import { compileCommand, type CompileOptions } from "./commands/compile.js";
import { sampleCommand, type RawSampleOptions } from "./commands/sample.js";
import { lspCommand } from "./commands/lsp.js";
import type { RawTrainOptions } from "./train/options.js";
import { VERSION } from "./version.js";
import { MAX_MEMORY_HELP } from "./memory-option.js";
import { ExitCode, UserError } from "./errors.js";
import { MissingPackageError } from "../runtime/optional-packages.js";
import { guardOutputStreams } from "./streams.js";
import { messages } from "../language/diagnostics/messages.js";

// A closed pipe (`repr check | head -1`) ends repr quietly, never with a stack trace.
guardOutputStreams();

/** System calls that write, and errors only writing gives; such a failure is "cannot write", any other "cannot read". */
const WRITES = new Set(["write", "rename", "mkdir", "unlink", "rmdir", "copyfile", "link", "symlink", "fsync", "ftruncate"]);
const WRITE_ERRORS = new Set(["ENOSPC", "EROFS", "EDQUOT", "EFBIG"]);

/**
 * A file-system failure that reached the top (a full disk, a read-only or
 * vanished folder) as a user error naming the path: the machine refused, repr
 * did not break. Other errors are not file-system failures: null.
 */
function fileSystemError(err: unknown): UserError | null {
  const e = err as NodeJS.ErrnoException | null;
  if (!(err instanceof Error) || typeof e?.code !== "string" || typeof e.syscall !== "string") return null;
  const path = e.path ?? "a file";
  const reason = e.code === "ENOSPC" ? "no space left on the device" : e.code === "EROFS" ? "the file system is read-only" : err.message;
  const writing = WRITES.has(e.syscall) || WRITE_ERRORS.has(e.code);
  return UserError.from(writing ? messages.cannotWrite : messages.cannotRead, { path, reason });
}

/** Runs a command, mapping outcomes to repr's exit codes; never shows a stack trace to a user. */
async function run(action: () => number | Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (err) {
    // A feature's optional package that is not installed: the message names the command that installs it.
    const user = err instanceof UserError ? err : err instanceof MissingPackageError ? new UserError(err.message) : fileSystemError(err);
    if (user !== null) {
      process.stderr.write(`repr: error${user.code ? ` ${user.code}` : ""}: ${user.message}\n`);
      process.exitCode = ExitCode.userError;
      return;
    }
    const detail = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `repr: internal error: ${detail}\n` +
        "This is a bug in repr, not in your program. Set REPR_DEBUG=1 to see the stack trace.\n",
    );
    if (process.env.REPR_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + "\n");
    process.exitCode = ExitCode.internalError;
  }
}

const ALLOW_IMPORT_OUTSIDE = "let imports lead outside the project folder (the nearest folder with a package.json above the file, else the file's own folder); see spec/names.md";

const program = new Command()
  .name("repr")
  .description("Check, format, compile and train representation-learning models written in .repr")
  .version(VERSION)
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

program
  .command("check")
  .description("parse, resolve names and check shapes of .repr files")
  .argument("<files...>", ".repr files to check")
  .option("--shapes", "print each model's inferred shapes and parameter counts")
  .option("--json", "print diagnostics as JSON on stdout")
  .option("--max-memory <size>", MAX_MEMORY_HELP)
  .option("--allow-import-outside", ALLOW_IMPORT_OUTSIDE)
  .action((files: string[], options: { shapes?: boolean; json?: boolean; maxMemory?: string; allowImportOutside?: boolean }) =>
    run(() => checkCommand(files, options)),
  );

program
  .command("fmt")
  .description("rewrite .repr files in canonical layout")
  .argument("<files...>", ".repr files to format")
  .option("--check", "change nothing; list files that would change and exit 1 if any")
  .action((files: string[], options: { check?: boolean }) => run(() => fmtCommand(files, options)));

program
  .command("lsp")
  .description("run the language server (for editors: diagnostics, hover, completion, navigation, formatting) on stdin and stdout")
  .option("--stdio", "talk over stdin and stdout (the default and only transport)")
  .action(() => run(lspCommand));

program
  .command("graph")
  .description("print the tensor IR of a model's forward pass, or of one step of a pipeline")
  .argument("<file>", "a .repr file")
  .option("--model <name>", "the model to lower (default: the first in the file)")
  .option("--batch <n>", "examples per batch (default: 32)")
  .option("--mode <mode>", "train or eval: the mode of dropout, batch norm and noise (default: train)")
  .option("--format <format>", "text, or dot for Graphviz (default: text)")
  .option("--pipeline <name>", "lower a step of this pipeline instead: a training step with gradients and updates")
  .option("--step <n>", "the pipeline step to lower, counted from 1 (default: 1)")
  .option("--train", "print the model's training step (every loss, default optimizer) instead of its forward pass")
  .option("--kernels", "print the fused kernel graph every backend runs instead: its kernels, the ops inside each, their buffers and the peak bytes")
  .option("--no-fuse", "with --kernels: one kernel per primitive, as planned without fusion (for comparison)")
  .option("--for <backend>", "with --kernels: all (the kernels every backend shares), webgpu or cpu (attention joined into attention kernels, as those backends run it) (default: all)")
  .option("--allow-import-outside", ALLOW_IMPORT_OUTSIDE)
  .action((file: string, options: { model?: string; batch?: string; mode?: string; format?: string; pipeline?: string; step?: string; train?: boolean; kernels?: boolean; fuse?: boolean; for?: string; allowImportOutside?: boolean }) =>
    run(() => graphCommand(file, options)),
  );

program
  .command("bench")
  .description("time a model on this machine: each training step (steps/s) and each function (examples/s), with the peak memory each adds and its planned arena")
  .argument("<file>", "a .repr file")
  .option("--model <name>", "bench only this model (default: every model of the file)")
  .option("--backend <name>", "auto, webgpu, cpu, onnx or reference, as for repr train (default: auto)")
  .option("--batch <n>", "examples per batch for every workload (default: each training step's own batch; functions at the model's first training batch, else 32)")
  .option("--seconds <s>", "how long to time each workload, after a warm-up (default: 2)")
  .option("--only <names>", "only these training steps or functions, separated by commas (e.g. train,encode)")
  .option("--json", "print the results as JSON")
  .option("--max-memory <size>", MAX_MEMORY_HELP)
  .option("--allow-import-outside", ALLOW_IMPORT_OUTSIDE)
  .action((file: string, options: RawBenchOptions) => run(() => benchCommand(file, options)));

/** Collects a repeatable option's values. */
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const DATA_HELP = `bind a data declaration to a source: NAME=SOURCE or NAME.FIELD=SOURCE (repeatable).
SOURCE is 'mnist' (the digits embedded in the mnist package, the default for MNIST-shaped data),
a folder of IDX files (train-images-idx3-ubyte[.gz] ...), a folder of PNG images (class
subfolders 0/, 1/, ... give labels; train/ and test/ give splits), a .npy or .csv file, or a
UTF-8 text file (character or word tokens, by the data's fields). See spec/data.md`;

program
  .command("train")
  .description("train a pipeline (pretrain, freeze, replace, adapt, test) or a model's objective on real data")
  .argument("<file>", "a .repr file")
  .option("--pipeline <name>", "the pipeline to run (default: the first in the file)")
  .option("--model <name>", "train this model's losses on the first data declaration that provides its inputs, then test")
  .option("--data <binding>", DATA_HELP, collect)
  .option("--backend <name>", "auto (WebGPU on a GPU, else ONNX Runtime where installed, else the CPU), webgpu, cpu, onnx (ONNX Runtime's native kernels; needs onnxruntime-node), or reference (float64, slow; for checking) (default: auto)")
  .option("--seed <n>", "the seed of every step, instead of their own seed settings")
  .option("--steps <n>", "updates per training step, instead of their settings")
  .option("--epochs <n>", "passes over the data per training step, instead of their settings")
  .option("--batch <n>", "examples per batch for every step, instead of their settings")
  .option("--limit <n>", "use only the first n examples of every split (a quick trial run)")
  .option("--out <dir>", "where checkpoints, metrics.json and pictures go (default: runs/latest)")
  .option("--resume", "continue the run stopped in --out (after Ctrl-C, SIGTERM or a crash) exactly where it stopped")
  .option("--init <weights.safetensors>", "start from these weights (all or some of the model's tensors, by name)")
  .option("--start-at <step>", "start the pipeline at this step (counted from 1), e.g. adapt with --init weights")
  .option("--checkpoint-every <seconds>", "write a resume checkpoint this often while training (default: 60; 0: after every update)")
  .option("--plain", "plain log lines instead of a progress bar (the default when output is not a terminal)")
  .option("--max-memory <size>", MAX_MEMORY_HELP)
  .option("--allow-import-outside", ALLOW_IMPORT_OUTSIDE)
  .action((file: string, options: RawTrainOptions) => run(() => trainCommand(file, options)));

program
  .command("test")
  .alias("eval")
  .description("evaluate trained weights: the test steps of a pipeline, or a model's losses on its test data")
  .argument("<file>", "a .repr file")
  .requiredOption("--weights <file>", "a checkpoint written by repr train (.safetensors)")
  .option("--pipeline <name>", "the pipeline whose test steps to run (default: the first in the file)")
  .option("--model <name>", "evaluate this model's losses on the test split of the first data that provides its inputs")
  .option("--data <binding>", DATA_HELP, collect)
  .option("--backend <name>", "auto, webgpu, cpu, onnx or reference (default: auto)")
  .option("--batch <n>", "examples per batch")
  .option("--limit <n>", "use only the first n examples of the split")
  .option("--json", "print the results as JSON")
  .option("--max-memory <size>", MAX_MEMORY_HELP)
  .option("--allow-import-outside", ALLOW_IMPORT_OUTSIDE)
  .action((file: string, options: RawTrainOptions & { weights: string; json?: boolean }) => run(() => testCommand(file, options)));

program
  .command("sample")
  .description("sample from trained weights: continue a prompt with a language model, or decode draws from a variational model's prior")
  .argument("<file>", "a .repr file")
  .requiredOption("--weights <file>", "a checkpoint written by repr train (.safetensors)")
  .option("--model <name>", "the model to sample (default: the first pipeline's, else the first in the file)")
  .option("--count <n>", "how many samples (default: 1)")
  .option("--tokens <n>", "a language model: how many tokens to add (default: its window less one)")
  .option("--temperature <t>", "scores are divided by it before the softmax; 0 takes the most likely token (default: 1). The prior: its standard deviation")
  .option("--top-k <k>", "a language model: draw among the k most likely tokens only; 0 keeps all (default: 0)")
  .option("--seed <n>", "the generator's seed: the same seed gives the same samples (default: 0)")
  .option("--prompt <text>", "a language model: the text to continue, read with the run's vocabulary")
  .option("--prompt-ids <ids>", "a language model: the token ids to continue, separated by commas")
  .option("--vocabulary <file>", "the vocabulary to read and print text with (default: vocabulary.json beside the weights)")
  .option("--out <file.png>", "the prior: write the decoded samples as a PNG grid")
  .option("--backend <name>", "auto, webgpu, cpu or reference (default: auto)")
  .option("--json", "print the samples as JSON")
  .option("--max-memory <size>", MAX_MEMORY_HELP)
  .option("--allow-import-outside", ALLOW_IMPORT_OUTSIDE)
  .action((file: string, options: RawSampleOptions) => run(() => sampleCommand(file, options)));

program
  .command("compile")
  .description(
    "compile a model, or every model of the file, into one TypeScript module that apps import (a typed class per model over the repr runtime); or, with --target, into ONNX files or a PyTorch module",
  )
  .argument("<file>", "a .repr file")
  .option("-o, --output <path>", "the module to write (default: next to the .repr file); with --target onnx or pytorch, a folder")
  .option("--target <what>", "ts (a TypeScript module, the default), onnx (an ONNX file per function, opset 17, batch dimension B) or pytorch (a Python module and training scripts)")
  .option("--training", "with --target onnx: also every training step (params and optimizer state in, loss and new values out) and test step")
  .option("--weights <checkpoint>", "with --target onnx: a trained model's .safetensors, written into the functions as constants")
  .option("--model <name>", "the model to compile (default: the pipeline's, or without --pipeline every model of the file, a class each)")
  .option("--pipeline <name>", "include only this pipeline (and compile its model); by default every pipeline over the model is included")
  .option("--batch <n>", "the batch size --emit shows graphs at (default: 64 for functions, each step's own for steps); compiled modules run any batch size")
  .option("--train-batch <n>", "the default examples per update of the model's own training step (default: 32)")
  .option("--runtime <specifier>", "where the module imports the runtime from (default: repr/runtime)")
  .option("--class-name <name>", "the generated class's name, for a module of one model (default: the model's name)")
  .option(
    "--emit <what>",
    "also write, in OUT.graphs/: graph (every kernel graph as JSON and text), wgsl (the WebGPU shader of every dispatch, fused kernels sharing one), cpu (the CPU backend's routine for every kernel, and its WebAssembly as NAME.cpu.wat, or cpu-simd.wat with REPR_CPU_GENERATED=0); repeatable",
    collect,
  )
  .option("--max-memory <size>", MAX_MEMORY_HELP)
  .option("--allow-import-outside", ALLOW_IMPORT_OUTSIDE)
  .action((file: string, options: CompileOptions) => run(() => compileCommand(file, options)));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has already printed its message; `--help` and `--version` exit 0, usage errors 1.
    process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.userError;
  } else {
    process.stderr.write(`repr: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = ExitCode.internalError;
  }
}
