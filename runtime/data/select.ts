/**
 * Selections (spec/data.md, "Selections"): `labels` keeps the examples of some
 * classes and renumbers them, `per_class` keeps the first examples of each
 * class. Both are deterministic and do not depend on the seed.
 */
import { DataError, quote } from "./errors.js";
import { takeColumn, type Column, type Split } from "./split.js";

/** The arguments of a selection; `classes` is the label field's class count before selection, where known. */
export interface Selection {
  /** Keep the examples whose label is listed; `labels[i]` becomes `i`. */
  readonly labels?: readonly number[];
  /** Keep the first `perClass` examples of each class, in the split's order. */
  readonly perClass?: number;
  /**
   * The label field's class count before selection. With it, `per_class`
   * also finds classes that have no example at all; without it, the classes
   * are 0 up to the largest label present.
   */
  readonly classes?: number;
}

/**
 * The examples of `split` a selection keeps, in the split's order: `labels`
 * first (the label `labels[i]` becomes `i`), then the first `perClass` of
 * each class. A class with fewer than `perClass` examples is a DataError.
 */
export function selectSplit(split: Split, labelField: string, selection: Selection): Split {
  const { labels, perClass } = selection;
  if (labels === undefined && perClass === undefined) return split;
  const column = split.columns.get(labelField);
  if (!column || column.dtype !== "i32" || column.data.length !== split.length) {
    throw new DataError(split.origin, `has no label field ${quote(labelField)} to select by.`, "selection", { field: labelField });
  }
  const original = column.data as Int32Array;
  let rename: Map<number, number> | null = null;
  if (labels !== undefined) {
    if (labels.length === 0) throw new DataError(split.origin, "cannot select an empty list of labels.", "selection");
    rename = new Map();
    for (const [i, l] of labels.entries()) {
      if (!Number.isInteger(l) || l < 0 || (selection.classes !== undefined && l >= selection.classes)) {
        throw new DataError(split.origin, `cannot select label ${l}: the classes are 0..${(selection.classes ?? 0) - 1}.`, "selection");
      }
      if (rename.has(l)) throw new DataError(split.origin, `lists label ${l} twice in a selection.`, "selection");
      rename.set(l, i);
    }
  }
  if (perClass !== undefined && !(Number.isInteger(perClass) && perClass >= 1)) {
    throw new DataError(split.origin, `per_class must be an integer of at least 1, not ${perClass}.`, "selection");
  }
  let largest = 0;
  for (const l of original) largest = Math.max(largest, l);
  const classes = rename ? rename.size : (selection.classes ?? largest + 1);
  const taken = new Int32Array(classes);
  const kept: number[] = [];
  const newLabels: number[] = [];
  for (let i = 0; i < split.length; i++) {
    const label = rename ? rename.get(original[i]!) : original[i]!;
    if (label === undefined) continue;
    if (perClass !== undefined) {
      if (taken[label]! >= perClass) continue;
      taken[label]!++;
    }
    kept.push(i);
    newLabels.push(label);
  }
  if (perClass !== undefined) {
    const short = taken.findIndex((n) => n < perClass);
    if (short >= 0) {
      const name = labels ? `class ${labels[short]} (label ${short} after selection)` : `class ${short}`;
      throw new DataError(split.origin, `has only ${taken[short]} examples of ${name}, but per_class asks for ${perClass}.`, "selection", {
        field: labelField,
        expected: `${perClass} examples`,
        actual: `${taken[short]} examples`,
      });
    }
  }
  if (kept.length === 0) throw new DataError(split.origin, `has no examples of the labels ${labels?.join(", ")}.`, "empty");
  const columns = new Map<string, Column>();
  for (const [name, c] of split.columns) {
    columns.set(name, name === labelField ? { dtype: "i32", shape: c.shape, data: Int32Array.from(newLabels) } : takeColumn(c, kept));
  }
  return { origin: split.origin, length: kept.length, columns };
}
