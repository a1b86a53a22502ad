/**
 * Binding a program's `data` declarations to sources (spec/data.md,
 * "Sources"): the `--data NAME=SOURCE` and `--data NAME.FIELD=SOURCE` options,
 * loading each data set once, and the selected splits steps train and test on.
 * Data problems reach the user as RC804 with the file, the field and the
 * expected and actual shapes.
 */
import { labelField } from "../../compiler/check/data.js";
import type { CheckedData, CheckedProgram, DataRef } from "../../compiler/check/program.js";
import { messages } from "../../language/diagnostics/messages.js";
import { DataError, loadDataset, selectSplit, type DataSpec, type Dataset, type FieldSpec, type SourceBinding, type Split } from "../../runtime/data/index.js";
import { UserError } from "../errors.js";

/** A data declaration in the runtime's terms. */
export function dataSpecOf(data: CheckedData): DataSpec {
  const fields: FieldSpec[] = data.fields.map((f) => {
    const t = f.type;
    if (t.classes !== undefined) return { name: f.name, kind: "label", shape: [...t.shape], classes: t.classes };
    if (t.vocab !== undefined) return { name: f.name, kind: t.shape.length === 0 ? "token" : "tokens", shape: [...t.shape], vocab: t.vocab };
    return { name: f.name, kind: "f32", shape: [...t.shape] };
  });
  return { name: data.name, fields };
}

/** Parses the `--data` options against the program's data declarations. */
export function parseDataOptions(entries: readonly string[], program: CheckedProgram): Map<string, SourceBinding[]> {
  const bindings = new Map<string, SourceBinding[]>();
  const names = program.data.map((d) => d.name);
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq <= 0 || eq === entry.length - 1) {
      throw new UserError(`--data expects NAME=SOURCE or NAME.FIELD=SOURCE (a data declaration, optionally one of its fields, and a path or 'mnist'), got '${entry}'`);
    }
    const target = entry.slice(0, eq);
    const source = entry.slice(eq + 1);
    const dot = target.indexOf(".");
    const name = dot < 0 ? target : target.slice(0, dot);
    const field = dot < 0 ? undefined : target.slice(dot + 1);
    const data = program.data.find((d) => d.name === name);
    if (!data) throw new UserError(`--data ${entry}: the file declares no data '${name}' (data: ${names.join(", ") || "none"})`);
    if (field !== undefined && !data.fields.some((f) => f.name === field)) {
      throw new UserError(`--data ${entry}: data '${name}' has no field '${field}' (fields: ${data.fields.map((f) => f.name).join(", ")})`);
    }
    const list = bindings.get(name) ?? [];
    if (list.some((b) => b.field === field)) throw new UserError(`--data ${entry}: ${field === undefined ? `'${name}'` : `'${name}.${field}'`} is bound twice`);
    list.push(field === undefined ? { source } : { field, source });
    bindings.set(name, list);
  }
  return bindings;
}

/** A data problem as the user sees it (RC804). */
export function dataUserError(err: DataError): UserError {
  return UserError.from(messages.badData, { problem: err.message });
}

/** The data sets of one run, each loaded at most once, and their selected splits. */
export class DataSets {
  private readonly loaded = new Map<string, Promise<Dataset>>();
  private readonly selected = new Map<string, Split>();

  constructor(
    private readonly program: CheckedProgram,
    private readonly bindings: ReadonlyMap<string, readonly SourceBinding[]>,
    private readonly cwd: string,
  ) {}

  /** The declaration called `name`. */
  declaration(name: string): CheckedData {
    const data = this.program.data.find((d) => d.name === name);
    if (!data) throw new Error(`internal error: no data declaration '${name}'`);
    return data;
  }

  /** The data set called `name`, loaded from its sources. */
  async dataset(name: string): Promise<Dataset> {
    let pending = this.loaded.get(name);
    if (!pending) {
      pending = loadDataset(dataSpecOf(this.declaration(name)), this.bindings.get(name) ?? [], { cwd: this.cwd });
      this.loaded.set(name, pending);
    }
    try {
      return await pending;
    } catch (err) {
      if (err instanceof DataError) throw dataUserError(err);
      throw err;
    }
  }

  /** The split a step reads, with its selection applied. */
  async split(ref: DataRef): Promise<Split> {
    const key = describeRef(ref);
    const known = this.selected.get(key);
    if (known) return known;
    const dataset = await this.dataset(ref.data);
    let split = dataset[ref.split];
    if (ref.labels !== null || ref.perClass !== null) {
      const label = labelField(this.declaration(ref.data));
      if (!label) throw new Error(`internal error: '${key}' selects by label, but the data has no label field`);
      try {
        split = selectSplit(split, label.name, { ...(ref.labels ? { labels: ref.labels } : {}), ...(ref.perClass !== null ? { perClass: ref.perClass } : {}) });
      } catch (err) {
        if (err instanceof DataError) throw dataUserError(err);
        throw err;
      }
    }
    this.selected.set(key, split);
    return split;
  }
}

/** `digits.train(labels: [5, 6], per_class: 10)`, as written in a pipeline. */
export function describeRef(ref: DataRef): string {
  const args: string[] = [];
  if (ref.labels !== null) args.push(`labels: [${ref.labels.join(", ")}]`);
  if (ref.perClass !== null) args.push(`per_class: ${ref.perClass}`);
  return `${ref.data}.${ref.split}${args.length > 0 ? `(${args.join(", ")})` : ""}`;
}
