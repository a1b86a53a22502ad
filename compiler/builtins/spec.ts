/**
 * The shape of a built-in: its typed parameters and, depending on its kind, a
 * shape rule and a parameter-count rule.
 *
 * Built-ins are plain data plus pure functions over tensor types. They know
 * nothing of syntax: the checker binds call arguments to these parameters,
 * then asks the rules for output types and parameter counts.
 */
import type { MessageTemplate } from "../../language/diagnostics/messages.js";
import type { MessageArgs } from "../../language/diagnostics/diagnostic.js";
import type { NodeId } from "../check/program.js";
import type { TensorType } from "../check/types.js";

/** The type of a parameter, with the range of values it accepts. */
export type ParamType =
  | { readonly kind: "int"; readonly min?: number; readonly max?: number }
  | {
      readonly kind: "float";
      readonly min?: number;
      readonly max?: number;
      /** True when `min` itself is excluded: `(0, 1)`. */
      readonly openMin?: boolean;
      readonly openMax?: boolean;
    }
  | { readonly kind: "bool" }
  | { readonly kind: "string" }
  /** An identifier from a fixed set, written bare: `padding: same`; with `list`, a list of distinct ones: `special: [pad, mask]`. */
  | { readonly kind: "enum"; readonly values: readonly string[]; readonly list?: boolean }
  /** A token id: an int ≥ 0, or a special token of the value's type by name (`mask_token: mask`). */
  | { readonly kind: "tokenId" }
  | { readonly kind: "list"; readonly item: "int" | "float" | "any"; readonly minItems?: number }
  /** A layer: a built-in, a configured layer, a block, a part. */
  | { readonly kind: "layer" }
  /** A tensor value (a model input, a `let`, a block input). */
  | { readonly kind: "value" }
  /** A mask declared with `mask m = ...`. */
  | { readonly kind: "mask" }
  /** A model part, by name. */
  | { readonly kind: "part" }
  /** A part or a layer inside one, by its path: `e`, `f.2` (spec/paths.md). */
  | { readonly kind: "path" }
  /** Axes of a value: an int (negative from the end), the bare name `batch`, or a list of those. */
  | { readonly kind: "axes" }
  /** Anything (a block parameter whose declared type was not understood; already reported). */
  | { readonly kind: "any" };

/** One parameter of a built-in or a block. */
export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** The value used when the argument is omitted; absent means "required" unless `optional`. */
  readonly default?: Bound;
  /** Omittable without a default: the rule decides (e.g. `positional`'s length). */
  readonly optional?: boolean;
  /** Takes every remaining positional argument (`concat(a, b, c)`). */
  readonly variadic?: boolean;
  /** Only by name (a block's further inputs: `context: mem`). */
  readonly namedOnly?: boolean;
  readonly doc: string;
}

/** A tensor argument: its type and the node that computes it. */
export interface TensorArg {
  readonly kind: "tensor";
  readonly type: TensorType;
  readonly node: NodeId;
  /** How messages name it: `input 'image'`, `the bottleneck 'z'`. */
  readonly origin: string;
  /** The graph the value lives in (checker-internal identity, for scope checks). */
  readonly graph: object;
}

/** A mask argument: what rules may need to know about it. */
export interface MaskArg {
  readonly kind: "mask";
  readonly name: string;
  readonly strategy: string;
  readonly node: NodeId;
  readonly args: Readonly<Record<string, Bound>>;
  /** The length of the full sequence the mask's input is drawn from (patch count). */
  readonly positions: number | null;
}

/** A part argument (`table: emb`). */
export interface PartArg {
  readonly kind: "part";
  readonly name: string;
  /** The part's configured layer name when it is a single built-in (`embedding`). */
  readonly builtin: string | null;
  readonly args: Readonly<Record<string, Bound>>;
}

/** A layer of a part by path (`f.2`): the part and the segments after it. */
export interface PathArg {
  readonly kind: "path";
  readonly part: string;
  readonly segments: readonly string[];
}

/** A layer argument; opaque to rules (the checker applies it). */
export interface LayerArg {
  readonly kind: "layer";
  readonly id: number;
}

/** An argument after binding: plain data, or a reference the checker resolved. */
export type Bound =
  | number
  | boolean
  | string
  | readonly Bound[]
  | TensorArg
  | MaskArg
  | PartArg
  | PathArg
  | LayerArg
  | null;

/** Bound arguments by parameter name, defaults filled in (null for omitted optionals). */
export type BoundArgs = Readonly<Record<string, Bound>>;

/** A rule's refusal: which message, its values, and the argument to point at. */
export interface ShapeFailure {
  readonly failure: MessageTemplate;
  readonly args: MessageArgs;
  /** The argument whose value is at fault; the diagnostic points there when given. */
  readonly arg?: string;
  readonly notes?: readonly string[];
  /** The fix, where it is known (`= help:` lines). */
  readonly help?: readonly string[];
  /** Fixes that apply a layer to an argument: shown as `write '<the argument as written> -> <then>'`. */
  readonly fixes?: readonly { readonly arg: string; readonly then: string }[];
}

/** Builds a rule failure. */
export function fail(
  failure: MessageTemplate,
  args: MessageArgs,
  extra: { arg?: string; notes?: readonly string[]; help?: readonly string[]; fixes?: ShapeFailure["fixes"] } = {},
): ShapeFailure {
  return { failure, args, ...extra };
}

/** True when a rule refused. */
export function isFailure(x: unknown): x is ShapeFailure {
  return typeof x === "object" && x !== null && "failure" in x;
}

interface BuiltinBase {
  readonly name: string;
  readonly doc: string;
  readonly params: readonly ParamSpec[];
}

/** A layer or bottleneck: maps one input type to one output type and owns parameters. */
export interface LayerDef extends BuiltinBase {
  readonly category: "layer" | "bottleneck";
  /** Element types it accepts; floats unless said otherwise. */
  readonly accepts?: "f32" | "i32";
  /** Keeps the row structure of a sequence (so `positions` survive it). */
  readonly rowwise?: boolean;
  /** Applies its `layer` argument `n` times in sequence; the checker does the applying. */
  readonly repeats?: boolean;
  /** A momentum teacher (`ema`): follows the parts of its `of` argument; the checker applies it (spec/teachers.md). */
  readonly follows?: boolean;
  /** Uses the transpose of another layer's weight (`tied`); the checker resolves it (spec/paths.md). */
  readonly ties?: boolean;
  /** Regularizer a bottleneck adds to every loss that trains through it. */
  readonly regularizer?: (args: BoundArgs) => string | null;
  shape(input: TensorType, args: BoundArgs): TensorType | ShapeFailure;
  paramCount(input: TensorType, args: BoundArgs, output: TensorType): number;
}

/** A value function or an objective: values in, one value out. */
export interface FunctionDef extends BuiltinBase {
  readonly category: "function" | "objective";
  result(args: BoundArgs): TensorType | ShapeFailure;
  /**
   * For objectives that compare position by position (`mse`, `bce`,
   * `cross_entropy`): the shape of the positions, which `on m.masked` must match.
   */
  positions?(args: BoundArgs): readonly number[] | null;
}

/** What a mask exposes: `m.input`, `m.target`, `m.masked`, and the input with masking off. */
export interface MaskFields {
  readonly input: TensorType;
  readonly target: TensorType;
  readonly masked: TensorType;
  readonly inference: TensorType;
  /** Learned parameters of the mask itself (the token of `encoder_sees: mask_token`). */
  readonly params: number;
}

/** A masking strategy; its first parameter is the value masked. */
export interface MaskDef extends BuiltinBase {
  readonly category: "mask";
  /** `label` is how messages name the mask: `mask 'm' (tokens)`. */
  fields(x: TensorType, args: BoundArgs, label: string): MaskFields | ShapeFailure;
}

/** A way of making two views of one example; its first parameter is the value. */
export interface AugmentDef extends BuiltinBase {
  readonly category: "augment";
  check(x: TensorType, args: BoundArgs): ShapeFailure | null;
}

/** Optimizers, learning-rate schedules and metrics: named settings of pipeline steps. */
export interface SettingDef extends BuiltinBase {
  readonly category: "optimizer" | "schedule" | "metric";
}

/** A data type used after `input name:` or in a data field: `label(classes: 10)`. */
export interface DataTypeDef extends BuiltinBase {
  readonly category: "datatype";
  /** Refuses arguments that make no type (a vocabulary of special tokens only). */
  check?(args: BoundArgs): ShapeFailure | null;
  type(args: BoundArgs): TensorType;
}

/** An element type written with dimensions: `f32[1, 28, 28]`. */
export interface ElementTypeDef extends BuiltinBase {
  readonly category: "dtype";
  readonly dtype: "f32" | "i32";
}

export type Builtin =
  | LayerDef
  | FunctionDef
  | MaskDef
  | AugmentDef
  | SettingDef
  | DataTypeDef
  | ElementTypeDef;

export type BuiltinCategory = Builtin["category"];

/** How messages name each category: "layer", "mask strategy", ... */
export const categoryNoun: Readonly<Record<BuiltinCategory, string>> = {
  layer: "layer",
  bottleneck: "bottleneck",
  function: "value function",
  objective: "objective",
  mask: "mask strategy",
  augment: "augmentation",
  optimizer: "optimizer",
  schedule: "schedule",
  metric: "metric",
  datatype: "data type",
  dtype: "element type",
};

/** Describes a parameter type with its range, for messages: `an int >= 1`, `a float in (0, 1)`. */
export function describeParamType(t: ParamType): string {
  switch (t.kind) {
    case "int": {
      if (t.min !== undefined && t.max !== undefined) return `an int in [${t.min}, ${t.max}]`;
      if (t.min !== undefined) return `an int >= ${t.min}`;
      if (t.max !== undefined) return `an int <= ${t.max}`;
      return "an int";
    }
    case "float": {
      if (t.min !== undefined && t.max !== undefined) {
        return `a number in ${t.openMin ? "(" : "["}${t.min}, ${t.max}${t.openMax ? ")" : "]"}`;
      }
      if (t.min !== undefined) return `a number ${t.openMin ? ">" : ">="} ${t.min}`;
      if (t.max !== undefined) return `a number ${t.openMax ? "<" : "<="} ${t.max}`;
      return "a number";
    }
    case "bool":
      return "true or false";
    case "string":
      return "a string";
    case "enum":
      return t.list ? `a list of distinct names from ${t.values.join(" | ")}` : `one of ${t.values.join(" | ")}`;
    case "tokenId":
      return "a token id (an int >= 0) or a special token (pad, mask, cls)";
    case "list":
      return t.item === "any" ? "a list" : `a list of ${t.item}s`;
    case "layer":
      return "a layer";
    case "value":
      return "a value";
    case "mask":
      return "a mask";
    case "part":
      return "a model part";
    case "path":
      return "a part or a layer inside one, such as f or f.2";
    case "axes":
      return "an axis (an int or 'batch') or a list of axes";
    case "any":
      return "a value";
  }
}

/** Checks a number against a parameter's range; returns false when outside. */
export function inRange(t: ParamType, n: number): boolean {
  if (t.kind !== "int" && t.kind !== "float") return true;
  if (t.min !== undefined) {
    const open = t.kind === "float" && t.openMin;
    if (open ? !(n > t.min) : !(n >= t.min)) return false;
  }
  if (t.max !== undefined) {
    const open = t.kind === "float" && t.openMax;
    if (open ? !(n < t.max) : !(n <= t.max)) return false;
  }
  return true;
}

// Parameter-type shorthands used by the catalogue files.
export const POS_INT: ParamType = { kind: "int", min: 1 };
export const NONNEG_INT: ParamType = { kind: "int", min: 0 };
export const INT: ParamType = { kind: "int" };
export const FLOAT: ParamType = { kind: "float" };
export const POS_FLOAT: ParamType = { kind: "float", min: 0, openMin: true };
export const NONNEG_FLOAT: ParamType = { kind: "float", min: 0 };
export const RATIO: ParamType = { kind: "float", min: 0, max: 1, openMin: true, openMax: true };
export const RATE: ParamType = { kind: "float", min: 0, max: 1, openMax: true };
export const BOOL: ParamType = { kind: "bool" };
export const VALUE: ParamType = { kind: "value" };
export const LAYER: ParamType = { kind: "layer" };

/** The special tokens a token type may reserve (spec/data.md, "Special tokens"). */
export const SPECIAL_TOKENS: readonly string[] = ["pad", "mask", "cls"];

/** Reads a numeric argument (the binder guarantees its type). */
export function num(args: BoundArgs, name: string): number {
  const v = args[name];
  if (typeof v !== "number") throw new Error(`internal: argument '${name}' is not a number`);
  return v;
}

/** Reads an optional numeric argument. */
export function optNum(args: BoundArgs, name: string): number | null {
  const v = args[name];
  return typeof v === "number" ? v : null;
}

/** Reads a tensor argument (the binder guarantees its kind). */
export function tensor(args: BoundArgs, name: string): TensorArg {
  const v = args[name];
  if (typeof v !== "object" || v === null || !("kind" in v) || v.kind !== "tensor") {
    throw new Error(`internal: argument '${name}' is not a tensor`);
  }
  return v;
}

/** Reads an optional tensor argument. */
export function optTensor(args: BoundArgs, name: string): TensorArg | null {
  const v = args[name];
  return typeof v === "object" && v !== null && "kind" in v && v.kind === "tensor" ? v : null;
}
