import { describe, expect, it } from "vitest";
import { check, expectErrors, expectValid, modelOf } from "./harness.js";

const lib = "block enc(dim: int) {\n  flatten -> dense(dim)\n}\nblock dec(out: int) {\n  dense(out)\n}\n";
const use = (imp: string) => `${imp}\nmodel M {\n  input x: f32[1, 4, 4]\n  encoder f = enc(8)\n  output f(x)\n}\n`;

describe("imports", () => {
  it("imports named blocks from a relative file, with or without .repr", () => {
    expectValid(use('import { enc } from "./lib"'), { "lib.repr": lib });
    expectValid(use('import { enc, dec } from "lib.repr"'), { "lib.repr": lib });
  });

  it("imports everything a file declares", () => {
    expect(modelOf(use('import "./lib"'), "M", { "lib.repr": lib }).totalParams).toBe(16 * 8 + 8);
  });

  it("resolves imports relative to the importing file", () => {
    expectValid(use('import { enc } from "./sub/a"'), { "sub/a.repr": 'import { dec } from "../lib"\nblock enc(dim: int) {\n  flatten -> dec(dim)\n}\n', "lib.repr": lib });
  });

  it("a missing file is reported at the import string, and the names it would have bound stay quiet", () => {
    const [d] = expectErrors(use('import { enc } from "./nope"'), [{ code: "RC204", line: 1, column: 21 }]);
    expect(d!.message).toBe("cannot find the file './nope' (looked for nope.repr)");
  });

  it("a name the file does not declare, with a suggestion", () => {
    const [d] = expectErrors(use('import { enc, decc } from "./lib"'), [{ code: "RC205", line: 1, column: 15 }], { "lib.repr": lib });
    expect(d!.notes).toEqual(["did you mean 'dec'?"]);
  });

  it("a cycle is reported at the import that closes it, with the cycle in a note", () => {
    const r = check(use('import { enc } from "./a"'), {
      "a.repr": 'import { dec } from "./b"\nblock enc(dim: int) {\n  dense(dim)\n}\n',
      "b.repr": 'import "./a"\nblock dec(out: int) {\n  dense(out)\n}\n',
    });
    const cycle = r.diagnostics.find((d) => d.code === "RC203")!;
    expect(cycle.source.name).toBe("b.repr");
    expect(cycle.source.position(cycle.span.start)).toEqual({ line: 1, column: 8 });
    expect(cycle.notes).toEqual(["the cycle: a.repr -> b.repr -> a.repr"]);
  });

  it("a file importing itself", () => {
    expectErrors('import "./main"\nblock a() {\n  relu\n}\n', [{ code: "RC203", line: 1, column: 8 }]);
  });

  it("an imported name that clashes with a local declaration", () => {
    const [d] = expectErrors('import { enc } from "./lib"\nblock enc() {\n  relu\n}\n', [{ code: "RC202", line: 1, column: 10 }], { "lib.repr": lib });
    expect(d!.related[0]!.message).toBe("first defined here");
  });

  it("a name imported twice by name is RC202, at the second import", () => {
    const [d] = expectErrors(use('import { enc, enc } from "./lib"'), [{ code: "RC202", line: 1, column: 15 }], { "lib.repr": lib });
    expect(d!.related.map((r) => r.message)).toEqual(["first imported here"]);
    expectErrors(use('import { enc } from "./lib"\nimport { enc } from "./lib"'), [{ code: "RC202", line: 2, column: 10 }], { "lib.repr": lib });
  });

  it("a wildcard import may overlap an explicit import of the same declarations", () => {
    expectValid(use('import { enc } from "./lib"\nimport "./lib"'), { "lib.repr": lib });
    expectValid(use('import "./lib"\nimport { enc } from "./lib"'), { "lib.repr": lib });
    expectValid(use('import "./lib"\nimport "./lib"'), { "lib.repr": lib });
  });

  it("pipelines are not imported", () => {
    const withPipeline = `${lib}data d { x: f32[1, 4, 4] }\nmodel N {\n  input x: f32[1, 4, 4]\n  encoder f = enc(2)\n  loss l = mse(f(x), f(x))\n}\npipeline P {\n  pretrain N on d.train\n}\n`;
    const [d] = expectErrors(use('import { enc, P } from "./lib"'), [{ code: "RC213", line: 1, column: 15 }], { "lib.repr": withPipeline });
    expect(d!.message).toBe("'P' in './lib' is a pipeline, and pipelines cannot be imported: a pipeline runs from the file that declares it");
    // A wildcard import brings blocks, models and data, never pipelines: a local P does not clash.
    expectValid(`${use('import "./lib"')}pipeline P {\n  pretrain N on d.train\n}\n`, { "lib.repr": withPipeline });
  });

  it("a name whose import failed is quiet where it is used", () => {
    expectErrors(use('import { encc } from "./lib"').replace("enc(8)", "encc(8)"), [{ code: "RC205", line: 1, column: 10 }], { "lib.repr": lib });
    const models = "model N {\n  input x: f32[4]\n  encoder f = dense(4)\n  loss l = mse(f(x), x)\n}\ndata d { x: f32[4] }\n";
    expectErrors('import { M, d } from "./lib"\npipeline P {\n  pretrain M on d.train\n}\n', [{ code: "RC205", line: 1, column: 10 }], { "lib.repr": models });
  });

  it("errors inside an imported file are reported in that file", () => {
    const r = check(use('import { enc } from "./lib"'), { "lib.repr": "block enc(dim: int) {\n  flatten -> dense(dimm)\n}\n" });
    expect(r.diagnostics.map((d) => [d.code, d.source.name, d.notes])).toEqual([["RC201", "lib.repr", ["did you mean 'dim'?"]]]);
  });
});

describe("the standard library", () => {
  it("is importable as std and std/nn", () => {
    expectValid('import { mlp } from "std"\nmodel M {\n  input x: f32[8]\n  part p = mlp(4, 2)\n  output p(x)\n}');
    expectValid('import { mlp } from "std/nn"\nmodel M {\n  input x: f32[8]\n  part p = mlp(4, 2)\n  output p(x)\n}');
  });

  it("problems inside a std block are reported at the user's use", () => {
    const src = 'import { transformer_block } from "std"\nmodel M {\n  input x: f32[10, 30]\n  part p = transformer_block(dim: 30, heads: 4)\n  output p(x)\n}';
    const [d] = expectErrors(src, [{ code: "RC406", line: 4, column: 12 }]);
    expect(d!.notes[0]).toMatch(/^inside standard-library block 'transformer_block' \(std\/nn\.repr:\d+:\d+\)$/);
  });
});

describe("top-level names", () => {
  it("duplicates point at the first definition", () => {
    const [d] = expectErrors("block a() {\n  relu\n}\nblock a() {\n  gelu\n}\n", [{ code: "RC202", line: 4, column: 7 }]);
    expect(d!.source.position(d!.related[0]!.span.start)).toEqual({ line: 1, column: 7 });
  });

  it("a declaration may not take a built-in's name", () => {
    const [d] = expectErrors("block dense() {\n  relu\n}\n", [{ code: "RC206", line: 1, column: 7 }]);
    expect(d!.message).toBe("'dense' is the name of a built-in layer; a declaration cannot reuse it");
  });

  it("unknown names get suggestions from locals, declarations and built-ins", () => {
    const [d] = expectErrors("model T {\n  input image: f32[4]\n  output imgae -> dense(3)\n}", [{ code: "RC201", line: 3, column: 10 }]);
    expect(d!.notes).toEqual(["did you mean 'image'?"]);
    const [e] = expectErrors("model T {\n  input image: f32[4]\n  output image -> dens(3)\n}", [{ code: "RC201", line: 3, column: 19 }]);
    expect(e!.notes).toEqual(["did you mean 'dense'?"]);
  });
});
