import { Source } from "../../language/source.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "../../language/diagnostics/diagnostic.js";
import { renderDiagnostics, diagnosticToJson } from "../../language/diagnostics/render.js";
import { checkProgram, formatShapes } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { readTextFile } from "../files.js";
import { ExitCode } from "../errors.js";
import { memoryLimit } from "../memory-option.js";

export interface CheckOptions {
  readonly shapes?: boolean;
  readonly json?: boolean;
  readonly maxMemory?: string;
}

/** `repr check FILES...`: parse, resolve and shape-check each file; report every problem. */
export function checkCommand(files: readonly string[], options: CheckOptions): number {
  const all: Diagnostic[] = [];
  const shapes: string[] = [];
  const maxMemory = memoryLimit(options.maxMemory);
  for (const file of files) {
    const source = new Source(file, readTextFile(file));
    const { program, diagnostics } = checkProgram(source, nodeFileHost, { maxMemory });
    all.push(...diagnostics);
    if (options.shapes && !hasErrors(diagnostics)) shapes.push(formatShapes(program));
  }
  const sorted = sortDiagnostics(all);
  const failed = hasErrors(sorted);
  if (options.json) {
    process.stdout.write(
      JSON.stringify({ ok: !failed, diagnostics: sorted.map(diagnosticToJson) }, null, 2) + "\n",
    );
  } else {
    if (sorted.length > 0) process.stderr.write(renderDiagnostics(sorted) + "\n\n");
    if (shapes.length > 0) process.stdout.write(shapes.join("\n\n") + "\n");
    const errors = sorted.filter((d) => d.severity === "error").length;
    const warnings = sorted.filter((d) => d.severity === "warning").length;
    const summary =
      `checked ${files.length} file${files.length === 1 ? "" : "s"}: ` +
      `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
    (failed ? process.stderr : process.stdout).write(summary + "\n");
  }
  return failed ? ExitCode.userError : ExitCode.ok;
}
