import { describe, expect, it } from "vitest";
import { arg, bin, call, exprOf, firstItem, id, nm, num, parseOk, pipe, strip } from "./helpers.js";

describe("imports", () => {
  it("imports a whole file", () => {
    expect(firstItem(`import "std/layers.repr"`)).toEqual({
      kind: "Import",
      names: null,
      path: { kind: "String", value: "std/layers.repr" },
      doc: null,
    });
  });

  it("imports names, with a trailing comma", () => {
    expect(firstItem(`import { mlp, resnet, } from "./blocks.repr"`)).toEqual({
      kind: "Import",
      names: [nm("mlp"), nm("resnet")],
      path: { kind: "String", value: "./blocks.repr" },
      doc: null,
    });
  });

  it("lets keywords be imported names", () => {
    const item = parseOk(`import { model, input } from "x"`).items[0]!;
    expect(item.kind === "Import" && item.names?.map((n) => n.text)).toEqual(["model", "input"]);
  });
});

describe("blocks", () => {
  it("parses params with types and defaults, and a sequential body", () => {
    expect(firstItem(`block mlp(hidden: int, out: int = 10, act: layer = relu,) { dense(hidden) -> act -> dense(out) }`)).toEqual({
      kind: "Block",
      name: nm("mlp"),
      params: [
        { kind: "Param", name: nm("hidden"), type: id("int"), default: null },
        { kind: "Param", name: nm("out"), type: id("int"), default: num("10") },
        { kind: "Param", name: nm("act"), type: id("layer"), default: id("relu") },
      ],
      body: [
        {
          kind: "ExprStmt",
          value: pipe(call(id("dense"), arg(id("hidden"))), id("act"), call(id("dense"), arg(id("out")))),
          doc: null,
        },
      ],
      doc: null,
    });
  });

  it("parses an empty parameter list", () => {
    expect(firstItem(`block b() { relu }`)).toMatchObject({ params: [], body: [{ kind: "ExprStmt", value: id("relu") }] });
  });

  it("parses a data-flow body: input, let, output", () => {
    const item = firstItem(`block res(dim: int) {
      input x
      input mem: f32[4]
      let h = x -> dense(4 * dim)
      output x + h
    }`);
    expect(item).toMatchObject({
      body: [
        { kind: "Input", name: nm("x"), type: null },
        { kind: "Input", name: nm("mem"), type: { kind: "Index", target: id("f32"), indices: [num("4")] } },
        { kind: "Let", name: nm("h"), value: pipe(id("x"), call(id("dense"), arg(bin("*", num("4"), id("dim"))))) },
        { kind: "Output", value: bin("+", id("x"), id("h")) },
      ],
    });
  });
});

describe("models", () => {
  const model = parseOk(`model MAE {
    input image: f32[1, 28, 28]
    mask m = random_patches(image, size: 4, ratio: 0.75, encoder_sees: visible)
    encoder f = dense(64)
    bottleneck z = variational(16, beta: 1)
    decoder g = dense(784)
    head h = classifier(10)
    part p = relu
    views a, b = augment(image, shift: 2, flip: true)
    let code = m.input -> f
    loss rec = mse(code -> g, m.target) on m.masked
    loss plain = mse(a, b)
    output code
  }`).items[0]!;

  it("parses every member kind", () => {
    expect(model.kind === "Model" && model.members.map((m) => m.kind)).toEqual([
      "Input", "Mask", "Part", "Part", "Part", "Part", "Part", "Views", "Let", "Loss", "Loss", "Output",
    ]);
  });

  it("keeps part roles", () => {
    const roles = model.kind === "Model" ? model.members.flatMap((m) => (m.kind === "Part" ? [m.role] : [])) : [];
    expect(roles).toEqual(["encoder", "bottleneck", "decoder", "head", "part"]);
  });

  it("parses views and loss-on", () => {
    const members = model.kind === "Model" ? model.members.map(strip) : [];
    expect(members[7]).toMatchObject({ kind: "Views", names: [nm("a"), nm("b")] });
    expect(members[9]).toMatchObject({
      kind: "Loss",
      name: nm("rec"),
      on: { kind: "Member", target: id("m"), name: nm("masked") },
    });
    expect(members[10]).toMatchObject({ kind: "Loss", on: null });
  });

  it("parses an empty model", () => {
    expect(firstItem("model M {}")).toEqual({ kind: "Model", name: nm("M"), members: [], doc: null });
  });
});

describe("data", () => {
  it("parses fields", () => {
    expect(firstItem(`data digits { image: f32[1, 28, 28] label: label(classes: 10) }`)).toEqual({
      kind: "Data",
      name: nm("digits"),
      fields: [
        { kind: "Field", name: nm("image"), type: { kind: "Index", target: id("f32"), indices: [num("1"), num("28"), num("28")] }, doc: null },
        { kind: "Field", name: nm("label"), type: call(id("label"), arg(num("10"), "classes")), doc: null },
      ],
      doc: null,
    });
  });

  it("allows keywords as field names", () => {
    expect(firstItem(`data d { input: f32[3] test: i32[1] }`)).toMatchObject({ fields: [{ name: nm("input") }, { name: nm("test") }] });
  });
});

describe("pipelines", () => {
  const steps = (text: string) => {
    const item = parseOk(`pipeline p { ${text} }`).items[0]!;
    return item.kind === "Pipeline" ? item.steps.map(strip) : [];
  };

  it("parses pretrain with settings", () => {
    expect(steps(`pretrain MAE on digits.train { epochs: 10, batch: 256 optimizer: adam(lr: 1e-3), }`)).toEqual([
      {
        kind: "Pretrain",
        model: nm("MAE"),
        data: { kind: "Member", target: id("digits"), name: nm("train") },
        config: {
          kind: "Map",
          entries: [
            { kind: "Entry", name: nm("epochs"), value: num("10") },
            { kind: "Entry", name: nm("batch"), value: num("256") },
            { kind: "Entry", name: nm("optimizer"), value: call(id("adam"), arg(num("1e-3"), "lr")) },
          ],
        },
        doc: null,
      },
    ]);
  });

  it("parses freeze and unfreeze lists", () => {
    const target = (part: string, path: string[] = [], to: string | null = null) => ({ kind: "LayerTarget", part: nm(part), path: path.map(nm), to: to === null ? null : nm(to) });
    expect(steps(`freeze f, g { train_mode: true } unfreeze f`)).toEqual([
      { kind: "Freeze", parts: [nm("f"), nm("g")], targets: [target("f"), target("g")], config: { kind: "Map", entries: [{ kind: "Entry", name: nm("train_mode"), value: { kind: "Bool", value: true } }] }, doc: null },
      { kind: "Unfreeze", parts: [nm("f")], targets: [target("f")], config: null, doc: null },
    ]);
    // Layers inside parts, by path and by range (spec/paths.md).
    expect(steps(`freeze f.0..2, g.1.3 unfreeze f.stem.2`)).toEqual([
      { kind: "Freeze", parts: [nm("f"), nm("g")], targets: [target("f", ["0"], "2"), target("g", ["1", "3"])], config: null, doc: null },
      { kind: "Unfreeze", parts: [nm("f")], targets: [target("f", ["stem", "2"])], config: null, doc: null },
    ]);
  });

  it("parses replace, adapt and test", () => {
    expect(steps(`replace head with classifier(10) adapt on digits.train(per_class: 10) test on digits.test { metrics: [accuracy] }`)).toEqual([
      { kind: "Replace", part: nm("head"), value: call(id("classifier"), arg(num("10"))), doc: null },
      {
        kind: "Adapt",
        data: call({ kind: "Member", target: id("digits"), name: nm("train") }, arg(num("10"), "per_class")),
        config: null,
        doc: null,
      },
      {
        kind: "Test",
        data: { kind: "Member", target: id("digits"), name: nm("test") },
        config: { kind: "Map", entries: [{ kind: "Entry", name: nm("metrics"), value: { kind: "List", items: [id("accuracy")] } }] },
        doc: null,
      },
    ]);
  });
});

describe("expressions", () => {
  it("parses literals", () => {
    expect(exprOf(`[12, 1.5, 1e-4, 2.5E+3, "a\\"b\\\\c\\n\\t\\u{1F600}", true, false]`)).toEqual({
      kind: "List",
      items: [
        num("12"),
        num("1.5"),
        num("1e-4"),
        num("2.5E+3"),
        { kind: "String", value: 'a"b\\c\n\t😀' },
        { kind: "Bool", value: true },
        { kind: "Bool", value: false },
      ],
    });
  });

  it("parses lists with a trailing comma, and empty lists and maps", () => {
    expect(exprOf(`[1, 2,]`)).toEqual({ kind: "List", items: [num("1"), num("2")] });
    expect(exprOf(`[]`)).toEqual({ kind: "List", items: [] });
    expect(exprOf(`{}`)).toEqual({ kind: "Map", entries: [] });
  });

  it("parses maps with and without commas", () => {
    const map = { kind: "Map", entries: [{ kind: "Entry", name: nm("a"), value: num("1") }, { kind: "Entry", name: nm("b"), value: num("2") }] };
    expect(exprOf(`{ a: 1, b: 2 }`)).toEqual(map);
    expect(exprOf(`{ a: 1 b: 2, }`)).toEqual(map);
  });

  it("gives pipe the lowest precedence and keeps chains flat", () => {
    expect(exprOf(`a + b -> c * d -> e`)).toEqual(pipe(bin("+", id("a"), id("b")), bin("*", id("c"), id("d")), id("e")));
  });

  it("keeps a parenthesised pipe as one stage", () => {
    expect(exprOf(`(a -> b) -> c`)).toEqual(pipe(pipe(id("a"), id("b")), id("c")));
  });

  it("names pipe stages with 'as', which stays an ordinary name elsewhere (spec/paths.md)", () => {
    expect(exprOf(`a as x -> b -> (c -> d) as tail`)).toEqual({ ...pipe(id("a"), id("b"), pipe(id("c"), id("d"))), names: [nm("x"), null, nm("tail")] });
    expect(exprOf(`as -> as as as`)).toEqual({ ...pipe(id("as"), id("as")), names: [null, nm("as")] });
    expect(exprOf(`f.0.1`)).toEqual({ kind: "Member", target: { kind: "Member", target: id("f"), name: nm("0") }, name: nm("1") });
  });

  it("binds * / tighter than + - and associates left", () => {
    expect(exprOf(`a - b - c * d / e`)).toEqual(bin("-", bin("-", id("a"), id("b")), bin("/", bin("*", id("c"), id("d")), id("e"))));
    expect(exprOf(`a - (b - c)`)).toEqual(bin("-", id("a"), bin("-", id("b"), id("c"))));
  });

  it("binds unary minus tighter than * but looser than postfix", () => {
    expect(exprOf(`-a * b`)).toEqual(bin("*", { kind: "Unary", op: "-", operand: id("a") }, id("b")));
    expect(exprOf(`-a.b`)).toEqual({ kind: "Unary", op: "-", operand: { kind: "Member", target: id("a"), name: nm("b") } });
    expect(exprOf(`--1`)).toEqual({ kind: "Unary", op: "-", operand: { kind: "Unary", op: "-", operand: num("1") } });
  });

  it("chains calls, members and indexes left to right", () => {
    expect(exprOf(`a.b(1)[2, 3].c()`)).toEqual({
      kind: "Call",
      callee: {
        kind: "Member",
        target: { kind: "Index", target: call({ kind: "Member", target: id("a"), name: nm("b") }, arg(num("1"))), indices: [num("2"), num("3")] },
        name: nm("c"),
      },
      args: [],
    });
  });

  it("parses named and positional args with a trailing comma", () => {
    expect(exprOf(`mlp(256, out: 10,)`)).toEqual(call(id("mlp"), arg(num("256")), arg(num("10"), "out")));
  });

  it("lets keywords be references, member names, arg keys and map keys", () => {
    expect(exprOf(`m.input -> f(data: on, test: { model: pipeline })`)).toEqual(
      pipe(
        { kind: "Member", target: id("m"), name: nm("input") },
        call(id("f"), arg(id("on"), "data"), arg({ kind: "Map", entries: [{ kind: "Entry", name: nm("model"), value: id("pipeline") }] }, "test")),
      ),
    );
  });
});

describe("keywords", () => {
  it("recognises keywords only as whole words", () => {
    expect(firstItem(`model inputs { input input_x: f32[1] }`)).toMatchObject({ name: nm("inputs"), members: [{ name: nm("input_x") }] });
  });

  it("lets keywords name declarations and members", () => {
    expect(firstItem(`model data { input input: f32[1] encoder model = dense(1) loss loss = mse(input, input) }`)).toMatchObject({
      name: nm("data"),
      members: [{ name: nm("input") }, { name: nm("model") }, { name: nm("loss") }],
    });
  });
});

describe("doc comments", () => {
  it("attaches /// lines to declarations, members, steps, fields and block statements", () => {
    const file = parseOk(`/// A model.
/// Second line.
model M {
  ///   indented
  input x: f32[1]
}
/// Data.
data D {
  /// A field.
  x: f32[1]
}
block b() {
  /// The layer.
  relu
}
pipeline p {
  /// Step.
  test on d
}`);
    const docs = file.items.map((i) => i.doc);
    expect(docs).toEqual(["A model.\nSecond line.", "Data.", null, null]);
    const [m, d, b, p] = file.items;
    expect(m?.kind === "Model" && m.members[0]?.doc).toBe("  indented");
    expect(d?.kind === "Data" && d.fields[0]?.doc).toBe("A field.");
    expect(b?.kind === "Block" && b.body[0]?.doc).toBe("The layer.");
    expect(p?.kind === "Pipeline" && p.steps[0]?.doc).toBe("Step.");
    expect(file.comments).toEqual([]);
  });

  it("keeps ordinary comments, and doc comments that document nothing, as comments", () => {
    const file = parseOk(`// top\nmodel M { /* b */ input x: f32[1] /// stray\n}\n////not a doc`);
    expect(file.comments.map((c) => [c.style, c.text])).toEqual([
      ["line", "// top"],
      ["block", "/* b */"],
      ["line", "/// stray"],
      ["line", "////not a doc"],
    ]);
    expect(file.items[0]?.doc).toBeNull();
  });

  it("does not attach a doc separated by an ordinary comment", () => {
    const file = parseOk(`/// doc\n// note\nmodel M {}`);
    expect(file.items[0]?.doc).toBeNull();
    expect(file.comments.map((c) => c.text)).toEqual(["/// doc", "// note"]);
  });
});

describe("spans", () => {
  it("gives every node its exact source range", () => {
    const text = `/// d\nmodel M {\n  encoder f = dense(64) -> relu\n}\n`;
    const file = parseOk(text);
    const slice = (s: { start: number; end: number }) => text.slice(s.start, s.end);
    const model = file.items[0]!;
    if (model.kind !== "Model") throw new Error("model");
    expect(slice(model.span)).toBe("model M {\n  encoder f = dense(64) -> relu\n}");
    const part = model.members[0]!;
    if (part.kind !== "Part") throw new Error("part");
    expect(slice(part.span)).toBe("encoder f = dense(64) -> relu");
    expect(slice(part.roleSpan)).toBe("encoder");
    expect(slice(part.name.span)).toBe("f");
    expect(slice(part.value.span)).toBe("dense(64) -> relu");
    if (part.value.kind !== "Pipe") throw new Error("pipe");
    expect(slice(part.value.stages[0]!.span)).toBe("dense(64)");
    expect(file.span).toEqual({ start: 0, end: text.length });
  });

  it("covers parentheses and postfix chains", () => {
    const text = `model M { output (a + b).c[1] * -x }`;
    const file = parseOk(text);
    const out = file.items[0]!.kind === "Model" ? file.items[0].members[0]! : null;
    if (!out || out.kind !== "Output" || out.value.kind !== "Binary") throw new Error("binary");
    const slice = (s: { start: number; end: number }) => text.slice(s.start, s.end);
    expect(slice(out.value.span)).toBe("(a + b).c[1] * -x");
    expect(slice(out.value.left.span)).toBe("(a + b).c[1]");
    expect(slice(out.value.right.span)).toBe("-x");
  });
});
