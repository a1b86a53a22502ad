/**
 * What a model's `data` declaration says, in runtime terms: named fields with
 * an element kind and a per-example shape. The CLI converts the compiler's
 * types into these; the runtime never sees `.repr` syntax. See spec/data.md.
 */

/** The element kind of a field: `f32` tensors, or integer class ids, token ids and token sequences. */
export type FieldKind = "f32" | "label" | "token" | "tokens";

/** One field of a data declaration. */
export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  /** Per-example shape: f32 → its dims, label/token → [], tokens → [length]. */
  readonly shape: readonly number[];
  /** The class count of a `label` field. */
  readonly classes?: number;
  /** The vocabulary size of a `token` or `tokens` field, its special tokens included. */
  readonly vocab?: number;
  /** The special tokens a `token` or `tokens` field reserves (`pad`, `mask`, `cls`): its last ids, in this order. */
  readonly special?: readonly string[];
}

/** A data declaration: its name and its fields in declaration order. */
export interface DataSpec {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
}

/**
 * The label field of a declaration (spec/data.md, "Binding data to a model"):
 * the `label`-kind field named `label`, or else the only `label`-kind field;
 * null when there is none or several without one named `label`.
 */
export function labelFieldOf(spec: DataSpec): string | null {
  const labels = spec.fields.filter((f) => f.kind === "label");
  if (labels.some((f) => f.name === "label")) return "label";
  return labels.length === 1 ? labels[0]!.name : null;
}

/** The number of elements of one example of a field: the product of its shape. */
export function fieldSize(field: FieldSpec): number {
  return shapeSize(field.shape);
}

/** The product of a shape's dimensions (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A field's type as spec/types.md writes it: `f32[1, 28, 28]`, `label(classes: 10)`, `tokens(length: 64, vocab: 96)`. */
export function describeField(field: FieldSpec): string {
  switch (field.kind) {
    case "f32":
      return `f32[${field.shape.join(", ")}]`;
    case "label":
      return `label(classes: ${field.classes ?? "?"})`;
    case "token":
      return `token(vocab: ${field.vocab ?? "?"}${specialsOf(field)})`;
    case "tokens":
      return `tokens(length: ${field.shape[0] ?? "?"}, vocab: ${field.vocab ?? "?"}${specialsOf(field)})`;
  }
}

function specialsOf(field: FieldSpec): string {
  return field.special?.length ? `, special: [${field.special.join(", ")}]` : "";
}

/** The id of a token field's special token `name`, or null when it reserves none of that name. */
export function specialIdOf(field: FieldSpec, name: string): number | null {
  const i = field.special?.indexOf(name) ?? -1;
  return i < 0 ? null : idLimit(field) - field.special!.length + i;
}

/** The exclusive upper bound of a field's integer values: its class count or vocabulary size. */
export function idLimit(field: FieldSpec): number {
  const limit = field.kind === "label" ? field.classes : field.vocab;
  if (limit === undefined || !Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`field '${field.name}' of kind ${field.kind} needs a positive ${field.kind === "label" ? "classes" : "vocab"}`);
  }
  return limit;
}
