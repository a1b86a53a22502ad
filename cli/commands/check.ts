import { Source } from "../../language/source.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "../../language/diagnostics/diagnostic.js";
import { renderDiagnostics, diagnosticToJson } from "../../language/diagnostics/render.js";
import { checkProgram, formatShapes } from "../../compiler/check/check.js";
import { projectFileHost } from "../../compiler/check/file-host.js";
import { readTextFile } from "../files.js";
import { ExitCode, UserError } from "../errors.js";
import { memoryLimit } from "../memory-option.js";

export interface CheckOptions {
  readonly shapes?: boolean;
  readonly json?: boolean;
  readonly maxMemory?: string;
  readonly allowImportOutside?: boolean;
}

/**
 * A file that could not be read (missing, not a regular file, not UTF-8) as a
 * diagnostic of that file at 1:1, so it is reported with, not instead of, the
 * other files' diagnostics.
 */
function unreadable(file: string, err: UserError): Diagnostic {
  return { code: err.code ?? "", severity: "error", message: err.message, source: new Source(file, ""), span: { start: 0, end: 0 }, related: [], notes: [], help: [] };
}

/** `repr check FILES...`: parse, resolve and shape-check each file; report every problem. */
export function checkCommand(files: readonly string[], options: CheckOptions): number {
  const all: Diagnostic[] = [];
  const unread: Diagnostic[] = [];
  const shapes: string[] = [];
  const maxMemory = memoryLimit(options.maxMemory);
  for (const file of files) {
    let text: string;
    try {
      text = readTextFile(file);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      unread.push(unreadable(file, err));
      continue;
    }
    const host = projectFileHost(file, { allowOutside: options.allowImportOutside ?? false });
    const { program, diagnostics } = checkProgram(new Source(file, text), host, { maxMemory });
    all.push(...diagnostics);
    if (options.shapes && !hasErrors(diagnostics)) shapes.push(formatShapes(program));
  }
  const sorted = sortDiagnostics(all);
  const failed = unread.length > 0 || hasErrors(sorted);
  if (options.json) {
    const diagnostics = sortDiagnostics([...unread, ...sorted]).map(diagnosticToJson);
    process.stdout.write(JSON.stringify({ ok: !failed, diagnostics }, null, 2) + "\n");
  } else {
    // A file that cannot be read has no source to show: one line, as for any file the CLI cannot read.
    for (const d of unread) process.stderr.write(`repr: error ${d.code}: ${d.message}\n`);
    if (sorted.length > 0) process.stderr.write(renderDiagnostics(sorted) + "\n\n");
    if (shapes.length > 0) process.stdout.write(shapes.join("\n\n") + "\n");
    const errors = unread.length + sorted.filter((d) => d.severity === "error").length;
    const warnings = sorted.filter((d) => d.severity === "warning").length;
    const summary =
      `checked ${files.length} file${files.length === 1 ? "" : "s"}: ` +
      `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
    (failed ? process.stderr : process.stdout).write(summary + "\n");
  }
  return failed ? ExitCode.userError : ExitCode.ok;
}
