// `npm run bench -- --quick` (bench/all.ts): the JSON's shape only, never its numbers. Each
// workload runs for a fraction of a second; anchors that cannot run here (no PyTorch, no
// network for the JavaScript anchors) must say why instead of failing the run.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

/** A rate, or an anchor that says why it has none. */
function rateOrSkipped(x: unknown): void {
  if (typeof x === "number") {
    expect(Number.isFinite(x) && x > 0).toBe(true);
    return;
  }
  expect(x).toBeTypeOf("object");
  const o = x as Record<string, unknown>;
  if ("skipped" in o) expect(typeof o["skipped"]).toBe("string");
  else expect(Number.isFinite(o["runs_per_s"]) && (o["runs_per_s"] as number) > 0).toBe(true);
}

describe("bench/all.ts --quick", () => {
  it("prints every workload of issue 12 with repr's rates, peaks and its anchors", { timeout: 600_000 }, () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/all.ts", "--quick"], { cwd: root, encoding: "utf8", timeout: 590_000, maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, any>;
    expect(out["quick"]).toBe(true);
    const threads = out["repr_threads"] as number;
    expect(threads).toBeGreaterThanOrEqual(1);

    const peak = out["wasm_simd_peak"];
    expect(["relaxed madd", "mul+add"]).toContain(peak.instruction_used);
    expect(peak.used_1_thread).toBeGreaterThan(0);
    expect(peak[`used_${threads}_threads`]).toBeGreaterThan(0);
    expect(peak.gflops.muladd_1).toBeGreaterThan(0);

    expect(typeof out["pytorch_anchor"].valid).toBe("boolean");
    if (!out["pytorch_anchor"].valid) expect(out["pytorch_anchor"].void_because.length).toBeGreaterThan(0);

    expect(Object.keys(out["matmul_gflops"]).sort()).toEqual(["1024", "256", "4096", "512"]);
    for (const n of ["256", "512", "1024"]) {
      const m = out["matmul_gflops"][n];
      expect(m.repr_1_thread).toBeGreaterThan(0);
      expect(m[`fraction_of_peak_${threads}_threads`]).toBeGreaterThan(0);
      if (!("pytorch" in m)) rateOrSkipped(m.pytorch_2_threads.runs_per_s);
    }

    expect(Object.keys(out["autoencoder"]).sort()).toEqual(["encode_batch_1024", "step_batch_128", "step_batch_256"]);
    expect(out["autoencoder"]["step_batch_256"].effective_mflop_per_run).toBe(570);
    for (const a of Object.values(out["autoencoder"]) as Record<string, any>[]) {
      expect(a.repr_runs_per_s).toBeGreaterThan(0);
      expect(a.repr_arena_bytes).toBeGreaterThan(0);
      expect(Number.isInteger(a.repr_peak_bytes)).toBe(true);
      expect(a[`fraction_of_peak_${threads}_threads`]).toBeGreaterThan(0);
      rateOrSkipped(a.jax_js);
      rateOrSkipped(a.tfjs_wasm);
    }

    // Every example of examples/ has its training step, or says why not.
    const examples = out["examples_train_step"] as Record<string, Record<string, any>>;
    expect(Object.keys(examples)).toEqual(expect.arrayContaining(["mnist-autoencoder", "masked-autoencoder", "tiny-gpt", "colorization", "contrastive"]));
    for (const e of Object.values(examples)) {
      if ("skipped" in e) continue;
      expect(e.batch).toBe(4);
      expect(e.repr_runs_per_s).toBeGreaterThan(0);
      expect(e.repr_arena_bytes).toBeGreaterThan(0);
      if ("pytorch" in e) expect(typeof e.pytorch.skipped).toBe("string");
      else expect(e.pytorch_2_threads.runs_per_s).toBeGreaterThan(0);
    }
  });
});
