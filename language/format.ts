import type { Source } from "./source.js";
import { hasErrors, type Diagnostic } from "./diagnostics/diagnostic.js";
import { parse } from "./parser.js";
import { print } from "./printer.js";

/** What formatting produces: canonical text, or null when the file has parse errors. */
export interface FormatResult {
  readonly text: string | null;
  readonly diagnostics: Diagnostic[];
}

/**
 * Formats a file as canonical repr source. A file with parse errors is never
 * formatted (the tree would have holes); its diagnostics say why.
 */
export function format(source: Source): FormatResult {
  const { ast, diagnostics } = parse(source);
  if (hasErrors(diagnostics)) return { text: null, diagnostics };
  return { text: print(ast, ast.comments, source.text), diagnostics };
}
