/**
 * `loadDataset`: from a data declaration and the `--data` bindings to both
 * splits in memory, every field checked against its declared type. Each
 * binding opens one source (sources.ts); this file puts the parts together
 * and checks what only the whole can show: every field filled, one length per
 * split, no empty split.
 */
import { resolve } from "node:path";
import { DataError, quote } from "./errors.js";
import { fitsMnist, MNIST_SOURCE } from "./mnist.js";
import type { Part } from "./part.js";
import { openSource } from "./sources.js";
import { describeField, labelFieldOf, type DataSpec, type FieldSpec } from "./spec.js";
import { columnLength, sliceColumn, trainCount, type Column, type Dataset, type Split, type Vocabulary } from "./split.js";

/**
 * One `--data` binding: `NAME=SOURCE` for the whole data set (no `field`) or
 * `NAME.FIELD=SOURCE` for one field. `source` is a path (file or folder) or
 * the word `mnist`.
 */
export interface SourceBinding {
  readonly field?: string;
  readonly source: string;
}

/** Options of `loadDataset`. */
export interface LoadOptions {
  /** The folder relative paths are resolved against; the process's working folder by default. */
  readonly cwd?: string;
}

/**
 * Loads the data set `spec` declares from its bindings (spec/data.md,
 * "Sources"). With no binding, a declaration of one `f32[1, 28, 28]` field and
 * at most one `label(classes: 10)` field is filled from the mnist package; any
 * other declaration needs one. A binding for the whole data set fills every
 * field no field binding names. Any problem is a DataError that names the file.
 */
export async function loadDataset(spec: DataSpec, sources: readonly SourceBinding[], options: LoadOptions = {}): Promise<Dataset> {
  const cwd = options.cwd ?? process.cwd();
  const bindings = checkBindings(spec, sources);
  const labelField = labelFieldOf(spec);
  const parts: Part[] = [];
  for (const binding of bindings) {
    const targets = binding.field === undefined ? spec.fields.filter((f) => !bindings.some((b) => b.field === f.name)) : spec.fields.filter((f) => f.name === binding.field);
    if (targets.length === 0) {
      throw new DataError(binding.source, `is bound to the whole of data ${quote(spec.name)}, but every field has a binding of its own, so it fills nothing.`, "binding");
    }
    const path = binding.source === MNIST_SOURCE ? MNIST_SOURCE : resolve(cwd, binding.source);
    parts.push(await openSource({ spec, targets, labelField, path, shown: binding.source }));
  }
  const halves = parts.map((p) => splitPart(p));
  const train = assemble(spec, parts, halves.map((h) => h.train), "train");
  const test = assemble(spec, parts, halves.map((h) => h.test), "test");
  const vocabulary: Vocabulary | undefined = parts.find((p) => p.vocabulary)?.vocabulary;
  return { name: spec.name, train, test, origin: [...new Set(parts.map((p) => p.origin))].join(", "), ...(vocabulary ? { vocabulary } : {}) };
}

/** The bindings, checked: known fields, none bound twice, at most one for the whole; the mnist default when there are none. */
function checkBindings(spec: DataSpec, sources: readonly SourceBinding[]): SourceBinding[] {
  if (sources.length === 0) {
    if (fitsMnist(spec)) return [{ source: MNIST_SOURCE }];
    const fields = spec.fields.map((f) => `${f.name}: ${describeField(f)}`).join(", ");
    throw new DataError(
      "",
      `data ${quote(spec.name)} has no source; give one with --data ${spec.name}=PATH (it declares ${fields || "no fields"}; only an f32[1, 28, 28] image with at most one label(classes: 10) is filled from MNIST by default).`,
      "binding",
      { expected: fields },
    );
  }
  const seen = new Set<string>();
  let whole = 0;
  for (const b of sources) {
    if (b.field === undefined) {
      if (++whole > 1) throw new DataError(b.source, `is a second source for the whole of data ${quote(spec.name)}; give one, and bind other fields with --data ${spec.name}.FIELD=PATH.`, "binding");
      continue;
    }
    if (!spec.fields.some((f) => f.name === b.field)) {
      const names = spec.fields.map((f) => quote(f.name)).join(", ");
      throw new DataError(b.source, `is bound to field ${quote(b.field)}, but data ${quote(spec.name)} has no such field (its fields are ${names}).`, "binding", { field: b.field });
    }
    if (seen.has(b.field)) throw new DataError(b.source, `is a second source for field ${quote(b.field)} of data ${quote(spec.name)}.`, "binding", { field: b.field });
    seen.add(b.field);
  }
  return [...sources];
}

/** A part's train and test columns: its own split, or the first 80% of its examples and the rest. */
function splitPart(part: Part): { train: Map<string, Column>; test: Map<string, Column> } {
  if (part.columns.kind === "split") return { train: part.columns.train, test: part.columns.test };
  const entries = [...part.columns.all];
  const lengths = entries.map(([, c]) => columnLength(c));
  const n = lengths[0] ?? 0;
  const odd = lengths.findIndex((l) => l !== n);
  if (odd >= 0) {
    throw new DataError(part.origin, `fills field ${quote(entries[0]![0])} with ${n} examples but field ${quote(entries[odd]![0])} with ${lengths[odd]}.`, "length");
  }
  const cut = trainCount(n);
  return {
    train: new Map(entries.map(([k, c]) => [k, sliceColumn(c, 0, cut)])),
    test: new Map(entries.map(([k, c]) => [k, sliceColumn(c, cut, n)])),
  };
}

/** One split from the parts' columns: every field present, one length, not empty. */
function assemble(spec: DataSpec, parts: readonly Part[], maps: ReadonlyArray<Map<string, Column>>, name: "train" | "test"): Split {
  const columns = new Map<string, Column>();
  const from = new Map<string, string>();
  for (const field of spec.fields) {
    const k = maps.findIndex((m) => m.has(field.name));
    if (k < 0) throw missingField(spec, field, parts);
    columns.set(field.name, maps[k]!.get(field.name)!);
    from.set(field.name, parts[k]!.origin);
  }
  const origins = [...new Set(from.values())];
  const origin = origins.join(", ");
  const fields = [...columns];
  const length = fields.length === 0 ? 0 : columnLength(fields[0]![1]);
  for (const [field, column] of fields) {
    const n = columnLength(column);
    if (n !== length) {
      const first = fields[0]![0];
      throw new DataError(
        from.get(field)!,
        `fills field ${quote(field)} of data ${quote(spec.name)} with ${n} examples in ${name}, but field ${quote(first)} (from ${from.get(first)}) has ${length}; every field needs one value per example.`,
        "length",
        { field, expected: `${length} examples`, actual: `${n} examples` },
      );
    }
  }
  if (length === 0) {
    throw new DataError(origin, `gives data ${quote(spec.name)} an empty ${name} split; a split needs at least one example.`, "empty");
  }
  return { origin, length, columns };
}

function missingField(spec: DataSpec, field: FieldSpec, parts: readonly Part[]): DataError {
  const provided = [...new Set(parts.map((p) => `${p.origin} provides ${p.provides}`))].join("; ");
  return new DataError(
    [...new Set(parts.map((p) => p.origin))].join(", "),
    `data ${quote(spec.name)} has no source for field ${quote(field.name)} (${describeField(field)}): ${provided}. Bind one with --data ${spec.name}.${field.name}=PATH.`,
    "missing",
    { field: field.name, expected: describeField(field) },
  );
}
