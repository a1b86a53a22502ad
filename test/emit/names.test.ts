/** The identifier rules of generated modules (compiler/emit/names.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeModule } from "../../compiler/emit/describe.js";
import { KEYWORDS, MODULE_SCOPE_NAMES, classNameFor, pascalCase, safeIdentifier, uniqueIdentifiers } from "../../compiler/emit/names.js";
import { nastyName } from "./arbitrary.js";
import { tinyPlan } from "./plans.js";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

describe("class names", () => {
  it.each([
    ["mnist_vae", "MnistVae"],
    ["MNISTClassifier", "MNISTClassifier"],
    ["vae2", "Vae2"],
    ["_", "ReprModel"],
    ["__x__y", "XY"],
    ["2d_net", "Model2dNet"],
    ["Model", "Model_"],
    ["model", "Model_"],
    ["plan", "Plan"],
    ["PLAN", "PLAN_"],
    ["symbol", "Symbol_"],
    ["float32_array", "Float32Array_"],
    ["Promise", "Promise_"],
    ["a-b c😀d", "ABCD"],
  ])("%s → %s", (model, name) => {
    expect(classNameFor(model)).toBe(name);
  });

  it("takes an explicit name, made safe", () => {
    expect(classNameFor("m", "MyNet")).toBe("MyNet");
    expect(classNameFor("m", "class")).toBe("class_");
    expect(classNameFor("m", "Model")).toBe("Model_");
    expect(classNameFor("m", "my-net")).toBe("my_net");
    expect(classNameFor("m", "")).toBe("_");
  });

  it("is always a safe identifier", () => {
    fc.assert(
      fc.property(nastyName, fc.option(nastyName, { nil: undefined }), (model, className) => {
        const name = classNameFor(model, className);
        expect(name).toMatch(IDENTIFIER);
        expect(KEYWORDS.has(name) || MODULE_SCOPE_NAMES.has(name)).toBe(false);
      }),
    );
  });

  it("raises the first letter of each word", () => {
    expect(pascalCase("tiny_gpt")).toBe("TinyGpt");
    expect(pascalCase("")).toBe("");
  });
});

describe("identifiers", () => {
  it.each([
    ["image", "image"],
    ["a b", "a_b"],
    ["a-b", "a_b"],
    ["", "_"],
    ["9lives", "_9lives"],
    ["delete", "delete_"],
    ["count", "count_"],
    ["😀", "_"],
    ["\uD800x", "_x"],
    ["é", "_"],
  ])("%j → %s", (name, id) => {
    expect(safeIdentifier(name, new Set(["count"]))).toBe(id);
  });

  it("keeps names that need no change and suffixes the rest in order", () => {
    expect(uniqueIdentifiers(["a-b", "a_b", "a b", "a_b_2"], new Set())).toEqual(["a_b_3", "a_b", "a_b_4", "a_b_2"]);
    expect(uniqueIdentifiers(["save", "save_", "x"], new Set(["save"]), ["x"])).toEqual(["save__2", "save_", "x_2"]);
  });

  it("gives distinct safe identifiers, deterministically, keeping every name already safe and free", () => {
    fc.assert(
      fc.property(fc.array(nastyName, { maxLength: 8 }), fc.array(nastyName, { maxLength: 3 }), (names, reservedList) => {
        const reserved = new Set(reservedList);
        const ids = uniqueIdentifiers(names, reserved);
        expect(uniqueIdentifiers(names, reserved)).toEqual(ids);
        expect(new Set(ids).size).toBe(names.length);
        for (const id of ids) {
          expect(id).toMatch(IDENTIFIER);
          expect(KEYWORDS.has(id) || reserved.has(id)).toBe(false);
        }
        names.forEach((name, i) => {
          if (IDENTIFIER.test(name) && !KEYWORDS.has(name) && !reserved.has(name) && names.indexOf(name) === i) expect(ids[i]).toBe(name);
        });
      }),
    );
  });
});

describe("a module's names", () => {
  it("sanitizes and disambiguates methods and parameters the same way every time", () => {
    const plan = tinyPlan();
    const fn = plan.functions[0]!;
    const input = fn.inputs[0]!;
    const functions = ["a-b", "a_b", "save", "trainStep", "fit", "runTrain"].map((name) => ({
      ...fn,
      name,
      inputs: ["x y", "x_y", "count", "class"].map((n) => ({ ...input, name: n })),
    }));
    const d = describeModule({ ...plan, functions }, { runtimeImport: "repr/runtime" });
    // The fixture's pipeline `Train` asks for `runTrain`, which a function took first.
    expect(d.classes[0]!.methods.map((m) => m.name)).toEqual(["a_b_2", "a_b", "save_", "trainStep", "fit", "runTrain", "trainStep_2", "fit_2", "evaluate", "runTrain_2"]);
    const first = d.classes[0]!.methods[0]!;
    expect(first.kind === "call" && first.params.map((p) => [p.name, p.key])).toEqual([
      ["x_y_2", "x y"],
      ["x_y", "x_y"],
      ["count_", "count"],
      ["class_", "class"],
    ]);
    expect(describeModule({ ...plan, functions }, { runtimeImport: "repr/runtime" })).toEqual(d);
  });

  it("refuses a plan with two inputs of one name", () => {
    const plan = tinyPlan();
    const fn = plan.functions[0]!;
    const broken = { ...plan, functions: [{ ...fn, inputs: [fn.inputs[0]!, fn.inputs[0]!] }] };
    expect(() => describeModule(broken, { runtimeImport: "repr/runtime" })).toThrow(/two inputs named "image"/);
  });
});
