import { describe, expect, it } from "vitest";
import { Source } from "../../language/source.js";
import { diagnostic } from "../../language/diagnostics/diagnostic.js";
import { messages } from "../../language/diagnostics/messages.js";
import { MAX_FRAME_WIDTH, codeFrame, renderDiagnostics } from "../../language/diagnostics/render.js";
import { checkProgram } from "../../compiler/check/check.js";
import { memoryHost } from "../compiler/harness.js";

describe("code frames", () => {
  it("show a short line whole", () => {
    const source = new Source("a.repr", "  encoder f = dense2(32)\n");
    expect(codeFrame(source, { start: 14, end: 20 })).toEqual(["  1 |   encoder f = dense2(32)", "    |               ^^^^^^"]);
  });

  it("cut a long line to a window around the caret, marked with '…'", () => {
    const line = `${"x".repeat(5000)} oops ${"y".repeat(5000)}`;
    const source = new Source("a.repr", line);
    const at = line.indexOf("oops");
    const [text, carets] = codeFrame(source, { start: at, end: at + 4 });
    expect(text!.length).toBeLessThan(MAX_FRAME_WIDTH + 20);
    expect(text).toMatch(/^ {2}1 \| …x+ oops y+…$/);
    // The carets still sit under 'oops'.
    const caret = carets!.indexOf("^");
    expect(text!.slice(caret, caret + 4)).toBe("oops");
    expect(carets!.trim()).toMatch(/^\| +\^{4}$/);
  });

  it("keep the start of a long line when the caret is near it, and underline no further than the window", () => {
    const source = new Source("a.repr", `model ${"M".repeat(3000)} {`);
    const [text, carets] = codeFrame(source, { start: 6, end: 3006 });
    expect(text).toMatch(/^ {2}1 \| model M+…$/);
    expect(carets!.length).toBeLessThanOrEqual(text!.length);
  });
});

describe("long values in messages", () => {
  it("are cut, so a megabyte-long name makes a one-line message", () => {
    const name = "n".repeat(1 << 20);
    const source = new Source("main.repr", `model M {\n  input x: f32[4]\n  output ${name}\n}\n`);
    const { diagnostics } = checkProgram(source, memoryHost());
    expect(diagnostics.map((d) => d.code)).toEqual(["RC201"]);
    expect(diagnostics[0]!.message).toMatch(/^unknown name 'n+…'$/);
    const rendered = renderDiagnostics(diagnostics);
    expect(rendered.length).toBeLessThan(600);
  });
});

describe("many diagnostics in one file", () => {
  const many = (file: string, n: number) => {
    const source = new Source(file, "x\n".repeat(n));
    return Array.from({ length: n }, (_, i) => diagnostic(messages.unexpectedCharacter, source, { start: 2 * i, end: 2 * i + 1 }, { char: "'x'" }));
  };

  it("show the first 100 of each file and count the rest", () => {
    const rendered = renderDiagnostics([...many("a.repr", 250), ...many("b.repr", 3)]);
    expect(rendered.match(/error RC101/g)).toHaveLength(103);
    expect(rendered).toContain("a.repr: 150 more errors not shown (at most 100 diagnostics are shown per file)");
    expect(rendered).not.toContain("b.repr: ");
  });

  it("from a megabyte of random text stay a screenful", { timeout: 30_000 }, () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = 'abcxyz{}()[]:=,.-> \n0123"/*+';
    const text = Array.from({ length: 1 << 20 }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
    const { diagnostics } = checkProgram(new Source("random.repr", text), memoryHost());
    expect(diagnostics.length).toBeGreaterThan(1000);
    const rendered = renderDiagnostics(diagnostics);
    expect(rendered.match(/^random\.repr:\d+:\d+: error/gm)).toHaveLength(100);
    expect(rendered).toMatch(/random\.repr: [\d,]+ more errors not shown/);
    expect(rendered.length).toBeLessThan(100 * 1000);
  });
});
