import { expect } from "vitest";
import { Source } from "../../language/source.js";
import { parse } from "../../language/parser.js";
import type { FileNode } from "../../language/ast.js";

/** Parses text that must be valid; fails the test with the diagnostics otherwise. */
export function parseOk(text: string): FileNode {
  const { ast, diagnostics } = parse(new Source("test.repr", text));
  expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return ast;
}

/** The diagnostics of a text as `line:col CODE message` strings. */
export function errorsOf(text: string): string[] {
  const source = new Source("test.repr", text);
  return parse(source).diagnostics.map((d) => {
    const p = source.position(d.span.start);
    return `${p.line}:${p.column} ${d.code} ${d.message}`;
  });
}

/** A copy of a tree without spans (for comparing trees of different texts). */
export function strip<T>(node: T): T {
  return JSON.parse(
    JSON.stringify(node, (key, value: unknown) => (key === "span" || key === "roleSpan" ? undefined : value)),
  ) as T;
}

/** The stripped tree of the first item. */
export function firstItem(text: string): unknown {
  return strip(parseOk(text).items[0]);
}

/** The stripped expression of `model M { output <expr> }`. */
export function exprOf(text: string): unknown {
  const item = parseOk(`model M { output ${text} }`).items[0]!;
  if (item.kind !== "Model") throw new Error("expected a model");
  const out = item.members[0]!;
  if (out.kind !== "Output") throw new Error("expected an output");
  return strip(out.value);
}

/** Shorthands for building expected stripped trees. */
export const id = (name: string) => ({ kind: "Ident", name });
export const num = (raw: string) => ({ kind: "Number", value: Number(raw), raw });
export const nm = (text: string) => ({ kind: "Name", text });
export const arg = (value: unknown, name: string | null = null) => ({ kind: "Arg", name: name === null ? null : nm(name), value });
export const call = (callee: unknown, ...args: unknown[]) => ({ kind: "Call", callee, args });
export const bin = (op: string, left: unknown, right: unknown) => ({ kind: "Binary", op, left, right });
export const pipe = (...stages: unknown[]) => ({ kind: "Pipe", stages });
