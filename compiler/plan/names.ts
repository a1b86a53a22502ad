/**
 * Method names of a plan's functions. A generated module exposes each
 * function as a method of the runtime's `Model`, so a name must be a plain
 * identifier that is no keyword and no member the `Model` already has.
 *
 * The rule for a head (the only functions named by the user):
 *
 * 1. its own name, when it matches `[A-Za-z_][A-Za-z0-9_]*` and is neither a
 *    reserved word of JavaScript/TypeScript nor in `RESERVED_METHOD_NAMES`;
 * 2. otherwise `head_` followed by the name with every character outside
 *    `[A-Za-z0-9_]` replaced by `_` (so `encode` → `head_encode`,
 *    `a-b` → `head_a_b`, `` → `head_`);
 * 3. a name from rule 2 that is already taken (by a function, by a head
 *    that keeps its own name under rule 1, or by an earlier head) gets `_2`,
 *    `_3`, ... appended, the first free one, so heads never share a method.
 *
 * Rule 1 is applied to every head before rule 2, so a head's method name does
 * not change when another head is added or renamed.
 */
import { KEYWORDS, OBJECT_MEMBER_NAMES } from "../emit/identifiers.js";

/** Members of the runtime's `Model` and of every generated class, and the fixed function names: no head may take them. */
export const RESERVED_METHOD_NAMES: ReadonlySet<string> = new Set([
  "create",
  "load",
  "save",
  "dispose",
  "fit",
  "trainStep",
  "evaluate",
  "freeze",
  "unfreeze",
  "replaceHead",
  "sample",
  "encode",
  "decode",
  "forward",
  "tensor",
  "tensorNames",
  "backend",
  "model",
  "plan",
  "fromModel",
  "parts",
  "inputs",
  ...OBJECT_MEMBER_NAMES,
]);


const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` can be a method of the generated module as it is. */
export function isSafeMethodName(name: string): boolean {
  return IDENTIFIER.test(name) && !KEYWORDS.has(name) && !RESERVED_METHOD_NAMES.has(name);
}

/**
 * The method name of each head, in order, given the names already taken by
 * the other functions: the rule at the top of this file.
 */
export function headMethodNames(heads: readonly string[], taken: Iterable<string>): string[] {
  const used = new Set(taken);
  // First every safe name as it is, so that a head called `head_W` keeps its name whatever other heads are called.
  const names: (string | null)[] = heads.map((head) => {
    if (!isSafeMethodName(head) || used.has(head)) return null;
    used.add(head);
    return head;
  });
  return heads.map((head, i) => {
    if (names[i]) return names[i]!;
    const base = isSafeMethodName(head) ? head : `head_${head.replace(/[^A-Za-z0-9_]/g, "_")}`;
    let name = base;
    for (let k = 2; used.has(name) || RESERVED_METHOD_NAMES.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  });
}
