/**
 * Tensor types as the checker sees them.
 *
 * A shape never includes the batch dimension: it is implicit and symbolic
 * (`B`) everywhere in the language. A value is `batched` when it has one row
 * per example; objectives reduce over the batch and produce an unbatched
 * scalar.
 */

/** Element types: 32-bit floats, 32-bit integer ids, and booleans (mask positions). */
export type DType = "f32" | "i32" | "bool";

/** The type of a tensor value: element type, shape without the batch, and what integers mean. */
export interface TensorType {
  readonly dtype: DType;
  /** Dimensions after the (implicit) batch dimension; `[]` is one number per example. */
  readonly shape: readonly number[];
  /** True when the value has the symbolic batch dimension `B` in front. */
  readonly batched: boolean;
  /** For class ids (`label(classes: n)`): the number of classes. */
  readonly classes?: number;
  /** For token ids (`tokens(...)`, `token(...)`): the vocabulary size. */
  readonly vocab?: number;
  /**
   * For token ids: the reserved special tokens (`pad`, `mask`, `cls`), in
   * order; they take the vocabulary's last ids, `vocab − k .. vocab − 1`.
   */
  readonly special?: readonly string[];
  /**
   * For a sequence whose rows are a subset of a longer one (the visible patches
   * of a `random_patches` mask): the length of the full sequence. Row-wise
   * layers keep it; `positional` sizes its table by it; `unmask` restores it.
   */
  readonly positions?: number;
}

/** A float tensor with a batch dimension. */
export function f32(shape: readonly number[]): TensorType {
  return { dtype: "f32", shape, batched: true };
}

/** The type every objective produces: one float for the whole batch. */
export const SCALAR_LOSS: TensorType = { dtype: "f32", shape: [], batched: false };

/** The largest size repr allows for a dimension, a layer's width or a count of classes: 2^31 - 1. */
export const MAX_DIMENSION = 2 ** 31 - 1;

/**
 * True when a shape can be worked with exactly: every dimension at most
 * `MAX_DIMENSION` and its element count at most 2^53 - 1. (A product of
 * floats past 2^53 rounds, but never back below it, so the test is exact.)
 */
export function shapeFits(shape: readonly number[]): boolean {
  return shape.every((d) => d <= MAX_DIMENSION) && elementCount(shape) <= Number.MAX_SAFE_INTEGER;
}

/** The number of elements in one example's tensor. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** True when two shapes are identical. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `[B, 1, 28, 28]` (batched) or `[64]` (unbatched). */
export function formatShape(t: Pick<TensorType, "shape" | "batched">): string {
  const dims = t.shape.map(String);
  if (t.batched) dims.unshift("B");
  return `[${dims.join(", ")}]`;
}

/** `[1, 28, 28]`: a shape as the user writes it, without the batch. */
export function formatDims(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** `f32[B, 1, 28, 28]`, `i32[B] (10 classes)`, `i32[B, 64] (vocab 96)`. */
export function formatType(t: TensorType): string {
  let s = `${t.dtype}${formatShape(t)}`;
  if (t.classes !== undefined) s += ` (${t.classes} classes)`;
  if (t.vocab !== undefined) s += ` (vocab ${t.vocab}${t.special?.length ? `, special ${t.special.join(", ")}` : ""})`;
  return s;
}

/** Describes a type for messages: `f32 values [B, 64]`, `class labels i32[B]`. */
export function describeType(t: TensorType): string {
  if (t.classes !== undefined) return `class labels ${formatType(t)}`;
  if (t.vocab !== undefined) return `token ids ${formatType(t)}`;
  if (t.dtype === "bool") return `mask positions ${formatType(t)}`;
  return formatType(t);
}

/** A copy of `t` with another shape, keeping dtype, batch and integer meaning. */
export function withShape(t: TensorType, shape: readonly number[]): TensorType {
  const out: TensorType = { dtype: t.dtype, shape, batched: t.batched };
  return {
    ...out,
    ...(t.classes !== undefined ? { classes: t.classes } : {}),
    ...(t.vocab !== undefined ? { vocab: t.vocab } : {}),
    ...(t.special !== undefined ? { special: t.special } : {}),
  };
}

/** The id of special token `name` of a token type, or null when the type does not reserve it. */
export function specialId(t: Pick<TensorType, "vocab" | "special">, name: string): number | null {
  const i = t.special?.indexOf(name) ?? -1;
  return i < 0 || t.vocab === undefined ? null : t.vocab - t.special!.length + i;
}

/** True when two types are interchangeable as data (same dtype, shape and integer meaning). */
export function sameType(a: TensorType, b: TensorType): boolean {
  return (
    a.dtype === b.dtype &&
    sameShape(a.shape, b.shape) &&
    a.classes === b.classes &&
    a.vocab === b.vocab &&
    (a.special ?? []).join() === (b.special ?? []).join()
  );
}
