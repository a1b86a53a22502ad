import type * as A from "./ast.js";
import { placeComments, type CommentPlacement } from "./comment-attach.js";
import { leadingIdent, printExpr, printMapFlat, printStage } from "./print-expr.js";

/**
 * Prints a tree as canonical repr source: two-space indent, one statement per
 * line, a blank line between top-level items, `///` docs before their
 * declarations and ordinary comments where `comment-attach.ts` places them.
 *
 * The printer is dumb on purpose: it decides nothing about meaning and prints
 * whatever tree it is given, so `print(parse(text))` is the formatter.
 */

/** Lines longer than this break a pipe before each `->`, and a map after each entry. */
export const MAX_WIDTH = 100;
const INDENT = "  ";

/**
 * Prints a file; `comments` defaults to the file's own. Given the original
 * text, the printer keeps one blank line wherever the author left one (or more)
 * right after a statement, so people can group the members of a model.
 */
export function print(
  file: A.FileNode,
  comments: readonly A.Comment[] = file.comments,
  originalText: string | null = null,
): string {
  return new Printer(placeComments(file, comments), originalText).file(file);
}

/** True when the line after `prev` (and after any comment on its line) is blank in `text`. */
function blankLineAfter(text: string, prev: A.Node, next: A.Node): boolean {
  const gap = text.slice(prev.span.end, next.span.start);
  const eol = gap.indexOf("\n");
  return eol >= 0 && /^[ \t\r]*\n/.test(gap.slice(eol + 1));
}

/** Statement keywords that would be read as a statement if an expression began with them. */
const statementWords = new Set(["input", "let", "output"]);

class Printer {
  private readonly out: string[] = [];

  constructor(
    private readonly comments: CommentPlacement,
    private readonly originalText: string | null,
  ) {}

  file(file: A.FileNode): string {
    file.items.forEach((item, i) => {
      if (i > 0) this.out.push("");
      this.item(item);
    });
    const end = this.comments.end.get(file) ?? [];
    if (end.length > 0 && file.items.length > 0) this.out.push("");
    for (const c of end) this.out.push(commentText(c));
    return this.out.length === 0 ? "" : this.out.join("\n") + "\n";
  }

  private item(item: A.Item): void {
    switch (item.kind) {
      case "Import": {
        const names = item.names ? `{ ${item.names.map((n) => n.text).join(", ")} } from ` : "";
        this.line(item, "", `import ${names}${printExpr(item.path)}`);
        return;
      }
      case "Block": {
        const params = item.params.map(printParam).join(", ");
        this.body(item, `block ${item.name.text}(${params})`, item.body, (s) => this.blockStmt(s));
        return;
      }
      case "Model":
        this.body(item, `model ${item.name.text}`, item.members, (m) => this.member(m));
        return;
      case "Data":
        this.body(item, `data ${item.name.text}`, item.fields, (f) =>
          this.valueLine(f, INDENT, `${f.name.text}: `, f.type, ""),
        );
        return;
      case "Pipeline":
        this.body(item, `pipeline ${item.name.text}`, item.steps, (s) => this.step(s));
        return;
    }
  }

  /** `head {` children `}`, or `head {}` when there is nothing inside. */
  private body<T extends A.Node>(item: A.Item, head: string, children: readonly T[], each: (c: T) => void): void {
    const end = this.comments.end.get(item) ?? [];
    this.leading(item, "");
    if (children.length === 0 && end.length === 0) {
      this.out.push(`${head} {}${this.trailing(item)}`);
      return;
    }
    this.out.push(`${head} {`);
    children.forEach((c, i) => {
      const prev = children[i - 1];
      if (prev && this.originalText !== null && blankLineAfter(this.originalText, prev, c)) this.out.push("");
      each(c);
    });
    for (const c of end) this.out.push(INDENT + commentText(c));
    this.out.push(`}${this.trailing(item)}`);
  }

  private blockStmt(s: A.BlockStmt): void {
    if (s.kind === "ExprStmt") {
      // A bare expression starting with `input`/`let`/`output` would read as a statement.
      const word = leadingIdent(s.value);
      if (word !== null && statementWords.has(word)) {
        this.line(s, INDENT, `(${printExpr(s.value)})`);
      } else {
        this.valueLine(s, INDENT, "", s.value, "");
      }
      return;
    }
    this.member(s);
  }

  private member(m: A.ModelMember): void {
    switch (m.kind) {
      case "Input":
        if (m.type) this.valueLine(m, INDENT, `input ${m.name.text}: `, m.type, "");
        else this.line(m, INDENT, `input ${m.name.text}`);
        return;
      case "Part":
        this.valueLine(m, INDENT, `${m.role} ${m.name.text} = `, m.value, "");
        return;
      case "Mask":
        this.valueLine(m, INDENT, `mask ${m.name.text} = `, m.value, "");
        return;
      case "Views":
        this.valueLine(m, INDENT, `views ${m.names.map((n) => n.text).join(", ")} = `, m.value, "");
        return;
      case "Let":
        this.valueLine(m, INDENT, `let ${m.name.text} = `, m.value, "");
        return;
      case "Loss":
        this.valueLine(m, INDENT, `loss ${m.name.text} = `, m.value, m.on ? ` on ${printExpr(m.on)}` : "");
        return;
      case "Output":
        this.valueLine(m, INDENT, "output ", m.value, "");
        return;
    }
  }

  private step(s: A.PipelineStep): void {
    switch (s.kind) {
      case "Pretrain":
        return this.configLine(s, `pretrain ${s.model.text} on ${printExpr(s.data)}`, s.config);
      case "Freeze":
        return this.configLine(s, `freeze ${s.parts.map((p) => p.text).join(", ")}`, s.config);
      case "Unfreeze":
        return this.configLine(s, `unfreeze ${s.parts.map((p) => p.text).join(", ")}`, s.config);
      case "Replace":
        return this.valueLine(s, INDENT, `replace ${s.part.text} with `, s.value, "");
      case "Adapt":
        return this.configLine(s, `adapt on ${printExpr(s.data)}`, s.config);
      case "Test":
        return this.configLine(s, `test on ${printExpr(s.data)}`, s.config);
    }
  }

  /** A step with optional settings: the map stays on the line if it fits. */
  private configLine(s: A.PipelineStep, head: string, config: A.MapExpr | null): void {
    if (!config) return this.line(s, INDENT, head);
    this.leading(s, INDENT);
    const lines = printMap(config, INDENT, INDENT.length + head.length + 1);
    lines[0] = `${INDENT}${head} ${lines[0]}`;
    lines[lines.length - 1] += this.trailing(s);
    this.out.push(...lines);
  }

  /**
   * `prefix value suffix` at `indent`. A top-level pipe too long for one line
   * breaks before each `->`; a map too long for one line puts one entry per line.
   */
  private valueLine(node: A.Node, indent: string, prefix: string, value: A.Expr, suffix: string): void {
    const flat = printExpr(value);
    const width = indent.length + prefix.length + flat.length + suffix.length;
    if (width <= MAX_WIDTH || (value.kind !== "Pipe" && value.kind !== "Map")) {
      return this.line(node, indent, `${prefix}${flat}${suffix}`);
    }
    this.leading(node, indent);
    let lines: string[];
    if (value.kind === "Pipe") {
      const inner = indent + INDENT;
      lines = [`${indent}${prefix}${printStage(value.stages[0]!)}`];
      for (const stage of value.stages.slice(1)) lines.push(`${inner}-> ${printStage(stage)}`);
    } else {
      lines = printMap(value, indent, indent.length + prefix.length);
      lines[0] = `${indent}${prefix}${lines[0]}`;
    }
    lines[lines.length - 1] += suffix + this.trailing(node);
    this.out.push(...lines);
  }

  /** One-line statement with its leading comments, doc and trailing comments. */
  private line(node: A.Node, indent: string, text: string): void {
    this.leading(node, indent);
    this.out.push(`${indent}${text}${this.trailing(node)}`);
  }

  private leading(node: A.Node, indent: string): void {
    for (const c of this.comments.leading.get(node) ?? []) this.out.push(indent + commentText(c));
    const doc = "doc" in node ? node.doc : null;
    if (doc !== null && doc !== undefined) {
      for (const l of doc.split("\n")) this.out.push(l === "" ? `${indent}///` : `${indent}/// ${l}`);
    }
  }

  private trailing(node: A.Node): string {
    const list = this.comments.trailing.get(node);
    return list ? list.map((c) => ` ${commentText(c)}`).join("") : "";
  }
}

function printParam(p: A.Param): string {
  const type = p.type ? `: ${printExpr(p.type)}` : "";
  const def = p.default ? ` = ${printExpr(p.default)}` : "";
  return `${p.name.text}${type}${def}`;
}

/**
 * A map whose first line continues a line already `column` wide: flat if it
 * fits, else one `key: value` per line (nested maps break the same way).
 */
function printMap(m: A.MapExpr, indent: string, column: number): string[] {
  const flat = printMapFlat(m);
  if (column + flat.length <= MAX_WIDTH || m.entries.length === 0) return [flat];
  const inner = indent + INDENT;
  const lines = ["{"];
  for (const en of m.entries) {
    const head = `${inner}${en.name.text}: `;
    if (en.value.kind === "Map") {
      const sub = printMap(en.value, inner, head.length);
      sub[0] = head + sub[0];
      lines.push(...sub);
    } else lines.push(head + printExpr(en.value));
  }
  lines.push(`${indent}}`);
  return lines;
}

/** A comment as printed: line comments lose trailing blanks. */
function commentText(c: A.Comment): string {
  return c.style === "line" ? c.text.trimEnd() : c.text;
}
