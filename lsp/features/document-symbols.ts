/**
 * The outline of a document: its models (with inputs, parts, masks, views,
 * lets and losses), blocks (with parameters), data (with fields), pipelines
 * (with steps) and imports.
 */
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver";
import type { Item, Span } from "../../language/ast.js";
import type { Document } from "../documents.js";
import type { Workspace } from "../workspace.js";

/** The document's outline. */
export function documentSymbols(ws: Workspace, doc: Document): DocumentSymbol[] {
  const ast = ws.ast(doc.path);
  if (!ast) return [];
  const sym = (name: string, detail: string, kind: SymbolKind, full: Span, at: Span, children: DocumentSymbol[] = []): DocumentSymbol => ({
    name: name || "(unnamed)",
    detail,
    kind,
    range: doc.lines.range(full),
    selectionRange: doc.lines.range(at.start >= full.start && at.end <= full.end ? at : full),
    children,
  });
  const text = (s: Span) => doc.text.slice(s.start, s.end).replace(/\s+/g, " ");
  return ast.items.map((item: Item): DocumentSymbol => {
    switch (item.kind) {
      case "Import":
        return sym(`import ${item.path.value}`, "", SymbolKind.Module, item.span, item.path.span);
      case "Block":
        return sym(item.name.text, "block", SymbolKind.Function, item.span, item.name.span, item.params.map((p) => sym(p.name.text, text(p.span), SymbolKind.Variable, p.span, p.name.span)));
      case "Data":
        return sym(item.name.text, "data", SymbolKind.Struct, item.span, item.name.span, item.fields.map((f) => sym(f.name.text, text(f.type.span), SymbolKind.Field, f.span, f.name.span)));
      case "Pipeline":
        return sym(item.name.text, "pipeline", SymbolKind.Module, item.span, item.name.span, item.steps.map((s) => sym(text(s.span).split(" {")[0]!.slice(0, 60), s.kind.toLowerCase(), SymbolKind.Event, s.span, s.span)));
      case "Model":
        return sym(
          item.name.text,
          "model",
          SymbolKind.Class,
          item.span,
          item.name.span,
          item.members.flatMap((m) => {
            switch (m.kind) {
              case "Input":
                return [sym(m.name.text, "input", SymbolKind.Variable, m.span, m.name.span)];
              case "Part":
                return [sym(m.name.text, m.role, SymbolKind.Property, m.span, m.name.span)];
              case "Mask":
                return [sym(m.name.text, "mask", SymbolKind.Variable, m.span, m.name.span)];
              case "Views":
                return m.names.map((n) => sym(n.text, "view", SymbolKind.Variable, m.span, n.span));
              case "Let":
                return [sym(m.name.text, "let", SymbolKind.Variable, m.span, m.name.span)];
              case "Loss":
                return [sym(m.name.text, "loss", SymbolKind.Event, m.span, m.name.span)];
              case "Output":
                return [sym("output", "output", SymbolKind.Variable, m.span, m.span)];
            }
          }),
        );
    }
  });
}
