/**
 * Checkpoints in and out of `repr train` and `repr test` (issue 10, item 5):
 * what repr writes it reads back, for every kind of tensor it keeps (float
 * weights, batch norm's running statistics, its integer step counter, Adam's
 * moments in the resume file); `--init` checks each tensor's dtype against
 * the model instead of storing an integer tensor in a float's place (which
 * was then written as I64 and refused on load); weights that are not finite
 * are refused, naming the tensor and the first bad element; and a test whose
 * loss is not finite fails.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeSafetensors, type Tensor } from "../../runtime/checkpoint/index.js";
import { hasStackTrace, runCli } from "../cli/run-cli.js";
import { digitsProgram, readTensors, startCli, tempDir } from "./helpers.js";

const dir = tempDir("checkpoints");

/** A model with every kind of tensor a checkpoint holds: F32 weights, running statistics and batch norm's I64 counter. */
const BN = digitsProgram({
  model: "BN",
  encoder: "flatten -> dense(8) -> batch_norm -> relu",
  decoder: "dense(784) -> reshape(shape: [1, 28, 28])",
  steps: ["pretrain BN on digits.train { steps: 10, batch: 16, optimizer: adam(lr: 1e-3) }", "test on digits.test { metrics: [mse] }"],
});

const file = join(dir, "bn.repr");
writeFileSync(file, BN);
const train = (out: string, ...extra: string[]) => runCli(["train", file, "--out", out, "--limit", "64", "--plain", ...extra]);
const first = join(dir, "first");
const weights = join(first, "1-pretrain.safetensors");

/** Name → dtype and shape of a checkpoint's tensors. */
const layout = (path: string) => new Map([...readTensors(path)].map(([n, t]) => [n, `${t.dtype} [${t.shape.join(", ")}]`]));

/** A copy of the first run's weights with some tensors replaced, written to `name`. */
function variant(name: string, change: (tensors: Map<string, Tensor>) => void): string {
  const tensors = readTensors(weights);
  change(tensors);
  const path = join(dir, name);
  writeFileSync(path, encodeSafetensors(tensors));
  return path;
}

/** Runs the CLI and expects exit 1 with a coded error and no stack trace; returns stderr. */
function refused(r: { status: number | null; stderr: string }, code: string): string {
  expect(r.stderr).toContain(`error ${code}: `);
  expect(r.stderr).not.toSatisfy(hasStackTrace);
  expect(r.status).toBe(1);
  return r.stderr;
}

beforeAll(() => {
  const r = train(first);
  expect(r.status, r.stderr).toBe(0);
}, 60_000);

describe("what repr writes, it reads back", () => {
  it("writes F32 weights and statistics and an I64 step counter", () => {
    const tensors = layout(weights);
    expect(tensors.get("f.2.num_batches_tracked")).toBe("I64 []");
    expect(tensors.get("f.2.running_var")).toBe("F32 [8]");
    expect([...tensors.values()].filter((t) => t.startsWith("F32")).length).toBe(tensors.size - 1);
  });

  it("reads its own checkpoint as --init and as --weights, and writes the same layout again", () => {
    const again = join(dir, "again");
    const r = train(again, "--init", weights);
    expect(r.status, r.stderr).toBe(0);
    expect(layout(join(again, "1-pretrain.safetensors"))).toEqual(layout(weights));
    const t = runCli(["test", file, "--weights", join(again, "1-pretrain.safetensors"), "--limit", "64"]);
    expect(t.status, t.stderr).toBe(0);
  });

  it("takes an I32 counter as well as an I64 one, and writes it back as I64", () => {
    const i32 = variant("i32-counter.safetensors", (ts) => ts.set("f.2.num_batches_tracked", { dtype: "I32", shape: [], data: Int32Array.of(7) }));
    const out = join(dir, "from-i32");
    const r = train(out, "--init", i32);
    expect(r.status, r.stderr).toBe(0);
    expect(layout(join(out, "1-pretrain.safetensors"))).toEqual(layout(weights));
  });

  it("resumes from its resume file: Adam's moments, the statistics and the counter come back", async () => {
    const out = join(dir, "resumed");
    const run = startCli(["train", file, "--out", out, "--limit", "64", "--plain", "--checkpoint-every", "0"], ["update:1:4"]);
    await run.paused("update:1:4");
    run.child.kill("SIGINT");
    expect(await run.exited, run.stderr).toBe(130);
    const saved = layout(join(out, "resume.safetensors"));
    expect(saved.get("f.2.num_batches_tracked")).toBe("I64 []");
    expect([...saved.keys()].some((n) => n.includes(".adam."))).toBe(true);
    const r = train(out, "--resume");
    expect(r.status, r.stderr).toBe(0);
    expect(layout(join(out, "1-pretrain.safetensors"))).toEqual(layout(weights));
  });
});

describe("--init checks every tensor against the model", () => {
  it("refuses an integer tensor where the model has floats, naming the tensor, both dtypes and the file", () => {
    const bad = variant("i32-weight.safetensors", (ts) => ts.set("f.1.bias", { dtype: "I32", shape: [8], data: new Int32Array(8) }));
    const err = refused(train(join(dir, "i32-weight"), "--init", bad), "RC805");
    expect(err).toContain(`--init ${bad}: tensor 'f.1.bias' is I32, the model expects F32`);
  });

  it("refuses a float tensor where the model keeps an integer counter", () => {
    const bad = variant("f32-counter.safetensors", (ts) => ts.set("f.2.num_batches_tracked", { dtype: "F32", shape: [], data: Float32Array.of(3) }));
    expect(refused(train(join(dir, "f32-counter"), "--init", bad), "RC805")).toContain("tensor 'f.2.num_batches_tracked' is F32, the model expects an integer (I64)");
  });

  it("refuses weights that are not finite, naming the first bad element", () => {
    const bad = variant("nan.safetensors", (ts) => {
      const w = ts.get("g.0.weight")!.data as Float32Array;
      w[19] = Number.NaN;
      w[40] = Number.POSITIVE_INFINITY;
    });
    expect(refused(train(join(dir, "nan"), "--init", bad), "RC805")).toContain("tensor 'g.0.weight' holds NaN at element 19 ([2, 3]); weights must be finite");
    expect(refused(runCli(["test", file, "--weights", bad, "--limit", "64"]), "RC805")).toContain("tensor 'g.0.weight' holds NaN at element 19 ([2, 3])");
  });
});

describe("repr test", () => {
  it("fails when a loss or a metric is not finite, naming it", () => {
    // Finite weights whose outputs overflow float32: a decoder bias of 3e38 makes the squared error infinite.
    const huge = variant("huge.safetensors", (ts) => (ts.get("g.0.bias")!.data as Float32Array).fill(3e38));
    const err = refused(runCli(["test", file, "--weights", huge, "--limit", "64"]), "RC811");
    expect(err).toContain("test step 2 on digits.test: the loss 'reconstruction' is Infinity, not a finite number");
    // Encoder weights of 3e38 on every pixel of hidden unit 0 make its sum overflow to +inf (every term is
    // positive or 0, so in any float32 arithmetic, products rounded apart or fused into multiply-adds); batch
    // norm with scale 0 then gives inf · 0 = NaN there (and 2, its shift, elsewhere), which relu keeps and the
    // decoder spreads to every output.
    const nan = variant("nan-output.safetensors", (ts) => {
      (ts.get("f.1.weight")!.data as Float32Array).fill(3e38, 0, 784);
      (ts.get("f.2.weight")!.data as Float32Array).fill(0);
      (ts.get("f.2.bias")!.data as Float32Array).fill(2);
    });
    // On the CPU backend by name: float64 (the reference) does not overflow there.
    expect(refused(runCli(["test", file, "--weights", nan, "--limit", "64", "--backend", "cpu"]), "RC811")).toContain("the loss 'reconstruction' is NaN, not a finite number");
  });
});
