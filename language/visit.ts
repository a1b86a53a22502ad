/**
 * The generic visitor of expressions: an expression's direct sub-expressions
 * in source order. Passes that walk expressions handle the kinds they care
 * about (a call's arguments against its parameters, a member's name) and
 * hand every other kind to `forEachChild`, so adding an expression kind means
 * adding it here once.
 */
import type { Expr } from "./ast.js";

/** Calls `visit` on each direct sub-expression of `e`, in source order: a call's callee then its argument values. */
export function forEachChild(e: Expr, visit: (child: Expr) => void): void {
  switch (e.kind) {
    case "Call":
      visit(e.callee);
      for (const arg of e.args) visit(arg.value);
      return;
    case "Member":
      visit(e.target);
      return;
    case "Index":
      visit(e.target);
      e.indices.forEach(visit);
      return;
    case "List":
      e.items.forEach(visit);
      return;
    case "Map":
      for (const entry of e.entries) visit(entry.value);
      return;
    case "Binary":
      visit(e.left);
      visit(e.right);
      return;
    case "Unary":
      visit(e.operand);
      return;
    case "Pipe":
      e.stages.forEach(visit);
      return;
    case "Ident":
    case "Number":
    case "String":
    case "Bool":
    case "ErrorExpr":
      return;
  }
}
