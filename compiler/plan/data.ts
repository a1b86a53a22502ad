/**
 * A program's `data` declaration in the runtime's terms (`DataSpec`,
 * runtime/data/spec.ts): what a plan says its pipelines read, and what
 * `repr train` loads files against.
 */
import type { DataSpec, FieldSpec } from "../../runtime/data/spec.js";
import type { CheckedData } from "../check/program.js";

/** A data declaration in the runtime's terms. */
export function dataSpecOf(data: CheckedData): DataSpec {
  const fields: FieldSpec[] = data.fields.map((f) => {
    const t = f.type;
    if (t.classes !== undefined) return { name: f.name, kind: "label", shape: [...t.shape], classes: t.classes };
    if (t.vocab !== undefined) {
      return { name: f.name, kind: t.shape.length === 0 ? "token" : "tokens", shape: [...t.shape], vocab: t.vocab, ...(t.special?.length ? { special: [...t.special] } : {}) };
    }
    return { name: f.name, kind: "f32", shape: [...t.shape] };
  });
  return { name: data.name, fields };
}
