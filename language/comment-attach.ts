import type * as A from "./ast.js";

/**
 * Decides where the printer puts each ordinary comment, from offsets alone:
 *
 * - a comment on the same line after a statement trails that statement;
 * - a comment on its own line leads the next statement of its body;
 * - a comment after the last statement of a body stays at the end of the body;
 * - a comment inside a statement (inside an expression, a parameter list, a
 *   step's settings) moves before that statement.
 *
 * "Statements" are items, model members, block statements, data fields and
 * pipeline steps; items with bodies are searched recursively.
 */
export interface CommentPlacement {
  readonly leading: Map<A.Node, A.Comment[]>;
  readonly trailing: Map<A.Node, A.Comment[]>;
  /** Comments at the end of a body (or of the file), keyed by the item or file. */
  readonly end: Map<A.Node, A.Comment[]>;
}

type Stmt = A.Item | A.ModelMember | A.BlockStmt | A.FieldDecl | A.PipelineStep;

/** The statements in an item's body, and where its body begins. */
function body(item: A.Item): { children: readonly Stmt[]; bodyStart: number } | null {
  switch (item.kind) {
    case "Block": {
      const last = item.params[item.params.length - 1];
      return { children: item.body, bodyStart: last ? last.span.end : item.name.span.end };
    }
    case "Model":
      return { children: item.members, bodyStart: item.name.span.end };
    case "Data":
      return { children: item.fields, bodyStart: item.name.span.end };
    case "Pipeline":
      return { children: item.steps, bodyStart: item.name.span.end };
    default:
      return null;
  }
}

function push(map: Map<A.Node, A.Comment[]>, key: A.Node, c: A.Comment): void {
  const list = map.get(key);
  if (list) list.push(c);
  else map.set(key, [c]);
}

/** Places every comment (in source order) relative to the file's statements. */
export function placeComments(file: A.FileNode, comments: readonly A.Comment[]): CommentPlacement {
  const placement: CommentPlacement = { leading: new Map(), trailing: new Map(), end: new Map() };
  for (const c of comments) place(placement, file, file.items, c);
  return placement;
}

function place(p: CommentPlacement, owner: A.Node, children: readonly Stmt[], c: A.Comment): void {
  const at = c.span.start;
  // Binary search for the last child starting at or before the comment.
  let lo = 0;
  let hi = children.length - 1;
  let prevIdx = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (children[mid]!.span.start <= at) {
      prevIdx = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const prev = prevIdx >= 0 ? children[prevIdx] : undefined;
  if (prev && at < prev.span.end) {
    // Inside a statement: recurse into an item's body, else move before it.
    if (isItem(prev)) {
      const inner = body(prev);
      if (inner && at >= inner.bodyStart) {
        placeInBody(p, prev, inner.children, c);
        return;
      }
    }
    push(p.leading, prev, c);
    return;
  }
  if (c.trailing && prev) {
    push(p.trailing, prev, c);
    return;
  }
  const next = children[prevIdx + 1];
  if (next) push(p.leading, next, c);
  else push(p.end, owner, c);
}

/** Like `place`, for a comment known to be inside an item's body. */
function placeInBody(p: CommentPlacement, item: A.Item, children: readonly Stmt[], c: A.Comment): void {
  const before = children.filter((s) => s.span.start <= c.span.start).length;
  if (before === 0 && c.trailing) {
    // After the opening brace on the header's line: lead the first statement.
    const first = children[0];
    if (first) push(p.leading, first, c);
    else push(p.end, item, c);
    return;
  }
  place(p, item, children, c);
}

function isItem(s: Stmt): s is A.Item {
  return s.kind === "Import" || s.kind === "Block" || s.kind === "Model" || s.kind === "Data" || s.kind === "Pipeline";
}
