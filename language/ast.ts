/**
 * The abstract syntax tree of a `.repr` file.
 *
 * Every node is a `kind`-tagged, readonly record that carries its source span
 * (offsets into the file's text). The tree knows nothing of tensors: what a
 * call such as `dense(256)` means is decided by the compiler's checker.
 */

/** A half-open range of offsets `[start, end)` into a source text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

interface NodeBase {
  readonly span: Span;
}

/** An identifier as written, with its own span (for precise diagnostics). */
export interface Name extends NodeBase {
  readonly kind: "Name";
  readonly text: string;
}

/** A `//` or `/* *\/` comment, kept so the formatter can put it back. */
export interface Comment extends NodeBase {
  readonly kind: "Comment";
  readonly style: "line" | "block";
  /** The comment's full text, delimiters included. */
  readonly text: string;
  /** True when code precedes the comment on its line (`output x // why`). */
  readonly trailing?: boolean;
}

// ---------------------------------------------------------------- expressions

export interface NumberLit extends NodeBase {
  readonly kind: "Number";
  readonly value: number;
  /** The literal as written (`1.5e-4`), so printing keeps the author's form. */
  readonly raw: string;
}

export interface StringLit extends NodeBase {
  readonly kind: "String";
  /** The decoded value (escapes resolved). */
  readonly value: string;
}

export interface BoolLit extends NodeBase {
  readonly kind: "Bool";
  readonly value: boolean;
}

/** A reference to a name: a layer, a block, a part, a value, a parameter. */
export interface Ident extends NodeBase {
  readonly kind: "Ident";
  readonly name: string;
}

/** `[a, b, c]` */
export interface ListExpr extends NodeBase {
  readonly kind: "List";
  readonly items: readonly Expr[];
}

/** One argument of a call: positional (`256`) or named (`ratio: 0.75`). */
export interface Arg extends NodeBase {
  readonly kind: "Arg";
  readonly name: Name | null;
  readonly value: Expr;
}

/** `callee(args)`: configures a layer, or applies a part to values. */
export interface CallExpr extends NodeBase {
  readonly kind: "Call";
  readonly callee: Expr;
  readonly args: readonly Arg[];
}

/** `target.name`, e.g. `m.masked`, `digits.train`. */
export interface MemberExpr extends NodeBase {
  readonly kind: "Member";
  readonly target: Expr;
  readonly name: Name;
}

/** `target[i, j]`: tensor types such as `f32[1, 28, 28]`. */
export interface IndexExpr extends NodeBase {
  readonly kind: "Index";
  readonly target: Expr;
  readonly indices: readonly Expr[];
}

export type BinaryOp = "+" | "-" | "*" | "/";

export interface BinaryExpr extends NodeBase {
  readonly kind: "Binary";
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}

export interface UnaryExpr extends NodeBase {
  readonly kind: "Unary";
  readonly op: "-";
  readonly operand: Expr;
}

/**
 * `a -> b -> c`: composition of layers, or (when the first stage is a value)
 * application of the layers to that value. Chains are kept flat.
 */
export interface PipeExpr extends NodeBase {
  readonly kind: "Pipe";
  readonly stages: readonly Expr[];
  /** Each stage's name (`dense(64) as proj`, spec/paths.md), or null; absent when no stage has one. */
  readonly names?: readonly (Name | null)[];
}

/** `key: value` inside a map. */
export interface MapEntry extends NodeBase {
  readonly kind: "Entry";
  readonly name: Name;
  readonly value: Expr;
}

/** `{ epochs: 10, optimizer: adam(lr: 1e-3) }`: settings of a pipeline step, `lr_scale` tables. */
export interface MapExpr extends NodeBase {
  readonly kind: "Map";
  readonly entries: readonly MapEntry[];
}

/** Stands where the parser recovered from an error; the checker skips it. */
export interface ErrorExpr extends NodeBase {
  readonly kind: "ErrorExpr";
}

export type Expr =
  | NumberLit
  | StringLit
  | BoolLit
  | Ident
  | ListExpr
  | CallExpr
  | MemberExpr
  | IndexExpr
  | BinaryExpr
  | UnaryExpr
  | PipeExpr
  | MapExpr
  | ErrorExpr;

// ------------------------------------------------------------ shared members

/** Fields every declaration may carry: its `///` doc comment. */
interface Documented {
  /** Text of the `///` lines before the declaration, without the slashes; null if none. */
  readonly doc: string | null;
}

/** `input name: type` — a model input, or a block input in a data-flow block. */
export interface InputDecl extends NodeBase, Documented {
  readonly kind: "Input";
  readonly name: Name;
  readonly type: Expr | null;
}

/** `let name = expr` — a named value. */
export interface LetDecl extends NodeBase, Documented {
  readonly kind: "Let";
  readonly name: Name;
  readonly value: Expr;
}

/** `output expr` — the value a data-flow block or a model returns. */
export interface OutputDecl extends NodeBase, Documented {
  readonly kind: "Output";
  /** A named output's name (`output attention = ...`); null for the model's (or a block's) one output. */
  readonly name: Name | null;
  readonly value: Expr;
}

// ---------------------------------------------------------------- top level

/** `import "path"` or `import { a, b } from "path"`. */
export interface ImportDecl extends NodeBase, Documented {
  readonly kind: "Import";
  /** The names imported, or null for "everything the file declares". */
  readonly names: readonly Name[] | null;
  readonly path: StringLit;
}

/** `name: type = default` in a block's parameter list. */
export interface Param extends NodeBase {
  readonly kind: "Param";
  readonly name: Name;
  readonly type: Expr | null;
  readonly default: Expr | null;
}

/** A bare layer expression: the body of a sequential block. */
export interface ExprStmt extends NodeBase, Documented {
  readonly kind: "ExprStmt";
  readonly value: Expr;
}

export type BlockStmt = InputDecl | LetDecl | OutputDecl | ExprStmt;

/** `block name(params) { body }` — a reusable, parametric layer. */
export interface BlockDecl extends NodeBase, Documented {
  readonly kind: "Block";
  readonly name: Name;
  readonly params: readonly Param[];
  readonly body: readonly BlockStmt[];
}

export type PartRole = "encoder" | "bottleneck" | "decoder" | "head" | "part";

/** `encoder f = expr` and the other roles. */
export interface PartDecl extends NodeBase, Documented {
  readonly kind: "Part";
  readonly role: PartRole;
  readonly roleSpan: Span;
  readonly name: Name;
  readonly value: Expr;
}

/** `mask m = strategy(...)` — what is hidden from the model. */
export interface MaskDecl extends NodeBase, Documented {
  readonly kind: "Mask";
  readonly name: Name;
  readonly value: Expr;
}

/** `views a, b = augment(x, ...)` — two augmented views of one example. */
export interface ViewsDecl extends NodeBase, Documented {
  readonly kind: "Views";
  readonly names: readonly Name[];
  readonly value: Expr;
}

/** `loss name = objective on positions` — one term of the training objective. */
export interface LossDecl extends NodeBase, Documented {
  readonly kind: "Loss";
  readonly name: Name;
  readonly value: Expr;
  /** `on m.masked`: restrict the loss to the positions a mask hid. */
  readonly on: Expr | null;
}

export type ModelMember =
  | InputDecl
  | PartDecl
  | MaskDecl
  | ViewsDecl
  | LetDecl
  | LossDecl
  | OutputDecl;

/** `model Name { members }`. */
export interface ModelDecl extends NodeBase, Documented {
  readonly kind: "Model";
  readonly name: Name;
  readonly members: readonly ModelMember[];
}

/** `name: type` inside a data declaration. */
export interface FieldDecl extends NodeBase, Documented {
  readonly kind: "Field";
  readonly name: Name;
  readonly type: Expr;
}

/** `data Name { fields }` — a data set's fields, bound to a source at run time. */
export interface DataDecl extends NodeBase, Documented {
  readonly kind: "Data";
  readonly name: Name;
  readonly fields: readonly FieldDecl[];
}

/** `pretrain Model on data { settings }` */
export interface PretrainStep extends NodeBase, Documented {
  readonly kind: "Pretrain";
  readonly model: Name;
  readonly data: Expr;
  readonly config: MapExpr | null;
}

/** `freeze f, g { settings }` */
export interface FreezeStep extends NodeBase, Documented {
  readonly kind: "Freeze";
  /** The part of each target. */
  readonly parts: readonly Name[];
  /** What is frozen: parts, or layers inside them (spec/paths.md). */
  readonly targets: readonly LayerTarget[];
  readonly config: MapExpr | null;
}

/** `f`, `f.2.1`, `f.0..2`, `f.stem`: a part, or layers inside it by path (spec/paths.md). */
export interface LayerTarget extends NodeBase {
  readonly kind: "LayerTarget";
  readonly part: Name;
  /** The path's segments after the part: numbers (as written) and names. */
  readonly path: readonly Name[];
  /** `..n`: the last number of a range of stages, whose first is the path's last segment. */
  readonly to: Name | null;
}

/** `unfreeze f { settings }` */
export interface UnfreezeStep extends NodeBase, Documented {
  readonly kind: "Unfreeze";
  /** The part of each target. */
  readonly parts: readonly Name[];
  readonly targets: readonly LayerTarget[];
  readonly config: MapExpr | null;
}

/** `replace W with expr` */
export interface ReplaceStep extends NodeBase, Documented {
  readonly kind: "Replace";
  readonly part: Name;
  readonly value: Expr;
}

/** `adapt on data { settings }` */
export interface AdaptStep extends NodeBase, Documented {
  readonly kind: "Adapt";
  readonly data: Expr;
  readonly config: MapExpr | null;
}

/** `test on data { settings }` */
export interface TestStep extends NodeBase, Documented {
  readonly kind: "Test";
  readonly data: Expr;
  readonly config: MapExpr | null;
}

export type PipelineStep =
  | PretrainStep
  | FreezeStep
  | UnfreezeStep
  | ReplaceStep
  | AdaptStep
  | TestStep;

/** `pipeline Name { steps }` — pretrain, freeze, replace, adapt, test. */
export interface PipelineDecl extends NodeBase, Documented {
  readonly kind: "Pipeline";
  readonly name: Name;
  readonly steps: readonly PipelineStep[];
}

export type Item = ImportDecl | BlockDecl | ModelDecl | DataDecl | PipelineDecl;

/** A whole `.repr` file. */
export interface FileNode extends NodeBase {
  readonly kind: "File";
  readonly items: readonly Item[];
  /** Ordinary comments, in source order (doc comments live on their declarations). */
  readonly comments: readonly Comment[];
}

export type Node =
  | FileNode
  | Item
  | ModelMember
  | BlockStmt
  | Param
  | FieldDecl
  | PipelineStep
  | MapEntry
  | Arg
  | Name
  | Expr;
