import { Source } from "../../language/source.js";
import { format } from "../../language/format.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { readTextFile, writeFileAtomic } from "../files.js";
import { ExitCode } from "../errors.js";

export interface FmtOptions {
  readonly check?: boolean;
}

/**
 * `repr fmt FILES...`: rewrite files in canonical layout (atomically), or with
 * `--check` list those that would change and fail. A file with syntax errors is
 * never rewritten; its errors are reported instead.
 */
export function fmtCommand(files: readonly string[], options: FmtOptions): number {
  let failed = false;
  const wouldChange: string[] = [];
  for (const file of files) {
    const text = readTextFile(file);
    const { text: formatted, diagnostics } = format(new Source(file, text));
    if (formatted === null) {
      process.stderr.write(renderDiagnostics(diagnostics) + "\n\n");
      failed = true;
      continue;
    }
    if (formatted === text) continue;
    if (options.check) {
      wouldChange.push(file);
    } else {
      writeFileAtomic(file, formatted);
      process.stdout.write(`formatted ${file}\n`);
    }
  }
  if (wouldChange.length > 0) {
    process.stderr.write(
      `${wouldChange.length} file${wouldChange.length === 1 ? "" : "s"} would be reformatted:\n` +
        wouldChange.map((f) => `  ${f}\n`).join(""),
    );
    failed = true;
  }
  return failed ? ExitCode.userError : ExitCode.ok;
}
