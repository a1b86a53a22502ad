/**
 * The emitter against hostile plans: whatever text a plan carries, the module
 * parses, has exactly the planned shape (statements, members, comments, doc
 * tags), holds no invisible or ill-formed character, type-checks under
 * `strict`, and passes every name to the runtime unchanged — the plan it
 * embeds reads back deep-equal to the plan it was given.
 */
import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { describeModule, emitModule } from "../../compiler/emit/index.js";
import type { ModelPlan } from "../../runtime/api/plan.js";
import { LONE_SURROGATE, nastyPlan, nastyString, NASTY } from "./arbitrary.js";
import { RUNTIME_IMPORT, runModule, transpile, typeCheck } from "./harness.js";
import { tinyPlan } from "./plans.js";

// Line terminators other than \n, controls, bidi controls: none may appear anywhere in a module.
const FORBIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;

/** The shape the module must have: its statements, class members and comments. */
function checkStructure(text: string, plan: ModelPlan, runtimeImport: string): void {
  const d = describeModule(plan, { runtimeImport });
  const sf = ts.createSourceFile("module.ts", text, ts.ScriptTarget.ES2022, true);
  expect(sf.statements.map((s) => (ts.isImportDeclaration(s) ? "import" : ts.isVariableStatement(s) ? "const" : ts.isClassDeclaration(s) ? "class" : "other"))).toEqual([
    "import",
    "const",
    "const",
    "const",
    "class",
  ]);
  const [imp, , , , cls] = sf.statements as unknown as [ts.ImportDeclaration, ts.Node, ts.Node, ts.Node, ts.ClassDeclaration];
  expect((imp.moduleSpecifier as ts.StringLiteral).text).toBe(runtimeImport);
  expect(cls.name!.text).toBe(d.className);
  const fixed = ["freeze", "unfreeze", ...(d.headNames.length > 0 ? ["replaceHead"] : []), "save", "load", "dispose", "[Symbol.dispose]"];
  expect(cls.members.map((m) => (m.name === undefined ? "constructor" : m.name.getText(sf)))).toEqual([
    "parts",
    "inputs",
    "#model",
    "constructor",
    "create",
    ...d.methods.map((m) => m.name),
    ...fixed,
  ]);
  // Every comment is one the printer wrote: the header and one doc per declaration.
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, false, ts.LanguageVariant.Standard, text);
  const comments: string[] = [];
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    if (t === ts.SyntaxKind.SingleLineCommentTrivia) comments.push("line");
    if (t === ts.SyntaxKind.MultiLineCommentTrivia) comments.push("block");
  }
  const docs = 3 + 1 + 3 + d.methods.length + fixed.length;
  expect(comments).toEqual(["line", ...Array<string>(docs).fill("block")]);
  // No doc text became a tag.
  const visit = (node: ts.Node): void => {
    for (const tag of ts.getJSDocTags(node)) expect(["param", "returns"]).toContain(tag.tagName.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

/** Runs the module against the recording runtime: the plan, the metadata and every method's arguments arrive unchanged. */
async function checkBehaviour(js: string, plan: ModelPlan, runtimeImport: string): Promise<void> {
  const d = describeModule(plan, { runtimeImport });
  const { cls, calls } = runModule(js, runtimeImport);
  expect(cls.parts).toEqual(plan.parts.map((p) => ({ name: p.name, role: p.role })));
  expect(cls.inputs).toEqual(d.inputs);
  const model = (await cls.create!({ seed: 3 })) as Record<string, (...args: unknown[]) => unknown>;
  expect(calls[0]![0]).toBe("create");
  expect(calls[0]![1]).toEqual(plan);
  expect(calls[0]![2]).toEqual({ seed: 3 });
  const last = (): readonly unknown[] => calls[calls.length - 1]!;
  for (const m of d.methods) {
    if (m.kind === "call") {
      const arrays = m.params.map((p) => (p.type === "Int32Array" ? new Int32Array(1) : new Float32Array(1)));
      model[m.name]!(...arrays, 7);
      const [what, fn, inputs, count] = last();
      expect([what, fn, count]).toEqual(["call", m.fn, 7]);
      const expected = Object.fromEntries(m.params.map((p, i) => [p.key, arrays[i]]));
      expect(Object.entries(inputs as object)).toEqual(Object.entries(expected));
      for (const [k, v] of Object.entries(inputs as object)) expect(v).toBe(expected[k]);
    } else {
      const data = {};
      model[m.name]!(data, m.kind === "fit" ? { epochs: 1 } : undefined);
      expect(last()[0]).toBe(m.kind);
      expect(last()[1]).toBe(m.step);
      expect(last()[2]).toBe(data);
    }
  }
  model.freeze!(...d.partNames);
  expect(last()).toEqual(["freeze", ...d.partNames]);
  if (d.headNames.length > 0) {
    model.replaceHead!(d.headNames[0], 5);
    expect(last()).toEqual(["replaceHead", d.headNames[0], 5]);
  }
}

/** Syntax, structure, clean text and behaviour of the module for one plan. */
async function checkModule(plan: ModelPlan, runtimeImport: string): Promise<void> {
  const text = emitModule(plan, { runtimeImport });
  const { diagnostics, js } = transpile(text);
  expect(diagnostics).toEqual([]);
  expect(text).not.toMatch(LONE_SURROGATE);
  expect(text).not.toMatch(FORBIDDEN);
  checkStructure(text, plan, runtimeImport);
  await checkBehaviour(js, plan, runtimeImport);
}

describe("emitModule on hostile plans", () => {
  it("parses, keeps its shape and passes everything through unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(nastyPlan, nastyString, async (plan, runtimeImport) => checkModule(plan, runtimeImport)),
      { numRuns: 100 },
    );
  });

  it("survives each hostile piece in every position at once", async () => {
    for (const piece of NASTY) {
      const plan = tinyPlan();
      const fn = plan.functions[0]!;
      const hostile: ModelPlan = {
        ...plan,
        model: piece,
        doc: piece,
        source: piece,
        parts: [{ name: piece, role: "head", doc: piece }],
        functions: [{ ...fn, name: piece, doc: piece, inputs: [{ ...fn.inputs[0]!, name: piece }, { ...fn.inputs[0]!, name: `${piece}2` }] }],
        training: plan.training.map((s) => ({ ...s, name: piece, doc: piece, inputs: [{ ...s.inputs[0]!, name: piece }] })),
      };
      await checkModule(hostile, piece);
    }
  });

  it("type-checks under strict against the runtime API", () => {
    const plans = [tinyPlan(), ...fc.sample(nastyPlan, { numRuns: 30, seed: 20261127 })];
    const modules = plans.map((plan) => emitModule(plan, { runtimeImport: RUNTIME_IMPORT }));
    expect(typeCheck(modules)).toEqual([]);
  });

  it("type-checks with every reserved word and module name as a name", () => {
    const words = ["class", "delete", "await", "yield", "let", "static", "arguments", "eval", "undefined", "constructor", "__proto__", "then"];
    const scope = ["Model", "ModelPlan", "ModelOptions", "PLAN", "PARTS", "INPUTS", "planFromJson", "Symbol", "Float32Array", "Int32Array", "Promise", "Weights"];
    const plan = tinyPlan();
    const fn = plan.functions[0]!;
    const modules = [...words, ...scope].map((name) =>
      emitModule(
        {
          ...plan,
          model: name,
          parts: [{ name, role: "head", doc: null }],
          functions: [{ ...fn, name, inputs: [name, "count", "count_"].map((n) => ({ ...fn.inputs[0]!, name: n })) }],
          training: plan.training.map((s) => ({ ...s, name })),
        },
        { runtimeImport: RUNTIME_IMPORT },
      ),
    );
    expect(typeCheck(modules)).toEqual([]);
  });
});
