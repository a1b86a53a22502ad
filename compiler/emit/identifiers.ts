/**
 * Names generated TypeScript must not use for its own identifiers: the
 * reserved words of JavaScript (strict mode, modules) and TypeScript's
 * keywords and contextual keywords, and the members every object has.
 * Shared by the plan builder (method names) and the module emitter.
 */

/** Reserved words and keywords of JavaScript and TypeScript, and globals a binding must not shadow. */
export const KEYWORDS: ReadonlySet<string> = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if " +
    "import in instanceof new null return super switch this throw true try typeof var void while with yield let static " +
    "implements interface package private protected public await arguments eval undefined NaN Infinity async get set declare " +
    "abstract readonly override accessor constructor type namespace module as of satisfies keyof infer is asserts unique any " +
    "unknown never object string number boolean symbol bigint global require out"
  ).split(" "),
);

/**
 * The names every JavaScript object has (from `Object.prototype`, plus
 * `then`, which makes an object look like a promise to `await`): shadowing
 * them breaks printing, comparison, prototype lookups or `await`.
 */
export const OBJECT_MEMBER_NAMES: readonly string[] = [
  "constructor",
  "prototype",
  "toString",
  "toLocaleString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "__proto__",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "then",
];
