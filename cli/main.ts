#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { checkCommand } from "./commands/check.js";
import { fmtCommand } from "./commands/fmt.js";
import { graphCommand } from "./commands/graph.js";
import { ExitCode, UserError } from "./errors.js";

/** Runs a command, mapping outcomes to repr's exit codes; never shows a stack trace to a user. */
function run(action: () => number): void {
  try {
    process.exitCode = action();
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`repr: error${err.code ? ` ${err.code}` : ""}: ${err.message}\n`);
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

const program = new Command()
  .name("repr")
  .description("Check, format, compile and train representation-learning models written in .repr")
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

program
  .command("check")
  .description("parse, resolve names and check shapes of .repr files")
  .argument("<files...>", ".repr files to check")
  .option("--shapes", "print each model's inferred shapes and parameter counts")
  .option("--json", "print diagnostics as JSON on stdout")
  .action((files: string[], options: { shapes?: boolean; json?: boolean }) =>
    run(() => checkCommand(files, options)),
  );

program
  .command("fmt")
  .description("rewrite .repr files in canonical layout")
  .argument("<files...>", ".repr files to format")
  .option("--check", "change nothing; list files that would change and exit 1 if any")
  .action((files: string[], options: { check?: boolean }) => run(() => fmtCommand(files, options)));

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
  .action((file: string, options: { model?: string; batch?: string; mode?: string; format?: string; pipeline?: string; step?: string; train?: boolean }) =>
    run(() => graphCommand(file, options)),
  );

try {
  program.parse(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has already printed its message; `--help` and `--version` exit 0, usage errors 1.
    process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.userError;
  } else {
    process.stderr.write(`repr: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = ExitCode.internalError;
  }
}
