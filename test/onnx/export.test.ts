/**
 * `repr compile --target onnx` (compiler/emit/onnx/): every function,
 * training step and test step of every example as an ONNX file whose batch
 * is the symbolic dimension `B`. Each file, run by onnxruntime-node at two
 * batch sizes (random draws filled from the generator as its `repr.draws`
 * metadata says), equals the cpu backend at those sizes within float32
 * tolerance; Debian's python3-onnx checker (1.12, opset 17, full check with
 * shape inference) accepts every file; the CLI writes the folder. Skipped,
 * saying why, where the packages are missing.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeOnnx, printOnnx } from "../../compiler/emit/onnx/index.js";
import { lookupFeed } from "../../runtime/backends/backend.js";
import { cpuBackend } from "../../runtime/backends/cpu/index.js";
import { batchSource, encodeOnnxModel, fillDraw, loadOrt, loadProtobuf, sessionOptions, translateGraph, type Draw } from "../../runtime/backends/onnx/index.js";
import { runCli } from "../cli/run-cli.js";
import { checkerMissing, onnxMissing, PYTHON } from "./available.js";
import { exampleGraphs, graphAt, relativeError } from "./harness.js";

const missing = await onnxMissing();
const noChecker = checkerMissing();
if (missing) console.warn(`test/onnx: ONNX export checks skipped: ${missing}`);
if (noChecker) console.warn(`test/onnx: the ONNX checker is skipped: ${noChecker}`);

const TOLERANCE = 2e-4;
const dir = mkdtempSync(join(tmpdir(), "repr-onnx-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs python3-onnx's checker over every .onnx file under `folder`; returns its report lines. */
function check(folder: string): { status: number | null; out: string } {
  const script = [
    "import glob, sys, onnx",
    "files = sorted(glob.glob(sys.argv[1] + '/**/*.onnx', recursive=True))",
    "for f in files:",
    "    m = onnx.load(f)",
    "    onnx.checker.check_model(m, full_check=True)",
    "    assert m.opset_import[0].version == 17 and m.ir_version == 8",
    "    print('ok', f)",
  ].join("\n");
  const r = spawnSync(PYTHON, ["-c", script, folder], { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe.skipIf(missing !== null)(`repr compile --target onnx${missing ? ` (skipped: ${missing})` : ""}`, () => {
  const graphs = missing ? [] : exampleGraphs();

  it("writes every example graph with a symbolic batch, and each file equals the cpu backend at two batch sizes", async () => {
    const [ort, protobuf] = [await loadOrt(), await loadProtobuf()];
    let compared = 0;
    for (const [k, g] of graphs.entries()) {
      const { model, draws } = translateGraph(batchSource(g.graph), { name: `g${k}` });
      expect(model.graph.inputs.filter((i) => i.dims[0] === "B").length, g.label).toBeGreaterThan(0);
      const bytes = encodeOnnxModel(protobuf, model);
      writeFileSync(join(dir, `g${k}.onnx`), bytes);
      const session = await ort.InferenceSession.create(bytes, sessionOptions({}));
      for (const batch of [2, 5]) {
        const { kernel, feeds, params } = graphAt(g, batch);
        const want = cpuBackend.compile(kernel).run(feeds, params);
        const inputs: Record<string, unknown> = {};
        for (const v of [...kernel.inputs, ...kernel.params]) {
          const feed = lookupFeed(v.name === undefined ? feeds : feeds.has(v.name) ? feeds : params, v.name)!;
          inputs[v.name] = new ort.Tensor(v.dtype === "f32" ? "float32" : "int32", v.dtype === "f32" ? Float32Array.from(feed.data) : Int32Array.from(feed.data), v.shape);
        }
        for (const d of draws) {
          const shape = d.shape.map((n) => (typeof n === "number" ? n : n.B.reduce((s, c, p) => s + c * batch ** p, 0)));
          inputs[d.input] = new ort.Tensor("float32", fillDraw(d as Draw, feeds, new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
        }
        const got = (await session.run(inputs as never, Object.fromEntries(kernel.outputs.map((o) => [o.name, null])) as never)) as Record<string, { data: ArrayLike<number> }>;
        const bad = Object.entries(want)
          .map(([name, v]) => [name, relativeError(got[name]!.data, v.data)] as const)
          .filter(([, e]) => !(e <= TOLERANCE));
        expect(bad, `${g.label} at batch ${batch}`).toEqual([]);
        compared++;
      }
      await session.release();
    }
    expect(compared).toBe(graphs.length * 2);
  }, 600_000);

  it.skipIf(noChecker !== null)(`python3-onnx's checker accepts every file${noChecker ? ` (skipped: ${noChecker})` : ""}`, () => {
    const { status, out } = check(dir);
    expect(status, out).toBe(0);
    expect(out.split("\n").filter((l) => l.startsWith("ok ")).length).toBe(graphs.length);
  }, 300_000);

  it("the CLI writes one file per function, and with --training per training and test step, under safe names", () => {
    const out = join(dir, "cli");
    const r = runCli(["compile", "examples/transfer.repr", "--target", "onnx", "--training", "-o", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(
      ["W", "encode", "forward", "train.train", "Transfer.1-pretrain", "Transfer.4-adapt", "Transfer.5-test", "FromScratch.1-pretrain", "FromScratch.2-test"].map((n) => `${n}.onnx`).sort(),
    );
    const plain = runCli(["compile", "examples/mnist-autoencoder.repr", "--target", "onnx", "-o", join(dir, "ae")]);
    expect(plain.status, plain.stderr).toBe(0);
    expect(readdirSync(join(dir, "ae")).sort()).toEqual(["decode.onnx", "encode.onnx", "forward.onnx"]);
    const bad = runCli(["compile", "examples/transfer.repr", "--target", "onnx", "--emit", "graph", "-o", out]);
    expect([bad.status, bad.stderr.trim()]).toEqual([1, "repr: error: --emit is for --target ts, not --target onnx"]);
  });

  it("writes a checkpoint's weights into the functions, and the file computes with them alone", async () => {
    const ae = graphs.find((g) => g.label.startsWith("mnist-autoencoder.repr Autoencoder function encode"))!;
    const weights = new Map(ae.plan.tensors.map((t, i) => [t.name, Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(k + i) / 10)] as const));
    const files = describeOnnx(ae.plan, { weights });
    const encode = files.find((f) => f.file === "encode.onnx")!;
    expect(encode.model.graph.inputs.map((i) => i.name)).toEqual(["image"]);
    const [[, bytes]] = printOnnx(await loadProtobuf(), [encode], "test") as [[string, Uint8Array]];
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(bytes, sessionOptions({}));
    const { kernel, feeds } = graphAt(ae, 3);
    const params = new Map(kernel.params.map((p) => [p.name, { shape: p.shape, data: weights.get(p.name)! }]));
    const want = cpuBackend.compile(kernel).run(feeds, params)["output"]!.data;
    const image = feeds.get("image")!;
    const got = (await session.run({ image: new ort.Tensor("float32", Float32Array.from(image.data), image.shape) } as never, { output: null } as never)) as Record<string, { data: Float32Array }>;
    expect(relativeError(got["output"]!.data, want)).toBeLessThan(TOLERANCE);
    await session.release();
  });
});
