import type * as A from "./ast.js";
import { startsLikeStatement } from "./print-expr.js";

/**
 * Decides where the printer puts each ordinary comment, from offsets alone:
 *
 * - a comment on the same line after a statement trails that statement;
 * - a comment on its own line leads the next statement of its body;
 * - a comment after the last statement of a body stays at the end of the body;
 * - a comment inside a statement's parameter list, settings map or top-level
 *   pipe keeps its place among the parameters, entries or stages, by the same
 *   three rules (the printer then puts each of those on its own line);
 * - any other comment inside a statement (inside an expression) moves before
 *   that statement.
 *
 * "Statements" are items, model members, block statements, data fields and
 * pipeline steps; items with bodies are searched recursively.
 */
export interface CommentPlacement {
  readonly leading: Map<A.Node, A.Comment[]>;
  readonly trailing: Map<A.Node, A.Comment[]>;
  /** Comments at the end of a body, a map or the file, keyed by the item, map or file. */
  readonly end: Map<A.Node, A.Comment[]>;
  /** Comments after the last parameter of a block, before its `)`. */
  readonly paramsEnd: Map<A.Node, A.Comment[]>;
}

type Stmt = A.Item | A.ModelMember | A.BlockStmt | A.FieldDecl | A.PipelineStep;

/** Where a block's parameter list ends and its body begins. */
interface BlockLayout {
  /** Offset of the `)` closing the parameters (or the last parameter's end without the text). */
  readonly paramsEnd: number;
  readonly bodyStart: number;
}

/**
 * Places every comment (in source order) relative to the file's statements.
 * With the file's text, a comment just before a block's `)` stays in its
 * parameter list; without it such a comment moves into the body.
 */
export function placeComments(file: A.FileNode, comments: readonly A.Comment[], text: string | null = null): CommentPlacement {
  const p: CommentPlacement = { leading: new Map(), trailing: new Map(), end: new Map(), paramsEnd: new Map() };
  const placer = new Placer(p, comments, text);
  for (const c of comments) placer.among(file, file.items, c, p.end, (s) => placer.inStatement(s as Stmt, c));
  return p;
}

function push(map: Map<A.Node, A.Comment[]>, key: A.Node, c: A.Comment): void {
  const list = map.get(key);
  if (list) list.push(c);
  else map.set(key, [c]);
}

/** Index of the last child starting at or before `at`, or -1. */
function lastStartingBefore(children: readonly A.Node[], at: number): number {
  let lo = 0;
  let hi = children.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (children[mid]!.span.start <= at) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function within(node: A.Node, c: A.Comment): boolean {
  return node.span.start <= c.span.start && c.span.start < node.span.end;
}

class Placer {
  /** Comment start → end, to skip comments when looking for a block's `)`. */
  private readonly commentEnds = new Map<number, number>();

  constructor(
    private readonly p: CommentPlacement,
    comments: readonly A.Comment[],
    private readonly text: string | null,
  ) {
    for (const c of comments) this.commentEnds.set(c.span.start, c.span.end);
  }

  /**
   * Places `c` among a list of children (statements, parameters, entries,
   * stages): trailing the one before it on its line, leading the next one,
   * at `end` after the last; `inside` handles a comment within a child.
   */
  among(owner: A.Node, children: readonly A.Node[], c: A.Comment, end: Map<A.Node, A.Comment[]>, inside: (child: A.Node) => void): void {
    const prevIdx = lastStartingBefore(children, c.span.start);
    const prev = children[prevIdx];
    if (prev && c.span.start < prev.span.end) return inside(prev);
    if (c.trailing && prev) return push(this.p.trailing, prev, c);
    const next = children[prevIdx + 1];
    if (next) push(this.p.leading, next, c);
    else push(end, owner, c);
  }

  /** A comment within a statement: into a body, a parameter list, a map or a pipe, or before it. */
  inStatement(s: Stmt, c: A.Comment): void {
    const at = c.span.start;
    switch (s.kind) {
      case "Block": {
        const layout = this.blockLayout(s);
        if (s.name.span.end <= at && at < layout.paramsEnd) {
          return this.among(s, s.params, c, this.p.paramsEnd, (param) => push(this.p.leading, param, c));
        }
        if (at >= layout.bodyStart) return this.among(s, s.body, c, this.p.end, (child) => this.inStatement(child as Stmt, c));
        break;
      }
      case "Model":
        if (at >= s.name.span.end) return this.among(s, s.members, c, this.p.end, (child) => this.inStatement(child as Stmt, c));
        break;
      case "Data":
        if (at >= s.name.span.end) return this.among(s, s.fields, c, this.p.end, (child) => this.inStatement(child as Stmt, c));
        break;
      case "Pipeline":
        if (at >= s.name.span.end) return this.among(s, s.steps, c, this.p.end, (child) => this.inStatement(child as Stmt, c));
        break;
      default: {
        const value = layoutValue(s);
        if (value?.kind === "Map" && within(value, c)) return this.inMap(value, c);
        if (value?.kind === "Pipe") {
          const first = value.stages[0]!;
          const last = value.stages[value.stages.length - 1]!;
          if (first.span.start <= at && at < last.span.end) {
            // Stage 0 shares the statement's first line: what is inside it goes before the statement.
            return this.among(value, value.stages, c, this.p.end, (stage) => push(this.p.leading, stage === first ? s : stage, c));
          }
        }
      }
    }
    push(this.p.leading, s, c);
  }

  private inMap(m: A.MapExpr, c: A.Comment): void {
    this.among(m, m.entries, c, this.p.end, (child) => {
      const entry = child as A.MapEntry;
      if (entry.value.kind === "Map" && within(entry.value, c)) this.inMap(entry.value, c);
      else push(this.p.leading, entry, c);
    });
  }

  /** Finds the `)` after a block's parameters: only `,`, blanks and comments come before it. */
  private blockLayout(b: A.BlockDecl): BlockLayout {
    const last = b.params[b.params.length - 1];
    const from = last ? last.span.end : b.name.span.end;
    const text = this.text;
    if (text === null) return { paramsEnd: from, bodyStart: from };
    let at = from;
    // Without parameters, the `(` comes first.
    if (!last) {
      while (at < text.length && text[at] !== "(") at = this.commentEnds.get(at) ?? at + 1;
      at++;
    }
    while (at < text.length && text[at] !== ")") {
      const commentEnd = this.commentEnds.get(at);
      if (commentEnd !== undefined) at = commentEnd;
      else if (/[\s,\uFEFF]/.test(text[at]!)) at++;
      else break;
    }
    return text[at] === ")" ? { paramsEnd: at, bodyStart: at + 1 } : { paramsEnd: from, bodyStart: from };
  }
}

/**
 * The value of a statement that the printer lays out over several lines when
 * needed: a top-level pipe (broken before each `->`) or a map (one entry per
 * line). Other values are printed on one line.
 */
export function layoutValue(s: A.Node): A.PipeExpr | A.MapExpr | null {
  let value: A.Expr | null = null;
  switch (s.kind) {
    case "Input":
    case "Field":
      value = s.type;
      break;
    case "Part":
    case "Mask":
    case "Views":
    case "Let":
    case "Loss":
    case "Output":
    case "Replace":
      value = s.value;
      break;
    case "ExprStmt":
      // Printed in parentheses on one line (see `startsLikeStatement`).
      value = startsLikeStatement(s.value) ? null : s.value;
      break;
    case "Pretrain":
    case "Freeze":
    case "Unfreeze":
    case "Adapt":
    case "Test":
      return s.config;
    default:
      return null;
  }
  return value && (value.kind === "Pipe" || value.kind === "Map") ? value : null;
}
