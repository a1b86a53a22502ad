/**
 * Binding a program's `data` declarations to sources (spec/data.md,
 * "Sources"): the `--data NAME=SOURCE` and `--data NAME.FIELD=SOURCE` options,
 * and loading each data set once.
 * Data problems reach the user as RC804 with the file, the field and the
 * expected and actual shapes.
 */
import type { CheckedData, CheckedProgram } from "../../compiler/check/program.js";
import { dataSpecOf } from "../../compiler/plan/index.js";
import { messages } from "../../language/diagnostics/messages.js";
import { DataError, loadDataset, type Dataset, type SourceBinding } from "../../runtime/data/index.js";
import { UserError } from "../errors.js";

export { dataSpecOf };

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

  /** Both splits of the data set called `name`: what the training engine reads (it applies selections itself). */
  async splits(name: string): Promise<Dataset> {
    return this.dataset(name);
  }
}
