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
function checkStructure(text: string, plans: readonly ModelPlan[], runtimeImport: string): void {
  const d = describeModule(plans, { runtimeImport });
  const sf = ts.createSourceFile("module.ts", text, ts.ScriptTarget.ES2022, true);
  expect(sf.statements.map((s) => (ts.isImportDeclaration(s) ? "import" : ts.isVariableStatement(s) ? "const" : ts.isClassDeclaration(s) ? "class" : "other"))).toEqual([
    "import",
    ...plans.flatMap(() => ["const", "const", "const", "class"]),
  ]);
  const imp = sf.statements[0] as ts.ImportDeclaration;
  expect((imp.moduleSpecifier as ts.StringLiteral).text).toBe(runtimeImport);
  // Every module-scope name is declared once.
  const declared = d.classes.flatMap((c) => [c.planName, c.partsName, c.inputsName, c.className]);
  expect(new Set(declared).size).toBe(declared.length);
  let docs = 0;
  d.classes.forEach((c, i) => {
    const [plan, parts, inputs, cls] = sf.statements.slice(1 + 4 * i, 5 + 4 * i) as unknown as [ts.VariableStatement, ts.VariableStatement, ts.VariableStatement, ts.ClassDeclaration];
    expect([plan, parts, inputs].map((s) => (s.declarationList.declarations[0]!.name as ts.Identifier).text)).toEqual([c.planName, c.partsName, c.inputsName]);
    expect(cls.name!.text).toBe(c.className);
    const fixed = ["freeze", "unfreeze", ...(c.headNames.length > 0 ? ["replaceHead"] : []), "tensor", "save", "load", "dispose", "[Symbol.dispose]"];
    expect(cls.members.map((m) => (m.name === undefined ? "constructor" : m.name.getText(sf)))).toEqual([
      "plan",
      "parts",
      "inputs",
      "#model",
      "constructor",
      "backend",
      "tensorNames",
      "model",
      "create",
      "fromModel",
      ...c.methods.map((m) => m.name),
      ...fixed,
    ]);
    // Three constants, the class, and every member but `#model` and the constructor.
    docs += 3 + 1 + 8 + c.methods.length + fixed.length;
  });
  // Every comment is one the printer wrote: the header and one doc per declaration.
  // The comments around every token of the tree (a plain scan would read `}` in a template literal as code).
  const found = new Map<number, string>();
  const collect = (node: ts.Node): void => {
    for (const r of [...(ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []), ...(ts.getTrailingCommentRanges(text, node.getEnd()) ?? [])]) {
      found.set(r.pos, r.kind === ts.SyntaxKind.SingleLineCommentTrivia ? "line" : "block");
    }
    for (const child of node.getChildren(sf)) collect(child);
  };
  collect(sf);
  const comments = [...found].sort(([a], [b]) => a - b).map(([, kind]) => kind);
  expect(comments).toEqual(["line", ...Array<string>(docs).fill("block")]);
  // No doc text became a tag.
  const visit = (node: ts.Node): void => {
    for (const tag of ts.getJSDocTags(node)) expect(["param", "returns"]).toContain(tag.tagName.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

/** Runs the module against the recording runtime: each class's plan, metadata and every method's arguments arrive unchanged. */
async function checkBehaviour(js: string, plans: readonly ModelPlan[], runtimeImport: string): Promise<void> {
  const d = describeModule(plans, { runtimeImport });
  const { exports, calls } = runModule(js, runtimeImport, plans.length);
  for (const [i, c] of d.classes.entries()) {
    const plan = plans[i]!;
    const cls = exports[c.className] as Record<string, (...args: unknown[]) => unknown>;
    expect(cls.parts).toEqual(plan.parts.map((p) => ({ name: p.name, role: p.role })));
    expect(cls.inputs).toEqual(c.inputs);
    const before = calls.length;
    const model = (await cls.create!({ seed: 3 })) as Record<string, (...args: unknown[]) => unknown>;
    expect(calls[before]![0]).toBe("create");
    expect(calls[before]![1]).toEqual(plan);
    expect(calls[before]![2]).toEqual({ seed: 3 });
    const last = (): readonly unknown[] => calls[calls.length - 1]!;
    for (const m of c.methods) {
      if (m.kind === "call") {
        const arrays = m.params.map((p) => (p.type === "Int32Array" ? new Int32Array(1) : new Float32Array(1)));
        model[m.name]!(...arrays, 7);
        const [what, fn, inputs, count] = last();
        expect([what, fn, count]).toEqual(["call", m.fn, 7]);
        const expected = Object.fromEntries(m.params.map((p, i) => [p.key, arrays[i]]));
        expect(Object.entries(inputs as object)).toEqual(Object.entries(expected));
        for (const [k, v] of Object.entries(inputs as object)) expect(v).toBe(expected[k]);
      } else if (m.kind === "pipeline") {
        // A static method: the pipeline of the class's plan by name, the options passed on, the model wrapped.
        const options = { data: {}, backend: "cpu" };
        const result = (await cls[m.name]!(options)) as { kind: string; model: unknown };
        const [create, run] = calls.slice(-2);
        expect(create![0]).toBe("Pipeline.create");
        expect(create![1]).toEqual(plan);
        expect(create![2]).toBe(m.pipeline);
        expect(create![3]).toEqual({ backend: "cpu" });
        expect(run).toEqual(["run", options]);
        expect(run![1]).toBe(options);
        expect(result.kind).toBe("done");
        expect(result.model).toBeInstanceOf(exports[c.className] as new (...args: never[]) => unknown);
      } else if (m.kind !== "sample") {
        const data = {};
        const options = m.kind === "fit" ? { epochs: 1 } : m.kind === "evaluate" ? { batch: 3 } : undefined;
        model[m.name]!(data, options);
        expect(last()[0]).toBe(m.kind);
        expect(last()[1]).toBe(m.step);
        expect(last()[2]).toBe(data);
        if (options !== undefined) expect(last()[3]).toBe(options);
      }
    }
    // The static plan is the embedded one; fromModel wraps a model of that plan only.
    expect(cls.plan).toEqual(plan);
    expect(cls.fromModel!({ plan })).toBeInstanceOf(exports[c.className] as new (...args: never[]) => unknown);
    expect(() => cls.fromModel!({ plan: { ...plan, model: `${plan.model}!` } })).toThrow(TypeError);
    expect(model.tensorNames).toEqual(["t"]);
    void model.tensor!("x");
    expect(last()).toEqual(["tensor", "x"]);
    model.freeze!(...c.partNames);
    expect(last()).toEqual(["freeze", ...c.partNames]);
    if (c.headNames.length > 0) {
      model.replaceHead!(c.headNames[0], 5);
      expect(last()).toEqual(["replaceHead", c.headNames[0], 5]);
    }
  }
}

/** Syntax, structure, clean text and behaviour of the module for one plan or several. */
async function checkModule(plans: ModelPlan | readonly ModelPlan[], runtimeImport: string): Promise<void> {
  const list: readonly ModelPlan[] = Array.isArray(plans) ? plans : [plans as ModelPlan];
  const text = emitModule(plans, { runtimeImport });
  const { diagnostics, js } = transpile(text);
  expect(diagnostics).toEqual([]);
  expect(text).not.toMatch(LONE_SURROGATE);
  expect(text).not.toMatch(FORBIDDEN);
  checkStructure(text, list, runtimeImport);
  await checkBehaviour(js, list, runtimeImport);
}

/** Two to three hostile plans, two of them for models whose class names come out the same (`a-b`, `a b` → `AB`). */
const nastyPlans: fc.Arbitrary<ModelPlan[]> = fc
  .tuple(nastyPlan, nastyPlan, fc.option(nastyPlan, { nil: undefined }), fc.constantFrom(["a-b", "a b"], ["Model", "model"], ["PLAN", "P-L-A-N"], ["x", "X"]), fc.boolean())
  .map(([a, b, c, [m, n], clash]) => [clash ? { ...a, model: m } : a, clash ? { ...b, model: n } : b, ...(c !== undefined ? [c] : [])]);

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
        data: [{ name: piece, fields: [{ name: piece, kind: "f32", shape: [3] }] }],
        pipelines: [
          {
            name: piece,
            doc: piece,
            steps: [
              { kind: "pretrain", data: { data: piece, split: "train", labels: null, perClass: null }, seed: null, training: { ...plan.training[0]!, name: piece, doc: piece } },
              { kind: "freeze", parts: [piece] },
              { kind: "replace", part: piece, head: { tensors: [{ name: piece, dtype: "f32", shape: [2], owner: piece }], init: plan.init } },
            ],
            start: { tensors: plan.tensors, init: plan.init },
            after: null,
          },
          { name: `${piece}2`, doc: null, steps: [], start: { tensors: plan.tensors, init: plan.init }, after: null },
        ],
      };
      await checkModule(hostile, piece);
    }
  });

  it("gives several plans one module with a class each, all names distinct", async () => {
    await fc.assert(
      fc.asyncProperty(nastyPlans, nastyString, async (plans, runtimeImport) => checkModule(plans, runtimeImport)),
      { numRuns: 60 },
    );
  });

  it("names the constants after the classes, and class names that come out the same apart", () => {
    const plan = tinyPlan();
    const d = describeModule(["a-b", "a b", "PLAN", "P-L-A-N", "PLAN_AB"].map((model) => ({ ...plan, model })), { runtimeImport: "r" });
    expect(d.classes.map((c) => [c.className, c.planName, c.partsName, c.inputsName])).toEqual([
      ["AB", "PLAN_AB", "PARTS_AB", "INPUTS_AB"],
      ["AB_2", "PLAN_AB_2", "PARTS_AB_2", "INPUTS_AB_2"],
      ["PLAN_", "PLAN_PLAN_", "PARTS_PLAN_", "INPUTS_PLAN_"],
      ["PLAN__2", "PLAN_PLAN__2", "PARTS_PLAN__2", "INPUTS_PLAN__2"],
      ["PLANAB", "PLAN_PLANAB", "PARTS_PLANAB", "INPUTS_PLANAB"],
    ]);
    expect(describeModule(tinyPlan(), { runtimeImport: "r" }).classes.map((c) => [c.className, c.planName, c.partsName, c.inputsName])).toEqual([["TinyClassifier", "PLAN", "PARTS", "INPUTS"]]);
  });

  it("prints one plan alone and in a list of one the same", () => {
    expect(emitModule([tinyPlan()], { runtimeImport: "r" })).toBe(emitModule(tinyPlan(), { runtimeImport: "r" }));
  });

  it("type-checks several plans in one module under strict against the runtime API", () => {
    const modules = fc.sample(nastyPlans, { numRuns: 20, seed: 20261127 }).map((plans) => emitModule([tinyPlan(), ...plans], { runtimeImport: RUNTIME_IMPORT }));
    modules.push(emitModule(["a-b", "a b", "Model", "model", "PLAN", "P-L-A-N"].map((model) => ({ ...tinyPlan(), model })), { runtimeImport: RUNTIME_IMPORT }));
    expect(typeCheck(modules)).toEqual([]);
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
          pipelines: [{ name, doc: null, steps: [], start: { tensors: plan.tensors, init: plan.init }, after: null }],
        },
        { runtimeImport: RUNTIME_IMPORT },
      ),
    );
    expect(typeCheck(modules)).toEqual([]);
  });
});
