import fc from "fast-check";
import type * as A from "../../language/ast.js";

/**
 * fast-check generators of valid repr trees (spans are dummies). Printing a
 * generated tree and parsing the text must give the same tree back.
 *
 * Names may be keywords wherever the contract allows it; a few keywords are
 * kept out of references only where the grammar itself would read them as the
 * start of a statement (`pretrain x on ...`).
 */

const S: A.Span = { start: 0, end: 0 };

const plainNames = ["x", "y", "f", "dense", "relu", "m", "digits", "train", "_a1", "B2", "f32", "layer_norm", "a_rather_long_layer_name_that_makes_lines_wrap"];
const keywordNames = ["input", "output", "model", "data", "on", "with", "test", "head", "mask", "loss", "import", "from", "let", "freeze"];

const nameText = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...plainNames, "as") }, { weight: 1, arbitrary: fc.constantFrom(...keywordNames) });
const name: fc.Arbitrary<A.Name> = nameText.map((text) => ({ kind: "Name", text, span: S }));
/** A segment of a layer path: a name or a stage number (spec/paths.md). */
const number: fc.Arbitrary<A.Name> = fc.integer({ min: 0, max: 30 }).map((n) => ({ kind: "Name", text: String(n), span: S }));
const segment: fc.Arbitrary<A.Name> = fc.oneof(name, number);

const numberRaw = fc.oneof(
  fc.nat({ max: 100000 }).map(String),
  fc.tuple(fc.nat({ max: 999 }), fc.nat({ max: 999 })).map(([a, b]) => `${a}.${b}`),
  fc.tuple(fc.nat({ max: 9 }), fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), fc.nat({ max: 30 })).map(
    ([a, e, s, x]) => `${a}${e}${s}${x}`,
  ),
);

const leaf: fc.Arbitrary<A.Expr> = fc.oneof(
  numberRaw.map((raw): A.Expr => ({ kind: "Number", value: Number(raw), raw, span: S })),
  fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: "binary", maxLength: 4 })).map((value): A.Expr => ({ kind: "String", value, span: S })),
  fc.boolean().map((value): A.Expr => ({ kind: "Bool", value, span: S })),
  { weight: 4, arbitrary: nameText.map((n): A.Expr => ({ kind: "Ident", name: n, span: S })) },
);

/** Arbitrary valid expressions, depth-limited. */
export const expr: fc.Arbitrary<A.Expr> = fc.letrec<{ e: A.Expr }>((tie) => {
  const e = tie("e");
  const small = <T>(a: fc.Arbitrary<T>, min = 0) => fc.array(a, { minLength: min, maxLength: 3 });
  return {
    e: fc.oneof(
      { maxDepth: 4, depthIdentifier: "expr" },
      { weight: 6, arbitrary: leaf },
      small(e).map((items): A.Expr => ({ kind: "List", items, span: S })),
      small(fc.record({ name, value: e })).map((es): A.Expr => ({
        kind: "Map",
        entries: es.map((x) => ({ kind: "Entry", name: x.name, value: x.value, span: S })),
        span: S,
      })),
      fc.record({ callee: e, args: small(fc.record({ name: fc.option(name), value: e })) }).map((c): A.Expr => ({
        kind: "Call",
        callee: c.callee,
        args: c.args.map((a) => ({ kind: "Arg", name: a.name, value: a.value, span: S })),
        span: S,
      })),
      fc.record({ target: e, name: segment }).map((m): A.Expr => ({ kind: "Member", target: m.target, name: m.name, span: S })),
      fc.record({ target: e, indices: small(e, 1) }).map((i): A.Expr => ({ kind: "Index", ...i, span: S })),
      fc.record({ op: fc.constantFrom("+", "-", "*", "/" as const), left: e, right: e }).map((b): A.Expr => ({
        kind: "Binary",
        op: b.op as A.BinaryOp,
        left: b.left,
        right: b.right,
        span: S,
      })),
      e.map((operand): A.Expr => ({ kind: "Unary", op: "-", operand, span: S })),
      fc.array(e, { minLength: 2, maxLength: 4 }).map((stages): A.Expr => ({ kind: "Pipe", stages, span: S })),
      // Stages with names (`dense(64) as proj`); "as" itself is an ordinary name.
      fc.array(fc.record({ stage: e, name: fc.option(name) }), { minLength: 2, maxLength: 4 }).map((st): A.Expr => ({
        kind: "Pipe",
        stages: st.map((x) => x.stage),
        ...(st.some((x) => x.name) ? { names: st.map((x) => x.name) } : {}),
        span: S,
      })),
    ),
  };
}).e;

/** Doc text: lines of safe characters (possibly empty or space-led), or null. */
const doc: fc.Arbitrary<string | null> = fc.option(
  fc.array(fc.stringMatching(/^[ A-Za-z0-9.,:/*()'`-]{0,20}$/), { minLength: 1, maxLength: 3 }).map((ls) => ls.join("\n")),
  { freq: 2 },
);

const map: fc.Arbitrary<A.MapExpr> = fc
  .array(fc.record({ name, value: expr }), { maxLength: 4 })
  .map((es) => ({ kind: "Map", entries: es.map((x) => ({ kind: "Entry", name: x.name, value: x.value, span: S })), span: S }));

const input = fc.record({ name, type: fc.option(expr), doc }).map((r): A.InputDecl => ({ kind: "Input", ...r, span: S }));
const letDecl = fc.record({ name, value: expr, doc }).map((r): A.LetDecl => ({ kind: "Let", ...r, span: S }));
const output = fc.record({ name: fc.option(name), value: expr, doc }).map((r): A.OutputDecl => ({ kind: "Output", ...r, span: S }));

const member: fc.Arbitrary<A.ModelMember> = fc.oneof(
  input,
  fc.record({ role: fc.constantFrom("encoder", "bottleneck", "decoder", "head", "part" as const), name, value: expr, doc }).map(
    (r): A.PartDecl => ({ kind: "Part", ...r, role: r.role as A.PartRole, roleSpan: S, span: S }),
  ),
  fc.record({ name, value: expr, doc }).map((r): A.MaskDecl => ({ kind: "Mask", ...r, span: S })),
  fc.record({ a: name, b: name, value: expr, doc }).map((r): A.ViewsDecl => ({ kind: "Views", names: [r.a, r.b], value: r.value, doc: r.doc, span: S })),
  letDecl,
  fc.record({ name, value: expr, on: fc.option(expr), doc }).map((r): A.LossDecl => ({ kind: "Loss", ...r, span: S })),
  output,
);

/** `f`, `f.2.q`, `f.0..2`. */
const target: fc.Arbitrary<A.LayerTarget> = fc
  .record({ part: name, path: fc.array(segment, { maxLength: 2 }), to: fc.option(number) })
  .map((r): A.LayerTarget => {
    const last = r.path[r.path.length - 1];
    const to = last && /^\d+$/.test(last.text) ? r.to : null;
    return { kind: "LayerTarget", part: r.part, path: r.path, to, span: S };
  });
const targets = fc.array(target, { minLength: 1, maxLength: 3 });

const step: fc.Arbitrary<A.PipelineStep> = fc.oneof(
  fc.record({ model: name, data: expr, config: fc.option(map), doc }).map((r): A.PretrainStep => ({ kind: "Pretrain", ...r, span: S })),
  fc.record({ targets, config: fc.option(map), doc }).map((r): A.FreezeStep => ({ kind: "Freeze", parts: r.targets.map((t) => t.part), ...r, span: S })),
  fc.record({ targets, config: fc.option(map), doc }).map((r): A.UnfreezeStep => ({ kind: "Unfreeze", parts: r.targets.map((t) => t.part), ...r, span: S })),
  fc.record({ part: name, value: expr, doc }).map((r): A.ReplaceStep => ({ kind: "Replace", ...r, span: S })),
  fc.record({ data: expr, config: fc.option(map), doc }).map((r): A.AdaptStep => ({ kind: "Adapt", ...r, span: S })),
  fc.record({ data: expr, config: fc.option(map), doc }).map((r): A.TestStep => ({ kind: "Test", ...r, span: S })),
);

const param = fc.record({ name, type: expr, default: fc.option(expr) }).map((r): A.Param => ({ kind: "Param", ...r, span: S }));

/** A sequential body (one bare expression) or a data-flow body (input, let, output). */
const blockBody: fc.Arbitrary<A.BlockStmt[]> = fc.oneof(
  fc.record({ value: expr, doc }).map((r): A.BlockStmt[] => [{ kind: "ExprStmt", ...r, span: S }]),
  fc.array(fc.oneof(input, letDecl, output), { maxLength: 4 }),
);

const item: fc.Arbitrary<A.Item> = fc.oneof(
  fc.record({ names: fc.option(fc.array(name, { minLength: 1, maxLength: 3 })), path: fc.string({ maxLength: 10 }), doc }).map(
    (r): A.ImportDecl => ({ kind: "Import", names: r.names, path: { kind: "String", value: r.path, span: S }, doc: r.doc, span: S }),
  ),
  fc.record({ name, params: fc.array(param, { maxLength: 3 }), body: blockBody, doc }).map((r): A.BlockDecl => ({ kind: "Block", ...r, span: S })),
  fc.record({ name, members: fc.array(member, { maxLength: 5 }), doc }).map((r): A.ModelDecl => ({ kind: "Model", ...r, span: S })),
  fc.record({ name, fields: fc.array(fc.record({ name, type: expr, doc }), { maxLength: 3 }), doc }).map((r): A.DataDecl => ({
    kind: "Data",
    name: r.name,
    fields: r.fields.map((f) => ({ kind: "Field", ...f, span: S })),
    doc: r.doc,
    span: S,
  })),
  fc.record({ name, steps: fc.array(step, { maxLength: 4 }), doc }).map((r): A.PipelineDecl => ({ kind: "Pipeline", ...r, span: S })),
);

/** Arbitrary valid files (without comments). */
export const file: fc.Arbitrary<A.FileNode> = fc
  .array(item, { maxLength: 4 })
  .map((items) => ({ kind: "File", items, comments: [], span: S }));

/** Fragments of repr source, valid and not, for "never throws" tests. */
export const fragments = fc.constantFrom(
  "model", "block", "data", "pipeline", "import", "from", "input", "let", "output", "encoder", "decoder", "head",
  "mask", "views", "loss", "on", "pretrain", "freeze", "unfreeze", "replace", "with", "adapt", "test", "true", "false",
  "x", "M", "dense", "12", "1.5", "1e-4", "\"s\"", "\"open", "{", "}", "(", ")", "[", "]", ",", ":", "=", ".", "->",
  "+", "-", "*", "/", "//", "///", "/*", "*/", "\n", " ", "@", "\\", "é", "😀", "\u0000",
);
