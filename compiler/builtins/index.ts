/**
 * The built-in catalogue: every layer, bottleneck, value function, objective,
 * mask, augmentation, optimizer, schedule, metric and data type, by name.
 */
import { augments } from "./augments.js";
import { bottlenecks } from "./bottlenecks.js";
import { dataTypes, elementTypes } from "./data-types.js";
import { valueFunctions } from "./functions.js";
import { featureLayers } from "./layers.js";
import { masks } from "./masks.js";
import { mathLayers, reductions } from "./math.js";
import { objectives } from "./objectives.js";
import { metrics, optimizers, schedules } from "./optimizers.js";
import { sequenceLayers } from "./sequence-layers.js";
import { teacherBuiltins } from "./teacher.js";
import { tiedLayers } from "./tied.js";
import type { Builtin, BuiltinCategory, DataTypeDef } from "./spec.js";

const all: readonly Builtin[] = [
  ...featureLayers,
  ...sequenceLayers,
  ...tiedLayers,
  ...mathLayers,
  ...bottlenecks,
  ...valueFunctions,
  ...reductions,
  ...teacherBuiltins,
  ...objectives,
  ...masks,
  ...augments,
  ...optimizers,
  ...schedules,
  ...metrics,
  ...dataTypes,
  ...elementTypes,
];

// Metrics and data types have their own namespaces: `mse` is both an objective
// and a metric, `tokens` both a mask strategy and a data type.
const byName = new Map<string, Builtin>();
for (const b of all) {
  if (b.category === "metric" || b.category === "datatype") continue;
  if (byName.has(b.name)) throw new Error(`internal: built-in '${b.name}' is defined twice`);
  byName.set(b.name, b);
}

/** Every built-in, in catalogue order. */
export const builtins: readonly Builtin[] = all;

/** A built-in by name (metrics excepted: see `metricByName`). */
export function builtinByName(name: string): Builtin | undefined {
  return byName.get(name);
}

/** Built-ins a model's expressions can name: declarations may not reuse their names. */
const reservedCategories: ReadonlySet<BuiltinCategory> = new Set(["layer", "bottleneck", "function", "objective", "mask", "augment", "dtype"]);

/**
 * The built-in a declared name would hide, when that is not allowed (RC206):
 * layers, bottlenecks, value functions, objectives, masking strategies,
 * `augment` and the element types. Data type names (`label`, `token`,
 * `tokens`) are allowed, as are optimizer, schedule and metric names, which
 * only mean something in step settings.
 */
export function reservedBuiltin(name: string): Builtin | undefined {
  if (dataTypeByName(name)) return undefined;
  const builtin = byName.get(name);
  return builtin && reservedCategories.has(builtin.category) ? builtin : undefined;
}

/** A data type by name (`label`, `tokens`, `token`): only meaningful where a type is expected. */
export function dataTypeByName(name: string): DataTypeDef | undefined {
  return dataTypes.find((d) => d.name === name);
}

/** Names of the built-ins that may be referred to by name in expressions. */
export function builtinNames(): string[] {
  return [...byName.keys()];
}

/** Built-ins of some categories, by name. */
export function builtinsOf(...categories: BuiltinCategory[]): Map<string, Builtin> {
  return new Map(all.filter((b) => categories.includes(b.category)).map((b) => [b.name, b]));
}
