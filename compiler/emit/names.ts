/**
 * Identifiers of a generated module. Every name a module declares comes from
 * user text (a model, function, input or training step name), so each one
 * goes through the rules here and nothing else:
 *
 * 1. every character outside `[A-Za-z0-9_]` becomes `_` (one `_` per code
 *    point, so an emoji or a lone surrogate is one `_`);
 * 2. an empty result, or one starting with a digit, gets a leading `_`;
 * 3. a reserved word of JavaScript or TypeScript, or a name the context
 *    reserves, gets a trailing `_`;
 * 4. among names that must differ, names that needed no change keep them, and
 *    the others, in order, take the first of `name`, `name_2`, `name_3`, ...
 *    that is free.
 *
 * A class name is the model name in PascalCase (`mnist_vae` → `MnistVae`):
 * its words (runs of ASCII letters and digits) with the first letter of each
 * raised; an empty result becomes `ReprModel`, one that starts with a digit
 * gets a leading `Model`, and one that the module itself uses
 * (`MODULE_SCOPE_NAMES`) gets a trailing `_`.
 */
import { KEYWORDS, OBJECT_MEMBER_NAMES } from "./identifiers.js";

export { KEYWORDS } from "./identifiers.js";

/**
 * The names the generated module refers to at its top level: its imports, its
 * plan constant and the globals its code and types use. The class must not
 * shadow any of them.
 */
export const MODULE_SCOPE_NAMES: ReadonlySet<string> = new Set([
  "Model",
  "ModelOptions",
  "ModelPlan",
  "planFromJson",
  "PLAN",
  "PARTS",
  "INPUTS",
  "Float32Array",
  "Int32Array",
  "Uint8Array",
  "FitOptions",
  "FitResult",
  "Weights",
  "Pipeline",
  "BackendChoice",
  "PipelineRunOptions",
  "RunHistory",
  "RunState",
  "TensorCopy",
  "Promise",
  "Symbol",
]);

/**
 * Instance members every generated class has, and the names every object
 * has: no function or training step method may take them.
 */
export const FIXED_MEMBER_NAMES: ReadonlySet<string> = new Set([
  "backend",
  "model",
  "plan",
  "create",
  "fromModel",
  "parts",
  "inputs",
  "tensor",
  "tensorNames",
  "freeze",
  "unfreeze",
  "replaceHead",
  "sample",
  "save",
  "load",
  "dispose",
  ...OBJECT_MEMBER_NAMES,
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` is an ASCII identifier name (reserved words included): what may follow a dot or name a property without quotes. */
export function isIdentifierName(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** Whether `name` may be declared as it is, given the names a context reserves. */
export function isSafeIdentifier(name: string, reserved: ReadonlySet<string>): boolean {
  return IDENTIFIER.test(name) && !KEYWORDS.has(name) && !reserved.has(name);
}

/** Rules 1–3: a valid identifier for `name`, not reserved. */
export function safeIdentifier(name: string, reserved: ReadonlySet<string>): string {
  let id = "";
  for (const ch of name) id += /^[A-Za-z0-9_]$/.test(ch) ? ch : "_";
  if (id === "" || /^[0-9]/.test(id)) id = `_${id}`;
  if (KEYWORDS.has(id) || reserved.has(id)) id = `${id}_`;
  return id;
}

/**
 * Rule 4: one identifier per name, all different from each other and from
 * `taken`, in the order of `names`.
 */
export function uniqueIdentifiers(names: readonly string[], reserved: ReadonlySet<string>, taken: Iterable<string> = []): string[] {
  const used = new Set(taken);
  const out: (string | undefined)[] = names.map(() => undefined);
  names.forEach((name, i) => {
    if (isSafeIdentifier(name, reserved) && !used.has(name)) {
      used.add(name);
      out[i] = name;
    }
  });
  return names.map((name, i) => {
    const kept = out[i];
    if (kept !== undefined) return kept;
    const base = safeIdentifier(name, reserved);
    let id = base;
    for (let k = 2; used.has(id) || reserved.has(id) || KEYWORDS.has(id); k++) id = `${base}_${k}`;
    used.add(id);
    return id;
  });
}

/** The words of `name` with their first letters raised: `mnist_vae` → `MnistVae`, `MNIST` → `MNIST`. */
export function pascalCase(name: string): string {
  return (name.match(/[A-Za-z0-9]+/g) ?? []).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

/** The generated class's name: `className` made safe when given, else the model name in PascalCase (the rule at the top of this file). */
export function classNameFor(model: string, className?: string): string {
  if (className !== undefined) return safeIdentifier(className, MODULE_SCOPE_NAMES);
  let name = pascalCase(model);
  if (name === "") name = "ReprModel";
  if (/^[0-9]/.test(name)) name = `Model${name}`;
  return MODULE_SCOPE_NAMES.has(name) || KEYWORDS.has(name) ? `${name}_` : name;
}
