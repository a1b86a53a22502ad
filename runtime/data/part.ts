/**
 * What one source hands to `loadDataset`: columns for the fields it was asked
 * to fill, with the source's own train/test split or none. `loadDataset`
 * splits the rest and puts the parts together.
 */
import { DataError, quote } from "./errors.js";
import type { DataSpec, FieldSpec } from "./spec.js";
import type { Column, Vocabulary } from "./split.js";

/** Columns by field name: split by the source itself, or whole (split 80/20 later). */
export type PartColumns =
  | { readonly kind: "split"; readonly train: Map<string, Column>; readonly test: Map<string, Column> }
  | { readonly kind: "whole"; readonly all: Map<string, Column> };

/** The columns one source gives. */
export interface Part {
  /** The source as the user named it. */
  readonly origin: string;
  /** What the source holds, for a message about a field it cannot fill: "images u8[28, 28] and labels". */
  readonly provides: string;
  readonly columns: PartColumns;
  readonly vocabulary?: Vocabulary;
}

/** What a source is asked for. */
export interface SourceRequest {
  readonly spec: DataSpec;
  /** The fields this source is to fill, in declaration order. */
  readonly targets: readonly FieldSpec[];
  /** The declaration's label field (spec/data.md), or null. */
  readonly labelField: string | null;
  /** The path to open. */
  readonly path: string;
  /** The path as the user wrote it, for messages. */
  readonly shown: string;
}

/**
 * The field for a source's main array (images, the array of an `.npy` file)
 * and the label field if it is among the targets. A source with one main array
 * can fill one field besides the label: with more targets the binding is
 * ambiguous, and each other field needs a binding of its own.
 */
export function mainAndLabel(request: SourceRequest, what: string): { main?: FieldSpec; label?: FieldSpec } {
  const label = request.targets.find((f) => f.name === request.labelField);
  const others = request.targets.filter((f) => f !== label);
  if (others.length > 1) {
    const names = others.map((f) => quote(f.name)).join(", ");
    throw new DataError(
      request.shown,
      `${what} fills one field besides the label, but data ${quote(request.spec.name)} leaves ${names} to it; bind each with --data ${request.spec.name}.FIELD=PATH.`,
      "binding",
    );
  }
  return { ...(others[0] ? { main: others[0] } : {}), ...(label ? { label } : {}) };
}
