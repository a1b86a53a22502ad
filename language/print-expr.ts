import type * as A from "./ast.js";

/**
 * Prints expressions on one line, with the fewest parentheses that keep the
 * tree: pipe < `+ -` < `* /` < unary `-` < postfix (call, member, index).
 */

/** Binding strength of each expression form; higher binds tighter. */
export function precedence(e: A.Expr): number {
  switch (e.kind) {
    case "Pipe":
      return 1;
    case "Binary":
      return e.op === "+" || e.op === "-" ? 2 : 3;
    case "Unary":
      return 4;
    case "Call":
    case "Member":
    case "Index":
      return 5;
    default:
      return 6;
  }
}

function wrap(e: A.Expr, minPrecedence: number): string {
  const text = printExpr(e);
  return precedence(e) < minPrecedence ? `(${text})` : text;
}

/** One expression as a single line of canonical source. */
export function printExpr(e: A.Expr): string {
  switch (e.kind) {
    case "Number":
      return e.raw;
    case "String":
      return quote(e.value);
    case "Bool":
      return e.value ? "true" : "false";
    case "Ident":
      return e.name;
    case "List":
      return `[${e.items.map(printExpr).join(", ")}]`;
    case "Map":
      return printMapFlat(e);
    case "Call":
      return `${wrap(e.callee, 5)}(${e.args.map(printArg).join(", ")})`;
    case "Member":
      // `(0).1`: an int before a numeric member would read as the float `0.1`.
      return e.target.kind === "Number" && /^\d/.test(e.name.text) ? `(${printExpr(e.target)}).${e.name.text}` : `${wrap(e.target, 5)}.${e.name.text}`;
    case "Index":
      return `${wrap(e.target, 5)}[${e.indices.map(printExpr).join(", ")}]`;
    case "Binary": {
      const p = precedence(e);
      return `${wrap(e.left, p)} ${e.op} ${wrap(e.right, p + 1)}`;
    }
    case "Unary":
      return `-${wrap(e.operand, 4)}`;
    case "Pipe":
      return e.stages.map((st, i) => printNamedStage(st, e.names?.[i] ?? null)).join(" -> ");
    case "ErrorExpr":
      // Only a tree with parse errors holds one; `format` never prints those.
      return "<error>";
  }
}

/** A pipe stage: anything but a nested pipe prints bare. */
export function printStage(e: A.Expr): string {
  return wrap(e, 2);
}

function printArg(a: A.Arg): string {
  return a.name ? `${a.name.text}: ${printExpr(a.value)}` : printExpr(a.value);
}

/** `{ a: 1, b: 2 }` on one line; `{}` when empty. */
export function printMapFlat(m: A.MapExpr): string {
  if (m.entries.length === 0) return "{}";
  return `{ ${m.entries.map((en) => `${en.name.text}: ${printExpr(en.value)}`).join(", ")} }`;
}

/** A string literal that reads back as the same value. */
export function quote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (cp < 0x20 || cp === 0x7f || cp === 0x2028 || cp === 0x2029 || (cp >= 0xd800 && cp <= 0xdfff)) {
      out += `\\u{${cp.toString(16).toUpperCase()}}`;
    } else out += ch;
  }
  return out + '"';
}

/** Statement keywords that would be read as a statement if an expression began with them. */
const statementWords = new Set(["input", "let", "output"]);

/**
 * True when a bare expression statement must be printed in parentheses:
 * it starts with `input`, `let` or `output`, and would read as a statement.
 */
export function startsLikeStatement(e: A.Expr): boolean {
  const word = leadingIdent(e);
  return word !== null && statementWords.has(word);
}

/** The leftmost identifier an expression prints, if it starts with one. */
export function leadingIdent(e: A.Expr): string | null {
  switch (e.kind) {
    case "Ident":
      return e.name;
    case "Call":
      return precedence(e.callee) < 5 ? null : leadingIdent(e.callee);
    case "Member":
    case "Index":
      return precedence(e.target) < 5 ? null : leadingIdent(e.target);
    case "Binary":
      return precedence(e.left) < precedence(e) ? null : leadingIdent(e.left);
    case "Pipe":
      return e.stages[0] && precedence(e.stages[0]) > 1 ? leadingIdent(e.stages[0]) : null;
    default:
      return null;
  }
}

/** A pipe stage with its name: `dense(64) as proj`; a named sum or pipe in parentheses, so the name stays the stage's. */
export function printNamedStage(e: A.Expr, name: A.Name | null): string {
  return name ? `${wrap(e, 4)} as ${name.text}` : printStage(e);
}
