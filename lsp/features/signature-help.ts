/**
 * Signature help: inside a call's parentheses, the callee's signature with
 * the argument being written highlighted (by its name, or by position).
 */
import type { SignatureHelp } from "vscode-languageserver";
import * as T from "../../language/lexer.js";
import { Source } from "../../language/source.js";
import type { BlockDecl } from "../../language/ast.js";
import { builtins } from "../../compiler/builtins/index.js";
import type { Document } from "../documents.js";
import type { Workspace } from "../workspace.js";
import { cursorContext } from "../analysis/context.js";
import { blockSignature, builtinSignature, type Signature } from "../analysis/signatures.js";

/** The signature help at an offset, or null outside a call of something known. */
export function signatureHelp(ws: Workspace, doc: Document, offset: number): SignatureHelp | null {
  const ctx = cursorContext(doc.text, offset);
  const inner = ctx.open[ctx.open.length - 1];
  if (!inner || inner.token.tokenType !== T.LParen) return null;
  const callee = ctx.before[inner.index - 1];
  if (!callee || callee.tokenType !== T.Ident) return null;
  const symbols = ws.symbolsOf(doc.path);
  const ref = symbols?.references.find((r) => r.span.start === callee.startOffset);
  let sig: Signature | null = null;
  const target = ref?.target;
  if (target?.kind === "builtin") sig = builtinSignature(target.builtin);
  else if (target?.kind === "block") {
    const text = ws.read(target.path);
    if (text !== null) sig = { ...blockSignature(target.node as BlockDecl, new Source(target.path, text)) };
    if (sig) sig = { ...sig, label: `block ${sig.label}` };
  } else {
    const b = builtins.find((x) => x.name === callee.image && x.category !== "metric");
    if (b) sig = builtinSignature(b);
  }
  if (!sig) return null;

  // Which argument: the one named just before the cursor, else the position among positional ones.
  let active = 0;
  let depth = 0;
  let named: string | null = null;
  const args = ctx.before.slice(inner.index + 1);
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if (t.tokenType === T.LParen || t.tokenType === T.LBracket || t.tokenType === T.LCurly) depth++;
    else if (t.tokenType === T.RParen || t.tokenType === T.RBracket || t.tokenType === T.RCurly) depth--;
    else if (depth === 0 && t.tokenType === T.Comma) {
      active++;
      named = null;
    } else if (depth === 0 && t.tokenType === T.Colon && i > 0) named = args[i - 1]!.image;
  }
  const index = named !== null ? sig.params.findIndex((p) => p.name === named) : Math.min(active, Math.max(0, sig.params.length - 1));
  return {
    signatures: [
      {
        label: sig.label,
        documentation: sig.doc,
        parameters: sig.params.map((p) => ({ label: paramRange(sig!.label, p.name) ?? p.label, documentation: p.doc })),
      },
    ],
    activeSignature: 0,
    activeParameter: Math.max(0, index),
  };
}

/** Where a parameter is written in a signature label: from its name to the comma or parenthesis that ends it. */
function paramRange(label: string, name: string): [number, number] | null {
  const open = label.indexOf("(");
  const m = new RegExp(`[(,]\\s*(${name})\\b`).exec(label.slice(open));
  if (open < 0 || !m) return null;
  const start = open + m.index + m[0].length - name.length;
  let depth = 0;
  for (let i = start; i < label.length; i++) {
    const c = label[i]!;
    if (c === "(" || c === "[") depth++;
    else if ((c === ")" || c === "]") && depth > 0) depth--;
    else if ((c === "," || c === ")") && depth === 0) return [start, i];
  }
  return [start, label.length];
}
