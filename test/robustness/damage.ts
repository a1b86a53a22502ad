import fc from "fast-check";

/** Splits source text into crude tokens (words, numbers, single symbols, whitespace runs). */
export function roughTokens(text: string): string[] {
  return text.match(/\s+|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\/\/\/?[^\n]*|->|./gs) ?? [];
}

/** One way to damage a program, as people and tools damage files. */
export type Damage =
  | { kind: "deleteToken"; at: number }
  | { kind: "duplicateToken"; at: number }
  | { kind: "swapTokens"; a: number; b: number }
  | { kind: "deleteLine"; at: number }
  | { kind: "duplicateLine"; at: number }
  | { kind: "swapLines"; a: number; b: number }
  | { kind: "insertBytes"; at: number; bytes: string }
  | { kind: "truncate"; at: number };

const index = fc.nat({ max: 100_000 });

/** An arbitrary list of damages (positions are taken modulo the text's size). */
export const damages = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant("deleteToken" as const), at: index }),
    fc.record({ kind: fc.constant("duplicateToken" as const), at: index }),
    fc.record({ kind: fc.constant("swapTokens" as const), a: index, b: index }),
    fc.record({ kind: fc.constant("deleteLine" as const), at: index }),
    fc.record({ kind: fc.constant("duplicateLine" as const), at: index }),
    fc.record({ kind: fc.constant("swapLines" as const), a: index, b: index }),
    fc.record({
      kind: fc.constant("insertBytes" as const),
      at: index,
      bytes: fc.oneof(
        fc.string({ maxLength: 6 }),
        fc.string({ unit: "binary", maxLength: 6 }),
        fc.constantFrom("{", "}", "(", ")", "[", "]", "->", "\"", "/*", "///", "=", ":", ",", "\u0000", "\uFFFD", "é", "😀"),
      ),
    }),
    fc.record({ kind: fc.constant("truncate" as const), at: index }),
  ),
  { minLength: 1, maxLength: 4 },
);

/** Applies damages in order to a text. */
export function applyDamage(text: string, list: readonly Damage[]): string {
  let out = text;
  for (const d of list) {
    const tokens = roughTokens(out);
    const lines = out.split("\n");
    const t = (i: number) => (tokens.length === 0 ? 0 : i % tokens.length);
    const l = (i: number) => i % lines.length;
    switch (d.kind) {
      case "deleteToken":
        tokens.splice(t(d.at), 1);
        out = tokens.join("");
        break;
      case "duplicateToken":
        if (tokens.length > 0) tokens.splice(t(d.at), 0, tokens[t(d.at)]!);
        out = tokens.join("");
        break;
      case "swapTokens": {
        if (tokens.length === 0) break;
        const a = t(d.a);
        const b = t(d.b);
        [tokens[a], tokens[b]] = [tokens[b]!, tokens[a]!];
        out = tokens.join("");
        break;
      }
      case "deleteLine":
        lines.splice(l(d.at), 1);
        out = lines.join("\n");
        break;
      case "duplicateLine":
        lines.splice(l(d.at), 0, lines[l(d.at)]!);
        out = lines.join("\n");
        break;
      case "swapLines": {
        const a = l(d.a);
        const b = l(d.b);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        out = lines.join("\n");
        break;
      }
      case "insertBytes": {
        const at = out.length === 0 ? 0 : d.at % (out.length + 1);
        out = out.slice(0, at) + d.bytes + out.slice(at);
        break;
      }
      case "truncate":
        out = out.slice(0, out.length === 0 ? 0 : d.at % out.length);
        break;
    }
  }
  return out;
}
