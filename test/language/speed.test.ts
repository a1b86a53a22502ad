import { describe, expect, it } from "vitest";
import { Source } from "../../language/source.js";
import { parse } from "../../language/parser.js";

/** About 5,000 lines of valid declarations of every kind. */
function bigFile(lines: number): string {
  const out: string[] = [];
  for (let i = 0; out.length < lines; i++) {
    out.push(
      `/// Model ${i}.`,
      `model M${i} {`,
      `  input x: f32[1, 28, 28]`,
      `  mask m = random_patches(x, size: 4, ratio: 0.75, encoder_sees: visible)`,
      `  encoder f = conv2d(filters: 8, kernel: 3) -> relu -> max_pool(2) -> flatten -> dense(64)`,
      `  let z = m.input -> f`,
      `  loss l = mse(z -> dense(784), m.target) + 0.1 * kl(z, z) on m.masked`,
      `  output z // the code`,
      `}`,
      ``,
      `block b${i}(dim: int, rate: float = 0.1) {`,
      `  input x`,
      `  let h = x -> layer_norm -> dense(4 * dim) -> gelu -> dense(dim)`,
      `  output x + h`,
      `}`,
      ``,
      `pipeline p${i} {`,
      `  pretrain M${i} on digits.train { epochs: 10, batch: 256, optimizer: adam(lr: 1e-3) }`,
      `  freeze f`,
      `  test on digits.test { metrics: [accuracy, top_k(k: 5)] }`,
      `}`,
      ``,
    );
  }
  return out.join("\n");
}

describe("parser speed", () => {
  it("parses a 5,000-line file in well under a second", () => {
    const source = new Source("big.repr", bigFile(5000));
    parse(new Source("warm.repr", bigFile(1000))); // builds the grammar and warms the JIT once
    const start = performance.now();
    const { ast, diagnostics } = parse(source);
    const elapsed = performance.now() - start;
    expect(diagnostics).toEqual([]);
    expect(ast.items.length).toBeGreaterThan(600);
    expect(elapsed).toBeLessThan(1000);
    console.log(`parsed ${source.lineCount} lines in ${elapsed.toFixed(0)} ms`);
  });
});
