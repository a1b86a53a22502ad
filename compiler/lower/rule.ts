/**
 * The shape of one built-in layer's lowering: the tensors it owns (names,
 * shapes and initialization, from the checker's types) and how it computes.
 * Each `layers-*.ts` file exports a table of these; `layers.ts` joins them.
 */
import type { Node } from "../../runtime/ir/node.js";
import type { DType } from "../../runtime/ir/ops.js";
import type { BuiltinLayerNode } from "../check/program.js";
import type { LayerCtx, Val } from "./context.js";
import type { Init, ParamInfo, ParamKind } from "./init.js";

/** A tensor a layer owns, by its name inside the layer (`weight`, `q.bias`, `running_mean`). */
export interface LocalParam {
  readonly local: string;
  readonly shape: readonly number[];
  readonly init: Init;
  /** Learned (the default) or state. */
  readonly kind?: ParamKind;
  readonly dtype?: DType;
  /** Whether weight decay applies (default: no). */
  readonly decay?: boolean;
}

/** A layer's tensors during lowering. */
export interface Params {
  /** The `param` node of a tensor. */
  get(local: string): Node;
  /** A state tensor's current value in this step (after earlier updates). */
  state(local: string): Node;
  /** Records a state tensor's new value (when the step trains). */
  update(local: string, value: Node): void;
  /** The full description of a tensor. */
  info(local: string): ParamInfo;
}

/** How one built-in layer lowers. */
export interface LayerRule {
  /** The tensors the layer owns; none when absent. */
  params?(node: BuiltinLayerNode): readonly LocalParam[];
  /** The layer's computation on `x` (batch axis first); returns the output node. */
  lower(ctx: LayerCtx, node: BuiltinLayerNode, x: Val, p: Params): Node;
}

/** The last axis of a checker type's shape (features). */
export function lastDim(shape: readonly number[]): number {
  return shape[shape.length - 1]!;
}

/** Reads a numeric argument the checker resolved. */
export function numArg(node: { readonly args: Readonly<Record<string, unknown>> }, name: string, fallback?: number): number {
  const v = node.args[name];
  if (typeof v === "number") return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`internal: argument '${name}' is not a number`);
}

/** Reads a boolean argument. */
export function boolArg(node: { readonly args: Readonly<Record<string, unknown>> }, name: string): boolean {
  return node.args[name] === true;
}

/** Reads a node-reference argument (a value or a mask), or null when absent. */
export function nodeArg(node: { readonly args: Readonly<Record<string, unknown>> }, name: string): number | null {
  const v = node.args[name];
  return typeof v === "object" && v !== null && "node" in v && typeof (v as { node: unknown }).node === "number" ? (v as { node: number }).node : null;
}
