/**
 * Checking stop_gradient and momentum teachers (spec/teachers.md).
 */
import { describe, expect, it } from "vitest";
import { expectErrors, expectValid } from "./harness.js";

const head = "model M {\n  input x: f32[4]\n  encoder f = dense(4) -> relu\n  part g = dense(3)\n";

describe("stop_gradient", () => {
  it("has its argument's type, and works in lets and losses", () => {
    const r = expectValid(`${head}  let s = stop_gradient(g(f(x)))\n  loss l = mse(g(f(x)), s)\n}\n`);
    expect(r.program.models[0]!.lets[0]!.type.shape).toEqual([3]);
  });

  it("PyTorch's name gets a help line", () => {
    const [d] = expectErrors(`${head}  loss l = mse(g(f(x)), detach(g(f(x))))\n}\n`, [{ code: "RC201", line: 5, column: 25 }]);
    expect(d!.help).toEqual(["the value through which no gradient flows is: write 'stop_gradient(x)'"]);
  });
});

describe("ema", () => {
  it("a teacher of parts has their shapes, owns no learned parameters, and may follow a pipe of parts", () => {
    const r = expectValid(`${head}  part t = ema(f -> g, momentum: 0.9)\n  loss l = mse(g(f(x)), stop_gradient(t(x)))\n}\n`);
    const t = r.program.models[0]!.parts.find((p) => p.name === "t")!;
    expect([t.input?.shape, t.output?.shape, t.params]).toEqual([[4], [3], 0]);
    expect(t.layer?.kind === "builtin" && t.layer.args).toEqual({ of: { layer: "encoder 'f' -> part 'g'" }, momentum: 0.9 });
  });

  it("a layer with parameters of its own is RC340, pointing at the argument, with the fix", () => {
    const [d] = expectErrors(`${head}  part t = ema(f -> dense(3))\n  loss l = mse(g(f(x)), t(x))\n}\n`, [{ code: "RC340", line: 5, column: 16 }]);
    expect(d!.message).toBe("ema(...) follows parts by name, but 'dense(3)' in it has parameters of its own");
    expect(d!.help).toEqual(["declare it as a part, e.g. 'part p = dense(3)', and follow p by name"]);
  });

  it("nothing learned to follow is RC341: no parameters, a teacher, a teacher of a teacher", () => {
    expectErrors(`${head}  part t = ema(relu)\n  loss l = mse(f(x), t(f(x)))\n}\n`, [{ code: "RC341", line: 5, column: 16 }]);
    expectErrors(`${head}  part t = ema(f)\n  part u = ema(t)\n  loss l = mse(f(x), t(x)) + mse(f(x), u(x))\n}\n`, [{ code: "RC341", line: 6, column: 16 }]);
    expectErrors(`${head}  part u = ema(ema(f))\n  loss l = mse(f(x), u(x))\n}\n`, [{ code: "RC341", line: 5, column: 16 }]);
  });

  it("anywhere but a part's whole value is RC318; momentum is in [0, 1)", () => {
    expectErrors(`${head}  part t = ema(f) -> relu\n  loss l = mse(f(x), t(x))\n}\n`, [{ code: "RC318", line: 5, column: 12 }]);
    expectErrors(`${head}  let t = x -> ema(f)\n  loss l = mse(f(x), t)\n}\n`, [{ code: "RC318", line: 5, column: 16 }]);
    expectErrors(`${head}  part t = ema(f, momentum: 1)\n  loss l = mse(f(x), t(x))\n}\n`, [{ code: "RC307", line: 5, column: 29 }]);
  });

  it("replacing a head a teacher follows is RC550", () => {
    const src = `model M {
  input x: f32[4]
  input y: label(classes: 2)
  encoder f = dense(4)
  head W = classifier(classes: 2)
  part t = ema(f -> W)
  loss l = cross_entropy(W(f(x)), y) + mse(W(f(x)), stop_gradient(t(x)))
  output W(f(x))
}
data rows {
  x: f32[4]
  y: label(classes: 2)
}
pipeline P {
  pretrain M on rows.train
  replace W with classifier(classes: 2)
}
`;
    const [d] = expectErrors(src, [{ code: "RC550", line: 16, column: 11 }]);
    expect(d!.message).toBe("head 'W' cannot be replaced: the momentum teacher 't' follows it");
  });
});
