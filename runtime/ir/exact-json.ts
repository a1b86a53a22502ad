/**
 * JSON that keeps every number: JSON has no NaN, ±∞ or −0, and graphs hold
 * them (a causal mask's −∞, a constant −0). Such numbers are written as
 * `{ "$num": "-Infinity" }` — one of `NaN`, `Infinity`, `-Infinity`, `-0` —
 * and read back; any other `$num` object is left as it is (a validator then
 * refuses it). Kernel graphs, batch graphs and plans all use this one
 * spelling, so a plan's JSON embeds its graphs unchanged.
 */

/** The spellings of the numbers JSON cannot hold. */
const SPECIAL: ReadonlyMap<string, number> = new Map([
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
  ["-0", -0],
]);

/** `value` as JSON text with NaN, ±∞ and −0 spelled `{"$num": …}`. */
export function toExactJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0)) ? { $num: Object.is(v, -0) ? "-0" : String(v) } : v),
    indent,
  );
}

/** Parses what `toExactJson` wrote; a `SyntaxError` for text that is not JSON. */
export function fromExactJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const num = (v as { $num?: unknown }).$num;
      if (typeof num === "string" && Object.keys(v).length === 1 && SPECIAL.has(num)) return SPECIAL.get(num);
    }
    return v;
  });
}
