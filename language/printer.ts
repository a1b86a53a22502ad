import type * as A from "./ast.js";
import { placeComments, type CommentPlacement } from "./comment-attach.js";
import { printExpr, printMapFlat, printNamedStage, startsLikeStatement } from "./print-expr.js";

/**
 * Prints a tree as canonical repr source: two-space indent, one statement per
 * line, a blank line between top-level items, `///` docs before their
 * declarations and ordinary comments where `comment-attach.ts` places them.
 *
 * The printer is dumb on purpose: it decides nothing about meaning and prints
 * whatever tree it is given, so `print(parse(text))` is the formatter.
 *
 * *Invariant:* printing never changes the tree a text parses to, docs
 * included. So a `///` comment that documents nothing is never printed right
 * before a declaration, where it would document it: there it is printed as
 * `//` (see `leadingLines`).
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
  return new Printer(placeComments(file, comments, originalText), originalText).file(file);
}

/** True when the line after `prev` (and after any comment on its line) is blank in `text`. */
function blankLineAfter(text: string, prev: A.Node, next: A.Node): boolean {
  const gap = text.slice(prev.span.end, next.span.start);
  const eol = gap.indexOf("\n");
  return eol >= 0 && /^[ \t\r]*\n/.test(gap.slice(eol + 1));
}

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
      case "Block":
        this.body(item, this.blockHead(item), item.body, (s) => this.blockStmt(s));
        return;
      case "Model":
        this.body(item, [`model ${item.name.text}`], item.members, (m) => this.member(m));
        return;
      case "Data":
        this.body(item, [`data ${item.name.text}`], item.fields, (f) =>
          this.valueLine(f, INDENT, `${f.name.text}: `, f.type, ""),
        );
        return;
      case "Pipeline":
        this.body(item, [`pipeline ${item.name.text}`], item.steps, (s) => this.step(s));
        return;
    }
  }

  /**
   * `block name(params)` on one line; one parameter per line (each with a
   * trailing comma) when comments sit among the parameters.
   */
  private blockHead(b: A.BlockDecl): string[] {
    const end = this.comments.paramsEnd.get(b) ?? [];
    const commented = end.length > 0 || b.params.some((p) => this.comments.leading.has(p) || this.comments.trailing.has(p));
    if (!commented) return [`block ${b.name.text}(${b.params.map(printParam).join(", ")})`];
    const lines = [`block ${b.name.text}(`];
    for (const p of b.params) {
      lines.push(...this.leadingLines(p, INDENT), `${INDENT}${printParam(p)},${this.trailing(p)}`);
    }
    for (const c of end) lines.push(INDENT + commentText(c));
    lines.push(")");
    return lines;
  }

  /** `head {` children `}`, or `head {}` when there is nothing inside; the head may span lines. */
  private body<T extends A.Node>(item: A.Item, head: readonly string[], children: readonly T[], each: (c: T) => void): void {
    const end = this.comments.end.get(item) ?? [];
    this.out.push(...this.leadingLines(item, ""), ...head.slice(0, -1));
    const last = head[head.length - 1]!;
    if (children.length === 0 && end.length === 0) {
      this.out.push(`${last} {}${this.trailing(item)}`);
      return;
    }
    this.out.push(`${last} {`);
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
      if (startsLikeStatement(s.value)) {
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
        this.valueLine(m, INDENT, m.name ? `output ${m.name.text} = ` : "output ", m.value, "");
        return;
    }
  }

  private step(s: A.PipelineStep): void {
    switch (s.kind) {
      case "Pretrain":
        return this.configLine(s, `pretrain ${s.model.text} on ${printExpr(s.data)}`, s.config);
      case "Freeze":
        return this.configLine(s, `freeze ${s.targets.map(printTarget).join(", ")}`, s.config);
      case "Unfreeze":
        return this.configLine(s, `unfreeze ${s.targets.map(printTarget).join(", ")}`, s.config);
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
    this.out.push(...this.leadingLines(s, INDENT));
    const lines = this.mapLines(config, INDENT, INDENT.length + head.length + 1);
    lines[0] = `${INDENT}${head} ${lines[0]}`;
    lines[lines.length - 1] += this.trailing(s);
    this.out.push(...lines);
  }

  /**
   * `prefix value suffix` at `indent`. A top-level pipe breaks before each
   * `->` when it is too long for one line or comments sit among its stages;
   * a map puts one entry per line on the same conditions.
   */
  private valueLine(node: A.Node, indent: string, prefix: string, value: A.Expr, suffix: string): void {
    const flat = printExpr(value);
    const tooWide = indent.length + prefix.length + flat.length + suffix.length > MAX_WIDTH;
    const breaks =
      (value.kind === "Pipe" && (tooWide || value.stages.some((st) => this.comments.leading.has(st) || this.comments.trailing.has(st)))) ||
      (value.kind === "Map" && (tooWide || this.mapHasComments(value)));
    if (!breaks) return this.line(node, indent, `${prefix}${flat}${suffix}`);
    this.out.push(...this.leadingLines(node, indent));
    let lines: string[];
    if (value.kind === "Pipe") {
      const inner = indent + INDENT;
      const [first, ...rest] = value.stages;
      const name = (i: number) => value.names?.[i] ?? null;
      lines = [`${indent}${prefix}${printNamedStage(first!, name(0))}${this.trailing(first!)}`];
      rest.forEach((stage, i) => lines.push(...this.leadingLines(stage, inner), `${inner}-> ${printNamedStage(stage, name(i + 1))}${this.trailing(stage)}`));
    } else {
      lines = this.mapLines(value as A.MapExpr, indent, indent.length + prefix.length);
      lines[0] = `${indent}${prefix}${lines[0]}`;
    }
    lines[lines.length - 1] += suffix + this.trailing(node);
    this.out.push(...lines);
  }

  /**
   * A map whose first line continues a line already `column` wide: flat if it
   * fits and holds no comment, else one `key: value` per line, each entry with
   * its comments (nested maps break the same way).
   */
  private mapLines(m: A.MapExpr, indent: string, column: number): string[] {
    const flat = printMapFlat(m);
    if (!this.mapHasComments(m) && (column + flat.length <= MAX_WIDTH || m.entries.length === 0)) return [flat];
    const inner = indent + INDENT;
    const lines = ["{"];
    for (const en of m.entries) {
      lines.push(...this.leadingLines(en, inner));
      const head = `${inner}${en.name.text}: `;
      let entry: string[];
      if (en.value.kind === "Map") {
        entry = this.mapLines(en.value, inner, head.length);
        entry[0] = head + entry[0];
      } else entry = [head + printExpr(en.value)];
      entry[entry.length - 1] += this.trailing(en);
      lines.push(...entry);
    }
    for (const c of this.comments.end.get(m) ?? []) lines.push(inner + commentText(c));
    lines.push(`${indent}}`);
    return lines;
  }

  private mapHasComments(m: A.MapExpr): boolean {
    if (this.comments.end.has(m)) return true;
    return m.entries.some(
      (en) =>
        this.comments.leading.has(en) ||
        this.comments.trailing.has(en) ||
        (en.value.kind === "Map" && this.mapHasComments(en.value)),
    );
  }

  /** One-line statement with its leading comments, doc and trailing comments. */
  private line(node: A.Node, indent: string, text: string): void {
    this.out.push(...this.leadingLines(node, indent), `${indent}${text}${this.trailing(node)}`);
  }

  /**
   * The lines before a node: its leading comments, then its doc. A `///`
   * comment here documents nothing (else it would be the doc), but the
   * `///` lines right before a declaration would become its doc when the
   * output is parsed again, so those are printed as `//` comments.
   */
  private leadingLines(node: A.Node, indent: string): string[] {
    const comments = this.comments.leading.get(node) ?? [];
    const doc = "doc" in node ? node.doc : undefined;
    let free = comments.length;
    if (doc !== undefined) while (free > 0 && isDocComment(comments[free - 1]!)) free--;
    const lines = comments.map((c, i) => indent + (i < free ? commentText(c) : `//${c.text.slice(3).trimEnd()}`));
    if (doc !== null && doc !== undefined) {
      for (const l of doc.split("\n")) lines.push(l === "" ? `${indent}///` : `${indent}/// ${l}`);
    }
    return lines;
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

/** A `///` line comment (not `////`), which documents what follows it. */
function isDocComment(c: A.Comment): boolean {
  return c.style === "line" && /^\/\/\/(?!\/)/.test(c.text);
}

/** A comment as printed: line comments lose trailing blanks. */
function commentText(c: A.Comment): string {
  return c.style === "line" ? c.text.trimEnd() : c.text;
}

/** `f`, `f.2.1`, `f.0..2`. */
function printTarget(t: A.LayerTarget): string {
  return [t.part.text, ...t.path.map((p) => p.text)].join(".") + (t.to ? `..${t.to.text}` : "");
}
