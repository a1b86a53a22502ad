/**
 * Hover: what a name or value under the cursor is.
 *
 * - a value (a model input, a let, a view, an expression): its type;
 * - a part: input → output shape, parameter count and FLOPs per example;
 * - a built-in (layer, mask, objective, optimizer, ...): its signature and
 *   the spec's one-line description; a block: its signature and `///` doc.
 */
import type { Hover } from "vscode-languageserver";
import type { BlockDecl, DataDecl, Item, ModelDecl, Span } from "../../language/ast.js";
import { Source } from "../../language/source.js";
import type { CheckedModel } from "../../compiler/check/check.js";
import { formatShape, formatType } from "../../compiler/check/types.js";
import type { Workspace } from "../workspace.js";
import type { Document } from "../documents.js";
import { symbolAt, type Definition, type Target } from "../analysis/symbols.js";
import { blockSignature, builtinNoun, builtinSignature, paramLabel, specFileOf } from "../analysis/signatures.js";
import { formatFlops, partFlops } from "../analysis/flops.js";

const code = (text: string): string => "```repr\n" + text + "\n```";
const count = (n: number): string => n.toLocaleString("en-US");

/** The hover at an offset of a document, or null. */
export function hover(ws: Workspace, doc: Document, offset: number): Hover | null {
  const symbols = ws.symbolsOf(doc.path);
  if (!symbols) return null;
  const hit = symbolAt(symbols, offset);
  const at = hit ? ("definition" in hit ? hit.definition.span : hit.reference.span) : null;
  const target: Target | null = hit ? ("definition" in hit ? hit.definition : hit.reference.target) : null;
  const text = target ? describe(ws, target) : valueAt(ws, doc, offset);
  if (!text) return null;
  return { contents: { kind: "markdown", value: text.markdown }, range: doc.lines.range(at ?? text.span!) };
}

interface Shown {
  readonly markdown: string;
  readonly span?: Span;
}

/** The markdown for a target. */
function describe(ws: Workspace, t: Target): Shown | null {
  if (t.kind === "builtin") {
    if (t.param) return { markdown: `${code(`(parameter) ${paramLabel(t.param)}`)}\n${t.param.doc}` };
    const sig = builtinSignature(t.builtin);
    const where = specFileOf(t.builtin);
    return { markdown: `${code(sig.label)}\nBuilt-in ${builtinNoun(t.builtin)}: ${sig.doc}${where ? `\n\nSee spec/${where}.` : ""}` };
  }
  const source = sourceOf(ws, t.path);
  if (!source) return null;
  switch (t.kind) {
    case "block": {
      const sig = blockSignature(t.node as BlockDecl, source);
      return { markdown: `${code(`block ${sig.label}`)}${sig.doc ? `\n${sig.doc}` : ""}` };
    }
    case "param":
      return { markdown: `${code(`(parameter of block ${t.container?.name}) ${source.slice(t.full).replace(/\s+/g, " ")}`)}` };
    case "data": {
      const decl = t.node as DataDecl;
      const fields = decl.fields.map((f) => `  ${source.slice(f.span).replace(/\s+/g, " ")}`).join("\n");
      return { markdown: `${code(`data ${decl.name.text} {\n${fields}\n}`)}${decl.doc ? `\n${decl.doc}` : ""}` };
    }
    case "field":
      return { markdown: code(`(field of data ${t.container?.name}) ${source.slice(t.full).replace(/\s+/g, " ")}`) };
    case "pipeline":
    case "model":
    default:
      return member(ws, source, t);
  }
}

/** The source of a file the workspace can read. */
function sourceOf(ws: Workspace, path: string): Source | null {
  const text = ws.read(path);
  return text === null ? null : new Source(path, text);
}

/** A model, pipeline or model member, with what checking its model found. */
function member(ws: Workspace, source: Source, t: Definition): Shown | null {
  const decl = (t.kind === "model" || t.kind === "pipeline" ? t.node : t.container?.node) as Item | undefined;
  const doc = (t.node as { doc?: string | null }).doc ?? null;
  if (t.kind === "pipeline") return { markdown: `${code(`pipeline ${t.name}`)}${doc ? `\n${doc}` : ""}` };
  const model = decl?.kind === "Model" ? checkedModel(ws, source, decl) : null;
  const tail = doc ? `\n\n${doc}` : "";
  if (t.kind === "model") {
    const line = model ? `\n${count(model.totalParams)} parameters` : "";
    return { markdown: `${code(`model ${t.name}`)}${line}${tail}` };
  }
  if (!model) return { markdown: `${code(`${t.kind} ${t.name}`)}${tail}` };
  switch (t.kind) {
    case "part": {
      const part = model.parts.find((p) => p.name === t.name);
      if (!part) break;
      if (!part.input || !part.output) return { markdown: `${code(`${part.role} ${part.name}`)}\nnever applied${tail}` };
      const flops = partFlops(model, part);
      // FLOPs are counted as the part runs in `encode`: with masks off (all patches, say).
      const masked = part.input.positions !== undefined ? " (masks off)" : "";
      const facts = [`${count(part.params)} parameters`, flops !== null ? `${formatFlops(flops)} per example${masked}` : null].filter(Boolean).join(" · ");
      return { markdown: `${code(`${part.role} ${part.name}: ${formatShape(part.input)} -> ${formatShape(part.output)}`)}\n${facts}${tail}` };
    }
    case "input": {
      const input = model.inputs.find((i) => i.name === t.name);
      if (input) return { markdown: `${code(`input ${t.name}: ${formatType(input.type)}`)}${tail}` };
      break;
    }
    case "let": {
      const l = model.lets.find((x) => x.name === t.name);
      if (l) return { markdown: `${code(`let ${t.name}: ${formatType(l.type)}`)}${tail}` };
      break;
    }
    case "mask": {
      const node = model.graph.nodes.find((n) => n.op === "mask" && n.name === t.name);
      if (node?.op === "mask") {
        const f = node.fields;
        return { markdown: `${code(`mask ${t.name} = ${node.strategy}`)}\ninput ${formatShape(f.input)}, target ${formatShape(f.target)}, masked ${formatShape(f.masked)}${tail}` };
      }
      break;
    }
    case "view": {
      const views = model.graph.nodes.find((n) => n.op === "views" && n.names.includes(t.name));
      if (views) return { markdown: `${code(`view ${t.name}: ${formatType(views.type)}`)}${tail}` };
      break;
    }
    case "loss": {
      const loss = model.losses.find((l) => l.name === t.name);
      if (loss) return { markdown: `${code(`loss ${t.name}`)}\n${[...loss.objectives, ...loss.regularizers].join(" + ")}${tail}` };
      break;
    }
  }
  return { markdown: `${code(`${t.kind} ${t.name}`)}${tail}` };
}

/** A model checked on its own (every other declaration left alone). */
function checkedModel(ws: Workspace, source: Source, decl: ModelDecl): CheckedModel | null {
  const ast = ws.ast(source.name);
  const current = ast?.items.find((i) => i.kind === "Model" && i.name.text === decl.name.text && i.span.start === decl.span.start);
  const result = ws.checkOnly(source, current ?? decl);
  return result.program.models.find((m) => m.name === decl.name.text) ?? null;
}

/** The type of the innermost value of a model's graph under the cursor. */
function valueAt(ws: Workspace, doc: Document, offset: number): Shown | null {
  const ast = ws.ast(doc.path);
  const decl = ast?.items.find((i) => i.kind === "Model" && i.span.start <= offset && offset <= i.span.end) as ModelDecl | undefined;
  if (!decl) return null;
  const model = ws.checkOnly(doc.asSource, decl).program.models.find((m) => m.name === decl.name.text);
  if (!model) return null;
  let best: { span: Span; text: string } | null = null;
  for (const n of model.graph.nodes) {
    const s = n.location.span;
    if (n.location.source.name !== doc.path || s.start > offset || offset > s.end) continue;
    if (!best || s.end - s.start < best.span.end - best.span.start) best = { span: s, text: formatType(n.type) };
  }
  return best && { markdown: code(best.text), span: best.span };
}
