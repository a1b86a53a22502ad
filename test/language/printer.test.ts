import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { format } from "../../language/format.js";
import { parse } from "../../language/parser.js";
import { print } from "../../language/printer.js";
import { strip } from "./helpers.js";

/** Formats text that must be valid. */
function fmt(text: string): string {
  const r = format(new Source("t.repr", text));
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  return r.text!;
}

/** Checks that `input` formats to `expected` and that `expected` is a fixed point. */
function check(input: string, expected: string): void {
  expect(fmt(input)).toBe(expected);
  expect(fmt(expected)).toBe(expected);
}

describe("the kitchen sink", () => {
  const text = readFileSync(join(import.meta.dirname, "fixtures", "kitchen-sink.repr"), "utf8");

  it("is already canonical: formatting leaves it unchanged", () => {
    expect(fmt(text)).toBe(text);
  });

  it("prints back to the same tree", () => {
    const ast = parse(new Source("k.repr", text)).ast;
    expect(strip(parse(new Source("k2.repr", print(ast))).ast)).toEqual(strip(ast));
  });
});

describe("layout", () => {
  it("puts one statement per line, two-space indent, a blank line between items", () => {
    check(
      `import "a.repr" model M { input x: f32[1] output x } data D { x: f32[1] }`,
      `import "a.repr"\n\nmodel M {\n  input x: f32[1]\n  output x\n}\n\ndata D {\n  x: f32[1]\n}\n`,
    );
  });

  it("prints empty bodies on one line", () => {
    check(`model M {\n}\nblock b( ) {  }`, `model M {}\n\nblock b() {}\n`);
  });

  it("prints named imports, params and args canonically", () => {
    check(
      `import {a,b,} from "x"\nblock b(x:int=1,y : layer,) { f( 1 ,k:2, ) }`,
      `import { a, b } from "x"\n\nblock b(x: int = 1, y: layer) {\n  f(1, k: 2)\n}\n`,
    );
  });

  it("keeps a pipe on one line when it fits", () => {
    check(`model M { encoder f = dense(64)->relu->dense(10) }`, `model M {\n  encoder f = dense(64) -> relu -> dense(10)\n}\n`);
  });

  it("breaks a long pipe before each arrow, with extra indent", () => {
    const stages = Array.from({ length: 9 }, (_, i) => `dense(${100 + i})`);
    check(
      `model M { encoder f = ${stages.join(" -> ")} loss l = x on m }`,
      `model M {\n  encoder f = ${stages[0]}\n${stages.slice(1).map((s) => `    -> ${s}\n`).join("")}  loss l = x on m\n}\n`,
    );
  });

  it("prints short maps on one line and long ones one entry per line", () => {
    check(`pipeline p { pretrain M on d {epochs:10,batch:256} }`, `pipeline p {\n  pretrain M on d { epochs: 10, batch: 256 }\n}\n`);
    const long = `pipeline p { pretrain M on digits.train { epochs: 10, batch: 256, optimizer: adamw(lr: 1e-3, weight_decay: 0.05), lr_scale: { f: 0.1 } } }`;
    check(
      long,
      `pipeline p {\n  pretrain M on digits.train {\n    epochs: 10\n    batch: 256\n    optimizer: adamw(lr: 1e-3, weight_decay: 0.05)\n    lr_scale: { f: 0.1 }\n  }\n}\n`,
    );
  });

  it("prints lr_scale keys that are layer paths and ranges as written, flat and broken (spec/paths.md)", () => {
    check(`pipeline p { adapt on d {lr_scale:{f:0.1,f.3 :1,f.top..4: 0.5,f.2.1:2}} }`, `pipeline p {\n  adapt on d { lr_scale: { f: 0.1, f.3: 1, f.top..4: 0.5, f.2.1: 2 } }\n}\n`);
    const text = `pipeline p {\n  adapt on d {\n    lr_scale: {\n      f.0..2: 0.1 // slower\n      f.3: 1\n    }\n  }\n}\n`;
    check(text, text);
  });

  it("keeps numbers as written and re-escapes strings", () => {
    check(`model M { output [1.50, 1E-4, "a\\"b\\\\\\n\\t\\u{1F600}\\u{7}"] }`, `model M {\n  output [1.50, 1E-4, "a\\"b\\\\\\n\\t😀\\u{7}"]\n}\n`);
  });
});

describe("parentheses", () => {
  it.each([
    ["(a + b) * c", "(a + b) * c"],
    ["a + (b * c)", "a + b * c"],
    ["a - (b - c)", "a - (b - c)"],
    ["(a - b) - c", "a - b - c"],
    ["(a -> b) -> c", "(a -> b) -> c"],
    ["a -> (b -> c)", "a -> (b -> c)"],
    ["(a + b) -> c", "a + b -> c"],
    ["-(a + b)", "-(a + b)"],
    ["-(a.b)", "-a.b"],
    ["(-a).b", "(-a).b"],
    ["(a -> b)(x)", "(a -> b)(x)"],
    ["((a))", "a"],
    ["- - 1", "--1"],
  ])("%s prints as %s", (input, output) => {
    check(`model M { output ${input} }`, `model M {\n  output ${output}\n}\n`);
  });

  it("wraps a bare expression that would read as a statement", () => {
    check(`block b() { (output -> relu) }`, `block b() {\n  (output -> relu)\n}\n`);
  });
});

describe("comments", () => {
  it("keeps leading, trailing, end-of-body and end-of-file comments", () => {
    const text = `// about M
model M {
  /* the input */
  input x: f32[1] // trailing
  output x /* one */ // two
  // end of body
}

// end of file
`;
    check(text, text);
  });

  it("moves a comment inside an expression before its statement", () => {
    check(
      `model M {\n  encoder f = dense(3, // why\n    4) -> relu\n}\n`,
      `model M {\n  // why\n  encoder f = dense(3, 4) -> relu\n}\n`,
    );
  });

  it("keeps comments among the stages of a pipe, which then breaks before each '->'", () => {
    check(
      `model M {\n  encoder f = dense(3) -> // why\n    relu\n}\n`,
      `model M {\n  encoder f = dense(3) // why\n    -> relu\n}\n`,
    );
    const broken = `model M {
  decoder g = dense(64) // widen
    // then squash
    -> relu /* c */
    /// not a doc: nothing follows it but '->'
    -> sigmoid // last
  output g
}
`;
    check(broken, broken);
    // A comment inside the first stage still goes before the statement.
    check(`model M {\n  encoder f = dense(/* c */ 3) -> relu\n}\n`, `model M {\n  /* c */\n  encoder f = dense(3) -> relu\n}\n`);
  });

  it("keeps comments among a block's parameters, one parameter per line", () => {
    const text = `block b(
  /// the width
  dim: int, // trailing
  rate: float = 0.1,
  // at the end
) {
  relu
}
`;
    check(text, text);
    check(`block b(dim: int /* c */, rate: float) { relu }`, `block b(
  dim: int, /* c */
  rate: float,
) {
  relu
}
`);
    check(`block b( // none yet
) { relu }`, `block b(
  // none yet
) {
  relu
}
`);
  });

  it("keeps comments among a map's entries, one entry per line", () => {
    const text = `pipeline P {
  /// The only step.
  pretrain M on d {
    /// number of passes
    epochs: 10
    batch: 128 // per step
    lr_scale: {
      f: 0.1 // slower
    }
    // more to come
  }
  test on d { metrics: [mse] }
}
`;
    check(text, text);
    check(`pipeline P {
  pretrain M on d { epochs: 10, /* c */ batch: 2 }
}
`, `pipeline P {
  pretrain M on d {
    epochs: 10 /* c */
    batch: 2
  }
}
`);
  });

  it("never lets a '///' comment that documents nothing become a doc", () => {
    // Inside an expression it moves before the statement, printed as '//'.
    const text = `model M {
  /// the encoder
  encoder f = dense(/// inner
  3)
  let y = f(x /// after
  )
}
`;
    const out = `model M {
  // inner
  /// the encoder
  encoder f = dense(3)
  // after
  let y = f(x)
}
`;
    check(text, out);
    const docs = (t: string) => {
      const m = parse(new Source("t.repr", t)).ast.items[0]!;
      return m.kind === "Model" ? m.members.map((x) => x.doc) : [];
    };
    expect(docs(out)).toEqual(docs(text));
    expect(docs(out)).toEqual(["the encoder", null]);
  });

  it("moves a comment after an opening brace into the body", () => {
    check(`model M { // note\n  input x: f32[1]\n}\n`, `model M {\n  // note\n  input x: f32[1]\n}\n`);
    check(`model M { // note\n}\n`, `model M {\n  // note\n}\n`);
  });

  it("prints doc comments as /// lines", () => {
    check(`///A\n///\n///  B\nmodel M {\n/// x\ninput x: f32[1] }`, `/// A\n///\n///  B\nmodel M {\n  /// x\n  input x: f32[1]\n}\n`);
  });

  it("keeps a trailing comment after a closing brace", () => {
    check(`model M {} // done\nmodel N { input x: f32[1] } // also\n`, `model M {} // done\n\nmodel N {\n  input x: f32[1]\n} // also\n`);
  });

  it("formats a file of comments only", () => {
    check(`// a\n\n/* b */`, `// a\n/* b */\n`);
    check(``, ``);
  });
});

describe("format", () => {
  it("refuses to format a file with parse errors", () => {
    const r = format(new Source("t.repr", "model M { encoder f dense(3) }"));
    expect(r.text).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["RC104"]);
  });
});
