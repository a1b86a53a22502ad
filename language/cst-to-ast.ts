import type { CstNode, IToken } from "chevrotain";
import type * as A from "./ast.js";
import type { Source } from "./source.js";
import { decodeString, UnterminatedString } from "./lexer.js";
import type { DocTable } from "./doc-comments.js";
import { ExpressionLevels } from "./nesting.js";
import { diagnostic, type Diagnostic } from "./diagnostics/diagnostic.js";
import { messages } from "./diagnostics/messages.js";

/**
 * Builds the AST from Chevrotain's concrete syntax tree.
 *
 * The CST may hold partial nodes where the parser recovered from an error, so
 * every accessor here is defensive: a missing expression becomes an
 * `ErrorExpr`, a missing name an empty `Name`, and tokens the parser invented
 * (`isInsertedInRecovery`, with no offsets) never contribute to a span.
 *
 * Two problems are found here rather than in the grammar: an int literal
 * beyond 2^53 - 1 (RC115) and an expression tree deeper than
 * `MAX_EXPRESSION_LEVELS` (RC113); both become an `ErrorExpr`.
 */

type Kids = Record<string, (CstNode | IToken)[] | undefined>;

function kids(node: CstNode): Kids {
  return node.children as Kids;
}

function isToken(x: CstNode | IToken): x is IToken {
  return (x as IToken).tokenType !== undefined;
}

/** True for a token that really occurs in the text. */
function real(t: IToken | undefined): t is IToken {
  return t !== undefined && Number.isFinite(t.startOffset) && !t.isInsertedInRecovery;
}

const none: never[] = [];

/** The tokens under a label (each label holds only tokens or only nodes). */
function tokens(node: CstNode, label: string): readonly IToken[] {
  return (kids(node)[label] as IToken[] | undefined) ?? none;
}

function token(node: CstNode, label: string): IToken | undefined {
  const list = tokens(node, label);
  for (const t of list) if (real(t)) return t;
  return undefined;
}

function nodes(node: CstNode, label: string): readonly CstNode[] {
  return (kids(node)[label] as CstNode[] | undefined) ?? none;
}

function node(n: CstNode, label: string): CstNode | undefined {
  return nodes(n, label)[0];
}

function tokEnd(t: IToken): number {
  return t.startOffset + t.image.length;
}

/**
 * The span of the real tokens under a CST node (Chevrotain tracks it as it
 * parses; invented tokens have no offsets and do not count); `at` if none.
 */
function cstSpan(n: CstNode, at: number): A.Span {
  const loc = n.location;
  if (!loc || !Number.isFinite(loc.startOffset) || !Number.isFinite(loc.endOffset)) return { start: at, end: at };
  return { start: loc.startOffset, end: (loc.endOffset as number) + 1 };
}

function span(start: number, end: number): A.Span {
  return { start, end: Math.max(start, end) };
}

/** Binding strength of a binary operator token: `->` 1, `+ -` 2, `* /` 3. */
function rank(op: IToken): number {
  return op.image === "->" ? 1 : op.image === "+" || op.image === "-" ? 2 : 3;
}

function errorExpr(at: number): A.ErrorExpr {
  return { kind: "ErrorExpr", span: { start: at, end: at } };
}

function tokenSpanOf(t: IToken | undefined, fallback: A.Span): A.Span {
  return real(t) ? span(t.startOffset, tokEnd(t)) : fallback;
}

/** An int literal (no `.`, no exponent) whose value is not exactly representable. */
function unsafeInteger(raw: string): boolean {
  return /^\d+$/.test(raw) && !Number.isSafeInteger(Number(raw));
}

function nameOf(t: IToken | undefined, at: number): A.Name {
  if (!real(t)) return { kind: "Name", text: "", span: { start: at, end: at } };
  return { kind: "Name", text: t.image, span: span(t.startOffset, tokEnd(t)) };
}

/** Converts CST to AST for one file; `docs` supplies and records `///` comments. */
export class AstBuilder {
  /** Problems found while building: unsafe integers, expressions nested too deeply. */
  readonly diagnostics: Diagnostic[] = [];
  private readonly levels: ExpressionLevels;
  /** Map entries whose key is a path, and the entries of the maps that may have them (lr_scale tables). */
  private readonly pathKeys: { entries: A.MapEntry[]; index: number }[] = [];
  private readonly pathTables = new WeakSet<readonly A.MapEntry[]>();

  constructor(
    private readonly docs: DocTable,
    private readonly source: Source,
  ) {
    this.levels = new ExpressionLevels(source, this.diagnostics);
  }

  file(root: CstNode | undefined, length: number, comments: readonly A.Comment[]): A.FileNode {
    const items: A.Item[] = [];
    for (const item of root ? nodes(root, "item") : []) {
      const built = this.item(item);
      if (built) items.push(built);
    }
    this.checkPathKeys();
    return { kind: "File", items, comments, span: { start: 0, end: length } };
  }

  private item(n: CstNode): A.Item | null {
    const k = kids(n);
    if (k["importDecl"]) return this.importDecl(nodes(n, "importDecl")[0]!);
    if (k["blockDecl"]) return this.blockDecl(nodes(n, "blockDecl")[0]!);
    if (k["modelDecl"]) return this.modelDecl(nodes(n, "modelDecl")[0]!);
    if (k["dataDecl"]) return this.dataDecl(nodes(n, "dataDecl")[0]!);
    if (k["pipelineDecl"]) return this.pipelineDecl(nodes(n, "pipelineDecl")[0]!);
    return null;
  }

  /** Span and doc of a declaration-like node starting at its first real token. */
  private head(n: CstNode, at: number): { span: A.Span; doc: string | null } {
    const s = cstSpan(n, at);
    return { span: s, doc: this.docs.take(s.start) };
  }

  private importDecl(n: CstNode): A.ImportDecl {
    const { span: s, doc } = this.head(n, 0);
    const pathTok = token(n, "path");
    const path: A.StringLit = real(pathTok)
      ? { kind: "String", value: decodeString(pathTok.image, pathTok.tokenType !== UnterminatedString), span: span(pathTok.startOffset, tokEnd(pathTok)) }
      : { kind: "String", value: "", span: { start: s.end, end: s.end } };
    const braced = tokens(n, "LCurly").length > 0;
    const names = braced ? tokens(n, "names").filter(real).map((t) => nameOf(t, t.startOffset)) : null;
    return { kind: "Import", names, path, doc, span: s };
  }

  private blockDecl(n: CstNode): A.BlockDecl {
    const { span: s, doc } = this.head(n, 0);
    const name = this.nameAfter(n, "name", s.start);
    const params = nodes(n, "param").map((p) => this.param(p, name.span.end));
    const body: A.BlockStmt[] = [];
    for (const st of nodes(n, "blockStmt")) {
      const built = this.blockStmt(st, s.end);
      if (built) body.push(built);
    }
    return { kind: "Block", name, params, body, doc, span: s };
  }

  private param(n: CstNode, at: number): A.Param {
    const s = cstSpan(n, at);
    const name = this.nameAfter(n, "name", s.start);
    const typeNode = node(n, "type");
    const defNode = node(n, "default");
    const type = typeNode ? this.expr(typeNode, name.span.end) : null;
    const def = defNode ? this.expr(defNode, type?.span.end ?? s.end) : tokens(n, "Equals").some(real) ? errorExpr(s.end) : null;
    return { kind: "Param", name, type, default: def, span: s };
  }

  private blockStmt(n: CstNode, at: number): A.BlockStmt | null {
    const k = kids(n);
    if (k["inputDecl"]) return this.inputDecl(nodes(n, "inputDecl")[0]!, at);
    if (k["letDecl"]) return this.letDecl(nodes(n, "letDecl")[0]!, at);
    if (k["outputDecl"]) return this.outputDecl(nodes(n, "outputDecl")[0]!, at);
    const e = node(n, "expr");
    if (!e) return null;
    const value = this.expr(e, at);
    if (value.kind === "ErrorExpr" && value.span.start === value.span.end) return null;
    return { kind: "ExprStmt", value, doc: this.docs.take(value.span.start), span: value.span };
  }

  private modelDecl(n: CstNode): A.ModelDecl {
    const { span: s, doc } = this.head(n, 0);
    const name = this.nameAfter(n, "name", s.start);
    const members: A.ModelMember[] = [];
    for (const m of nodes(n, "member")) {
      const built = this.member(m, s.end);
      if (built) members.push(built);
    }
    return { kind: "Model", name, members, doc, span: s };
  }

  private member(n: CstNode, at: number): A.ModelMember | null {
    const k = kids(n);
    if (k["inputDecl"]) return this.inputDecl(nodes(n, "inputDecl")[0]!, at);
    if (k["partDecl"]) return this.partDecl(nodes(n, "partDecl")[0]!, at);
    if (k["maskDecl"]) return this.maskDecl(nodes(n, "maskDecl")[0]!, at);
    if (k["viewsDecl"]) return this.viewsDecl(nodes(n, "viewsDecl")[0]!, at);
    if (k["letDecl"]) return this.letDecl(nodes(n, "letDecl")[0]!, at);
    if (k["lossDecl"]) return this.lossDecl(nodes(n, "lossDecl")[0]!, at);
    if (k["outputDecl"]) return this.outputDecl(nodes(n, "outputDecl")[0]!, at);
    return null;
  }

  private inputDecl(n: CstNode, at: number): A.InputDecl {
    const { span: s, doc } = this.head(n, at);
    const name = this.nameAfter(n, "name", s.start);
    const t = node(n, "type");
    const type = t ? this.expr(t, name.span.end) : tokens(n, "Colon").some(real) ? errorExpr(s.end) : null;
    return { kind: "Input", name, type, doc, span: s };
  }

  private partDecl(n: CstNode, at: number): A.PartDecl {
    const { span: s, doc } = this.head(n, at);
    const roleTok = token(n, "role");
    const role = (roleTok?.image ?? "part") as A.PartRole;
    const roleSpan = roleTok ? span(roleTok.startOffset, tokEnd(roleTok)) : { start: s.start, end: s.start };
    const name = this.nameAfter(n, "name", roleSpan.end);
    const value = this.valueOf(n, "value", s.end);
    return { kind: "Part", role, roleSpan, name, value, doc, span: s };
  }

  private maskDecl(n: CstNode, at: number): A.MaskDecl {
    const { span: s, doc } = this.head(n, at);
    const name = this.nameAfter(n, "name", s.start);
    return { kind: "Mask", name, value: this.valueOf(n, "value", s.end), doc, span: s };
  }

  private viewsDecl(n: CstNode, at: number): A.ViewsDecl {
    const { span: s, doc } = this.head(n, at);
    const names = tokens(n, "names").map((t) => nameOf(t, s.end));
    return { kind: "Views", names, value: this.valueOf(n, "value", s.end), doc, span: s };
  }

  private letDecl(n: CstNode, at: number): A.LetDecl {
    const { span: s, doc } = this.head(n, at);
    const name = this.nameAfter(n, "name", s.start);
    return { kind: "Let", name, value: this.valueOf(n, "value", s.end), doc, span: s };
  }

  private lossDecl(n: CstNode, at: number): A.LossDecl {
    const { span: s, doc } = this.head(n, at);
    const name = this.nameAfter(n, "name", s.start);
    const value = this.valueOf(n, "value", s.end);
    const onNode = node(n, "on");
    const on = onNode ? this.expr(onNode, value.span.end) : tokens(n, "On").some(real) ? errorExpr(s.end) : null;
    return { kind: "Loss", name, value, on, doc, span: s };
  }

  private outputDecl(n: CstNode, at: number): A.OutputDecl {
    const { span: s, doc } = this.head(n, at);
    const nameTok = token(n, "name");
    const name = nameTok && real(nameTok) ? nameOf(nameTok, s.start) : null;
    return { kind: "Output", name, value: this.valueOf(n, "value", s.end), doc, span: s };
  }

  private dataDecl(n: CstNode): A.DataDecl {
    const { span: s, doc } = this.head(n, 0);
    const name = this.nameAfter(n, "name", s.start);
    const fields = nodes(n, "field").map((f) => {
      const fs = cstSpan(f, s.end);
      const fname = this.nameAfter(f, "name", fs.start);
      const field: A.FieldDecl = {
        kind: "Field",
        name: fname,
        type: this.valueOf(f, "type", fs.end),
        doc: this.docs.take(fs.start),
        span: fs,
      };
      return field;
    });
    return { kind: "Data", name, fields, doc, span: s };
  }

  private pipelineDecl(n: CstNode): A.PipelineDecl {
    const { span: s, doc } = this.head(n, 0);
    const name = this.nameAfter(n, "name", s.start);
    const steps: A.PipelineStep[] = [];
    for (const st of nodes(n, "step")) {
      const built = this.step(st, s.end);
      if (built) steps.push(built);
    }
    return { kind: "Pipeline", name, steps, doc, span: s };
  }

  private step(wrapper: CstNode, at: number): A.PipelineStep | null {
    const inner = Object.values(kids(wrapper))[0]?.[0];
    if (!inner || isToken(inner)) return null;
    const n = inner;
    const { span: s, doc } = this.head(n, at);
    const config = (): A.MapExpr | null => {
      const c = node(n, "config");
      return c ? this.map(c, s.end) : null;
    };
    switch (n.name) {
      case "pretrainStep":
        return { kind: "Pretrain", model: this.nameAfter(n, "name", s.start), data: this.valueOf(n, "data", s.end), config: config(), doc, span: s };
      case "freezeStep":
      case "unfreezeStep": {
        const targets = nodes(n, "targets").flatMap((t) => this.layerTarget(t, s.end));
        const kind = n.name === "freezeStep" ? "Freeze" : "Unfreeze";
        return { kind, parts: targets.map((t) => t.part), targets, config: config(), doc, span: s };
      }
      case "replaceStep":
        return { kind: "Replace", part: this.nameAfter(n, "name", s.start), value: this.valueOf(n, "value", s.end), doc, span: s };
      case "adaptStep":
        return { kind: "Adapt", data: this.valueOf(n, "data", s.end), config: config(), doc, span: s };
      case "testStep":
        return { kind: "Test", data: this.valueOf(n, "data", s.end), config: config(), doc, span: s };
      default:
        return null;
    }
  }

  /** `f.0..2`: a part and a path; none when the parser recovered without the part's name. */
  private layerTarget(n: CstNode, at: number): A.LayerTarget[] {
    const part = token(n, "part");
    if (!part || !real(part)) return [];
    const path = tokens(n, "segments").filter(real).map((t) => nameOf(t, at));
    const toTok = token(n, "to");
    const to = toTok && real(toTok) ? nameOf(toTok, at) : null;
    // A range runs from a stage (by number or name) to a stage number: `f.0..2`, `f.code..4`.
    const last = path[path.length - 1];
    if (to && (!/^\d+$/.test(to.text) || !last)) {
      this.diagnostics.push(diagnostic(messages.badRange, this.source, to.span, { text: this.source.slice(span(part.startOffset, to.span.end)) }));
    }
    const end = to?.span.end ?? last?.span.end ?? tokEnd(part);
    return [{ kind: "LayerTarget", part: nameOf(part, at), path, to, span: span(part.startOffset, end) }];
  }

  private nameAfter(n: CstNode, label: string, at: number): A.Name {
    return nameOf(token(n, label), at);
  }

  private valueOf(n: CstNode, label: string, at: number): A.Expr {
    const e = node(n, label);
    return e ? this.expr(e, at) : errorExpr(at);
  }

  // ------------------------------------------------------------ expressions

  /**
   * Expr: operands joined by operators, built by precedence climbing.
   * `->` binds loosest and its chains stay flat; `+ -` and `* /` associate left.
   */
  expr(n: CstNode, at: number): A.Expr {
    const operands = nodes(n, "operands").map((o) => this.operand(o, at));
    const ops = tokens(n, "ops");
    if (operands.length === 0) return errorExpr(at);
    // Stage names (`a -> b as n -> c`): each belongs to the operand it follows, which must be a whole stage.
    const aliases = new Map<A.Expr, A.Name>();
    nodes(n, "operands").forEach((o, j) => {
      const alias = token(o, "alias");
      if (alias && real(alias)) aliases.set(operands[j]!, nameOf(alias, at));
    });
    let i = 0;
    let k = 0;
    const climb = (min: number, from: number): A.Expr => {
      // A missing operand (after a trailing operator) becomes an ErrorExpr.
      let left = operands[k++] ?? errorExpr(from);
      let pipe: A.Expr[] | null = null;
      let deepestStage = 0;
      while (i < ops.length && rank(ops[i]!) >= min) {
        const op = ops[i++]!;
        const r = rank(op);
        const right = climb(r + 1, real(op) ? tokEnd(op) : left.span.end);
        const at = tokenSpanOf(op, left.span);
        if (r === 1) {
          if (!pipe) {
            pipe = [left];
            deepestStage = this.levels.of(left);
          }
          pipe.push(right);
          deepestStage = Math.max(deepestStage, this.levels.of(right));
          left = this.levels.nested({ kind: "Pipe", stages: pipe, span: span(pipe[0]!.span.start, right.span.end) }, deepestStage, at);
        } else {
          const binary: A.BinaryExpr = { kind: "Binary", op: op.image as A.BinaryOp, left, right, span: span(left.span.start, right.span.end) };
          left = this.levels.nested(binary, Math.max(this.levels.of(left), this.levels.of(right)), at);
        }
      }
      return left;
    };
    const result = climb(1, at);
    if (aliases.size > 0) return this.nameStages(result, aliases);
    return result;
  }

  /** Puts stage names on the pipe; a name on anything but a whole stage of a pipe is RC121. */
  private nameStages(e: A.Expr, aliases: Map<A.Expr, A.Name>): A.Expr {
    let named = e;
    if (e.kind === "Pipe" && e.stages.some((st) => aliases.has(st))) {
      named = { ...e, names: e.stages.map((st) => aliases.get(st) ?? null) };
      for (const st of e.stages) aliases.delete(st);
    }
    for (const alias of aliases.values()) this.diagnostics.push(diagnostic(messages.misplacedStageName, this.source, alias.span, { name: alias.text }));
    return named;
  }

  /** Operand: leading minus signs, a primary, then calls, members and indexes. */
  private operand(n: CstNode, at: number): A.Expr {
    const minus = tokens(n, "minus").filter(real);
    let e: A.Expr = this.primary(n, minus.length ? tokEnd(minus[minus.length - 1]!) : at);
    for (const s of nodes(n, "suffixes")) e = this.suffix(s, e);
    for (let j = minus.length - 1; j >= 0; j--) {
      const m = minus[j]!;
      e = this.levels.nested({ kind: "Unary", op: "-", operand: e, span: span(m.startOffset, e.span.end) }, this.levels.of(e), tokenSpanOf(m, e.span));
    }
    return e;
  }

  private suffix(n: CstNode, target: A.Expr): A.Expr {
    const start = target.span.start;
    const end = (fallback: number) => Math.max(cstSpan(n, fallback).end, fallback);
    const targetLevel = this.levels.of(target);
    if (tokens(n, "LParen").length > 0) {
      const args = nodes(n, "args").map((a) => this.arg(a, target.span.end));
      const last = args[args.length - 1]?.span.end ?? target.span.end;
      const call: A.CallExpr = { kind: "Call", callee: target, args, span: span(start, end(last)) };
      const deepest = Math.max(targetLevel, this.levels.deepest(args.map((a) => a.value)));
      return this.levels.nested(call, deepest, tokenSpanOf(token(n, "LParen"), call.span));
    }
    if (tokens(n, "Dot").length > 0) {
      const nameTok = token(n, "name");
      if (!nameTok) return this.levels.keep({ kind: "ErrorExpr", span: span(start, end(target.span.end)) }, targetLevel);
      const member: A.MemberExpr = { kind: "Member", target, name: nameOf(nameTok, target.span.end), span: span(start, tokEnd(nameTok)) };
      return this.levels.nested(member, targetLevel, tokenSpanOf(token(n, "Dot"), member.span));
    }
    const indices = nodes(n, "indices").map((i) => this.expr(i, target.span.end));
    const last = indices[indices.length - 1]?.span.end ?? target.span.end;
    const index: A.IndexExpr = { kind: "Index", target, indices, span: span(start, end(last)) };
    return this.levels.nested(index, Math.max(targetLevel, this.levels.deepest(indices)), tokenSpanOf(token(n, "LBracket"), index.span));
  }

  private arg(n: CstNode, at: number): A.Arg {
    const s = cstSpan(n, at);
    const nameTok = token(n, "name");
    const name = nameTok ? nameOf(nameTok, at) : null;
    const value = this.valueOf(n, "value", s.end);
    return { kind: "Arg", name, value, span: span(s.start, Math.max(s.end, value.span.end)) };
  }

  private primary(n: CstNode, at: number): A.Expr {
    const num = token(n, "number");
    if (num) {
      const s = span(num.startOffset, tokEnd(num));
      if (unsafeInteger(num.image)) {
        const raw = num.image.length > 24 ? `${num.image.slice(0, 21)}...` : num.image;
        this.diagnostics.push(diagnostic(messages.unsafeInteger, this.source, s, { raw }));
        return { kind: "ErrorExpr", span: s };
      }
      return { kind: "Number", value: Number(num.image), raw: num.image, span: s };
    }
    const str = token(n, "string");
    if (str) {
      const value = decodeString(str.image, str.tokenType !== UnterminatedString);
      return { kind: "String", value, span: span(str.startOffset, tokEnd(str)) };
    }
    const bool = token(n, "bool");
    if (bool) return { kind: "Bool", value: bool.image === "true", span: span(bool.startOffset, tokEnd(bool)) };
    const name = token(n, "name");
    if (name) return { kind: "Ident", name: name.image, span: span(name.startOffset, tokEnd(name)) };
    const list = node(n, "list");
    if (list) {
      const s = cstSpan(list, at);
      const items = nodes(list, "items").map((i) => this.expr(i, s.start));
      return this.levels.nested({ kind: "List", items, span: s }, this.levels.deepest(items), { start: s.start, end: s.start + 1 });
    }
    const map = node(n, "map");
    if (map) {
      const m = this.map(map, at);
      return this.levels.nested(m, this.levels.deepest(m.entries.map((e) => e.value)), { start: m.span.start, end: m.span.start + 1 });
    }
    const inner = node(n, "inner");
    if (inner) {
      // Parentheses leave no node of their own; the inner node's span covers them.
      const e = this.expr(inner, at);
      const open = token(n, "LParen");
      const close = token(n, "RParen");
      const start = open ? Math.min(open.startOffset, e.span.start) : e.span.start;
      const end = close ? Math.max(tokEnd(close), e.span.end) : e.span.end;
      return this.levels.keep({ ...e, span: span(start, end) }, this.levels.of(e));
    }
    const elided = token(n, "elided");
    if (elided) return { kind: "ErrorExpr", span: span(elided.startOffset, tokEnd(elided)) };
    return errorExpr(at);
  }

  private map(n: CstNode, at: number): A.MapExpr {
    const s = cstSpan(n, at);
    const entries = nodes(n, "entries").map((e): A.MapEntry => {
      const es = cstSpan(e, s.start);
      const key = node(e, "key");
      const name = key ? this.nameAfter(key, "part", es.start) : nameOf(undefined, es.start);
      const value = this.valueOf(e, "value", es.end);
      // A key with a path, `f.3: 0.1` (spec/paths.md); only an lr_scale table may have one, checked in `file`.
      const target = key && (tokens(key, "segments").length > 0 || tokens(key, "to").length > 0) ? this.layerTarget(key, es.start)[0] : undefined;
      return target ? { kind: "Entry", name, target, value, span: es } : { kind: "Entry", name, value, span: es };
    });
    entries.forEach((e, index) => {
      if (e.target) this.pathKeys.push({ entries, index });
      // The table of `lr_scale: { ... }` takes paths; parentheses copy the map but keep its entries.
      if (e.name.text === "lr_scale" && e.value.kind === "Map") this.pathTables.add(e.value.entries);
    });
    return { kind: "Map", entries, span: s };
  }

  /** Keys with a path outside an lr_scale table: reported (RC122) and kept as their part's name. */
  private checkPathKeys(): void {
    for (const { entries, index } of this.pathKeys) {
      if (this.pathTables.has(entries)) continue;
      const { target, ...plain } = entries[index]!;
      this.diagnostics.push(diagnostic(messages.pathKey, this.source, target!.span, { text: this.source.slice(target!.span), name: plain.name.text }));
      entries[index] = plain;
    }
    this.pathKeys.length = 0;
  }
}
