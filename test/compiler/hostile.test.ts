import { describe, expect, it } from "vitest";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { MAX_LAYERS, MAX_NESTING } from "../../compiler/check/env.js";
import { check, expectValid } from "./harness.js";

/**
 * Programs built to crash or hang the checker (issue 10): each checks in
 * bounded time and stack, valid ones clean, the others with one coded error.
 * Only a hang guard, never a clock.
 */
const guard = { timeout: 30_000 };

/** `block b0 { dense(4) }` and n - 1 blocks each using the one before; a model uses the last. */
function blockChain(n: number, body = (prev: string) => `{ ${prev} }`): string {
  const blocks = ["block b0() { dense(4) }", ...Array.from({ length: n - 1 }, (_, i) => `block b${i + 1}() ${body(`b${i}`)}`)];
  return `${blocks.join("\n")}\nmodel M {\n  input x: f32[4]\n  encoder f = b${n - 1}\n  loss l = mse(f(x), x)\n}\n`;
}

const codesOf = (src: string, files: Record<string, string> = {}) => check(src, files).diagnostics.map((d) => d.code);

describe("deep programs check without exhausting the stack", () => {
  it("a chain of 1,200 blocks, each using the one before, is valid", guard, () => {
    expectValid(blockChain(1200));
  });

  it("1,000 lets in forward-reference order are valid", guard, () => {
    const lets = Array.from({ length: 1000 }, (_, i) => `  let v${i} = ${i === 999 ? "x" : `v${i + 1}`} -> relu`).join("\n");
    const { program } = expectValid(`model M {\n  input x: f32[4]\n${lets}\n  output v0\n}\n`);
    expect(program.models[0]!.lets).toHaveLength(1000);
  });

  it("1,000 parts in forward order are valid", guard, () => {
    const parts = Array.from({ length: 1000 }, (_, i) => `  part p${i} = ${i === 999 ? "dense(4)" : `p${i + 1} -> relu`}`).join("\n");
    const { program } = expectValid(`model M {\n  input x: f32[4]\n${parts}\n  output p0(x)\n}\n`);
    expect(program.models[0]!.totalParams).toBe(20);
  });

  it("1,000 lets in forward order inside a block are valid", guard, () => {
    const lets = Array.from({ length: 1000 }, (_, i) => `  let v${i} = ${i === 999 ? "x" : `v${i + 1}`} -> relu`).join("\n");
    expectValid(`block deep() {\n  input x\n${lets}\n  output v0\n}\nmodel M {\n  input x: f32[4]\n  output x -> deep\n}\n`);
  });

  it("a cycle of 2,000 lets is one RC207, at the use that closes it, with the cycle shortened", guard, () => {
    const lets = Array.from({ length: 2000 }, (_, i) => `  let v${i} = v${(i + 1) % 2000} -> relu`).join("\n");
    const { diagnostics } = check(`model M {\n  input x: f32[4]\n${lets}\n  output v0\n}\n`);
    expect(diagnostics.map((d) => d.code)).toEqual(["RC207"]);
    expect(diagnostics[0]!.message).toBe("'v0' is defined in terms of itself");
    expect(diagnostics[0]!.source.position(diagnostics[0]!.span.start)).toEqual({ line: 2002, column: 15 });
    expect(diagnostics[0]!.notes).toEqual(["the cycle: v0 -> v1 -> v2 -> … -> v1998 -> v1999 -> v0 (2,000 definitions)"]);
  });

  it("a cycle of 2,000 parts is one RC207 at the first part", guard, () => {
    const parts = Array.from({ length: 2000 }, (_, i) => `  part p${i} = p${(i + 1) % 2000} -> relu`).join("\n");
    const { diagnostics } = check(`model M {\n  input x: f32[4]\n${parts}\n  output p0(x)\n}\n`);
    expect(diagnostics.map((d) => d.code)).toEqual(["RC207"]);
    expect(diagnostics[0]!.source.position(diagnostics[0]!.span.start)).toEqual({ line: 3, column: 8 });
  });

  it("a cycle of 5,000 blocks is one RC212, and no use of them nests", guard, () => {
    const blocks = Array.from({ length: 5000 }, (_, i) => `block b${i}() { b${(i + 1) % 5000} }`).join("\n");
    expect(codesOf(`${blocks}\nmodel M {\n  input x: f32[4]\n  encoder f = b0\n  loss l = mse(f(x), x)\n}\n`)).toEqual(["RC212"]);
  });

  it(`blocks nested deeper than ${MAX_NESTING} levels are one RC214`, guard, () => {
    const { diagnostics } = check(blockChain(3000));
    expect(diagnostics.map((d) => d.code), renderDiagnostics(diagnostics)).toEqual(["RC214"]);
    expect(diagnostics[0]!.notes[0]).toMatch(/^at most 1,500 levels are checked; the outermost application is at main\.repr:3004:16$/);
  });

  it("blocks with lets that nest until the stack runs out are one RC214, not a crash", guard, () => {
    const { diagnostics } = check(blockChain(3000, (prev) => `{\n  input x\n  let h = x -> ${prev}\n  output h\n}`));
    expect(diagnostics.map((d) => d.code)).toEqual(["RC214"]);
    expect(diagnostics[0]!.message).toMatch(/^parts and blocks are applied inside one another [\d,]+ levels deep here, deeper than repr can check$/);
  });

  it("a chain of 3,000 imports is loaded without recursion", guard, () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) files[`f${i}.repr`] = i < 2999 ? `import "./f${i + 1}"\nblock k${i}() { relu }\n` : "block last() { relu }\n";
    const { program } = expectValid(`import "./f0"\nmodel M {\n  input x: f32[4]\n  output x -> k0\n}\n`, files);
    expect(program.files).toHaveLength(3001);
  });
});

describe("programs that expand without bound are refused before they expand", () => {
  it("repeat(1000, repeat(1000, repeat(1000, dense(8)))) is one RC533", guard, () => {
    const { diagnostics } = check("model M {\n  input x: f32[8]\n  encoder f = repeat(1000, repeat(1000, repeat(1000, dense(8))))\n  loss l = mse(f(x), x)\n}\n");
    expect(diagnostics.map((d) => d.code)).toEqual(["RC533"]);
    expect(diagnostics[0]!.message).toBe(
      `this repeat would make 1,000,000 layers (1,000 copies of 1,000 layers), more than the ${MAX_LAYERS.toLocaleString("en-US")} layers a program may expand to`,
    );
  });

  it("40 nested repeat(2, ...) (2^40 layers) are one RC533", guard, () => {
    const { diagnostics } = check(`model M {\n  input x: f32[8]\n  encoder f = ${"repeat(2, ".repeat(40)}dense(8)${")".repeat(40)}\n  loss l = mse(f(x), x)\n}\n`);
    expect(diagnostics.map((d) => d.code)).toEqual(["RC533"]);
  });

  it("blocks that each use the one before twice (2^40 layers) are one RC534", guard, () => {
    expect(codesOf(blockChain(40, (prev) => `{ ${prev} -> ${prev} }`))).toEqual(["RC534"]);
  });

  it("a repeat within the limit is checked in full", () => {
    const { program } = expectValid("model M {\n  input x: f32[8]\n  encoder f = repeat(100, repeat(100, dense(8)))\n  loss l = mse(f(x), x)\n}\n");
    expect(program.models[0]!.totalParams).toBe(100 * 100 * 72);
  });
});

describe("calls with very many arguments", () => {
  it("20,000 positional arguments are one RC303 whose rendering stays small", guard, () => {
    const { diagnostics } = check(`model M {\n  input x: f32[8]\n  encoder f = dense(8${", 8".repeat(20000)})\n  loss l = mse(f(x), x)\n}\n`);
    expect(diagnostics.map((d) => d.code)).toEqual(["RC306", "RC303"]);
    expect(diagnostics[1]!.message).toBe("dense takes at most 2 positional argument(s), got 20001");
    expect(renderDiagnostics(diagnostics).length).toBeLessThan(2000);
  });
});
