import { describe, expect, it } from "vitest";
import { Source } from "../../language/source.js";
import { format } from "../../language/format.js";

function fmt(text: string): string {
  const result = format(new Source("t.repr", text));
  expect(result.diagnostics).toEqual([]);
  return result.text!;
}

describe("blank lines", () => {
  it("keeps one blank line where the author grouped members, and is idempotent", () => {
    const text = "model M {\n  input x: f32[4]\n\n\n  // encoder\n  encoder f = dense(3) // why\n  loss l = mse(x -> f -> dense(4), x)\n}\n";
    const once = fmt(text);
    expect(once).toBe(
      "model M {\n  input x: f32[4]\n\n  // encoder\n  encoder f = dense(3) // why\n  loss l = mse(x -> f -> dense(4), x)\n}\n",
    );
    expect(fmt(once)).toBe(once);
  });

  it("adds none where there were none, and none before the first member", () => {
    const text = "pipeline P {\n\n  pretrain M on d.train\n  test on d.test\n}\n";
    expect(fmt(text)).toBe("pipeline P {\n  pretrain M on d.train\n  test on d.test\n}\n");
  });
});
