/**
 * Moving parse results along a text: a declaration parsed on its own has
 * offsets from its own start; placed in the document, every span moves by
 * the declaration's offset.
 */
import type { Span } from "../../language/ast.js";
import type { Diagnostic } from "../../language/diagnostics/diagnostic.js";
import type { Source } from "../../language/source.js";

/** True for a `{ start, end }` record (a span), as opposed to a node that has one. */
function isSpan(value: object): value is Span {
  const keys = Object.keys(value);
  return keys.length === 2 && "start" in value && "end" in value;
}

/**
 * A copy of an AST node (or any tree of nodes) with every span moved by
 * `delta`. Nodes are plain records, so this is a structural copy; strings,
 * numbers and booleans are shared.
 */
export function shiftTree<T>(node: T, delta: number): T {
  if (delta === 0) return node;
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== "object") return value;
    if (isSpan(value)) return { start: value.start + delta, end: value.end + delta };
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = walk(child);
    return out;
  };
  return walk(node) as T;
}

/** A diagnostic moved by `delta`, its spans in `from` now in `to` (spans in other files stay). */
export function shiftDiagnostic(d: Diagnostic, from: Source, to: Source, delta: number): Diagnostic {
  const move = (source: Source, span: Span): { source: Source; span: Span } =>
    source === from ? { source: to, span: { start: span.start + delta, end: span.end + delta } } : { source, span };
  return { ...d, ...move(d.source, d.span), related: d.related.map((r) => ({ ...r, ...move(r.source, r.span) })) };
}
