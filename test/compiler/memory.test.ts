import { describe, expect, it } from "vitest";
import { Source } from "../../language/source.js";
import { checkProgram } from "../../compiler/check/check.js";
import { DEFAULT_MAX_MEMORY, DEFAULT_TRAIN_BATCH, estimateMemory, formatBytes, modelUses, parseBytes } from "../../compiler/check/memory.js";
import { DEFAULT_BATCH } from "../../compiler/lower/index.js";
import { renderDiagnostics } from "../../language/diagnostics/render.js";
import { check, expectValid, memoryHost } from "./harness.js";

const small = "model M {\n  input x: f32[4]\n  encoder f = dense(8)\n  decoder g = dense(4)\n  loss l = mse(g(f(x)), x)\n}\n";

describe("the memory estimate", () => {
  it("counts parameters, their gradients and adam state, and the values of a batch (twice, when training)", () => {
    const { program } = expectValid(small);
    const model = program.models[0]!;
    const [use] = modelUses(program).get("M")!;
    const e = estimateMemory(model, use!);
    // f: 4*8 + 8, g: 8*4 + 4.
    expect(e.params).toBe(76);
    expect(e.paramBytes).toBe(76 * 4);
    // A gradient and two adam numbers per parameter.
    expect(e.stateBytes).toBe(76 * 3 * 4);
    // Per example: x (4), f's output (8), g's output (4), the loss (1); kept and differentiated, batch 32.
    expect(e.valueBytes).toBe(17 * 2 * 32 * 4);
    expect(e.total).toBe(e.paramBytes + e.stateBytes + e.valueBytes);
    expect(e.largest?.name).toBe("f");
  });

  it("follows each step's optimizer, batch and trained parts, and counts layers inside blocks and repeats", () => {
    const src = `block mlp(dim: int) {\n  dense(dim) -> relu\n}\n${small.replace("dense(8)", "repeat(2, mlp(8))").replace("dense(4)\n", "dense(4)\n")}data d {\n  x: f32[4]\n}\npipeline P {\n  pretrain M on d.train { batch: 100, optimizer: sgd(lr: 0.1) }\n  freeze f\n  adapt on d.train { batch: 10, optimizer: momentum(lr: 0.1), objective: l }\n  test on d.test { batch: 1000 }\n}\n`;
    const { program } = expectValid(src);
    const model = program.models[0]!;
    const uses = modelUses(program).get("M")!;
    expect(uses.map((u) => u.label)).toEqual([
      "step 1 of pipeline 'P' (pretrain, sgd, batch 100)",
      "step 3 of pipeline 'P' (adapt, momentum, batch 10)",
      "step 4 of pipeline 'P' (test, batch 1000)",
    ]);
    const [pretrain, adapt, test] = uses.map((u) => estimateMemory(model, u));
    // f: dense(8) on [4] then dense(8) on [8]: 40 + 72; g: 36.
    expect(pretrain!.params).toBe(148);
    expect(pretrain!.stateBytes).toBe(148 * 4);
    // Only g trains in the adapt step, with one momentum number per parameter.
    expect(adapt!.stateBytes).toBe(36 * 2 * 4);
    expect(test!.stateBytes).toBe(0);
    // Per example: x 4, inside f: 8 + 8 (dense, relu) twice = 32, g 4, loss 1.
    expect(pretrain!.valueBytes).toBe(41 * 2 * 100 * 4);
    expect(test!.valueBytes).toBe(41 * 1000 * 4);
  });

  it("uses the batch lowering uses when a step names none", () => {
    expect(DEFAULT_TRAIN_BATCH).toBe(DEFAULT_BATCH);
  });
});

describe("the memory rule", () => {
  it("refuses a model over the limit once, at the part that needs the most, with the bytes", () => {
    const src = "model Big {\n  input x: f32[4]\n  encoder f = dense(100000000)\n  decoder g = dense(4)\n  loss l = mse(g(f(x)), x)\n}\n";
    const { diagnostics } = check(src);
    expect(diagnostics.map((d) => d.code), renderDiagnostics(diagnostics)).toEqual(["RC535"]);
    const [d] = diagnostics;
    expect(d!.source.position(d!.span.start)).toEqual({ line: 3, column: 11 });
    expect(d!.message).toBe("model 'Big' needs about 37.3 GB for training it (adam, batch 32), more than the memory limit of 4 GB (the default)");
    expect(d!.notes).toEqual([
      "parameters 3.4 GB (900,000,004), their gradients and adam state 10.1 GB, values for a batch of 32 23.8 GB",
      "encoder 'f' needs 31.3 GB of it (500,000,000 parameters)",
    ]);
    expect(d!.help).toEqual(["make the model or the batch smaller, or raise the limit with --max-memory 38GB if the machine has that much memory"]);
  });

  it("says a 34-billion-parameter model does not fit, instead of '0 warnings'", () => {
    const src = "model Giant {\n  input x: f32[184320]\n  encoder f = dense(184320)\n  loss l = mse(f(x), x)\n}\n";
    const { diagnostics } = check(src);
    expect(diagnostics.map((d) => d.code)).toEqual(["RC535"]);
    expect(diagnostics[0]!.notes[0]).toMatch(/^parameters 127 GB \(33,974,046,720\)/);
  });

  it("follows the limit it is given, and warns past half of it", () => {
    const src = "model Mid {\n  input x: f32[64]\n  encoder f = dense(1000000)\n  decoder g = dense(64)\n  loss l = mse(g(f(x)), x)\n}\n";
    const run = (bytes: number) => checkProgram(new Source("main.repr", src), memoryHost(), { maxMemory: { bytes, origin: "--max-memory test" } }).diagnostics;
    const need = (() => {
      const { program } = checkProgram(new Source("main.repr", src), memoryHost(), { maxMemory: { bytes: 2 ** 50, origin: "x" } });
      return estimateMemory(program.models[0]!, modelUses(program).get("Mid")![0]!).total;
    })();
    expect(run(need - 1).map((d) => d.code)).toEqual(["RC535"]);
    expect(run(need).map((d) => d.code)).toEqual(["RC536"]);
    expect(run(need)[0]!.severity).toBe("warning");
    expect(run(need)[0]!.message).toMatch(/more than half the memory limit of .* \(--max-memory test\)$/);
    expect(run(2 * need)).toEqual([]);
  });

  it("is reported at the model when no part needs most of it", () => {
    const src = "model Wide {\n  input x: f32[2000000000]\n  encoder f = dense(4)\n  output x\n}\n";
    const { diagnostics } = check(src);
    expect(diagnostics.map((d) => d.code)).toEqual(["RC535", "RC527"]);
    expect(diagnostics[0]!.source.position(diagnostics[0]!.span.start)).toEqual({ line: 1, column: 7 });
    expect(diagnostics[0]!.notes).toEqual(["parameters 0 bytes (0), values for a batch of 32 477 GB"]);
  });

  it("leaves programs with other errors alone (their shapes have holes)", () => {
    const src = "model Big {\n  input x: f32[4]\n  encoder f = dense(100000000)\n  loss l = mse(f(x), y)\n}\n";
    expect(check(src).diagnostics.map((d) => d.code)).toEqual(["RC201"]);
  });

  it("has a fixed default of 4 GB", () => {
    expect(DEFAULT_MAX_MEMORY).toBe(4 * 2 ** 30);
  });
});

describe("sizes on the command line and in messages", () => {
  it("reads sizes with binary units", () => {
    expect(parseBytes("8GB")).toBe(8 * 2 ** 30);
    expect(parseBytes("512mb")).toBe(512 * 2 ** 20);
    expect(parseBytes("1.5GB")).toBe(1.5 * 2 ** 30);
    expect(parseBytes("4096")).toBe(4096);
    expect(parseBytes(" 2 TB ")).toBe(2 * 2 ** 40);
    for (const bad of ["", "GB", "-1GB", "0", "8XB", "1e3", "lots"]) expect(parseBytes(bad), bad).toBeNull();
  });

  it("writes sizes short", () => {
    expect(formatBytes(512)).toBe("512 bytes");
    expect(formatBytes(4 * 2 ** 30)).toBe("4 GB");
    expect(formatBytes(1.25 * 2 ** 20)).toBe("1.3 MB");
    expect(formatBytes(745.4 * 2 ** 30)).toBe("745 GB");
  });
});
