/**
 * Cross-check against PyTorch (issue 3, item 9).
 *
 *     npx tsx test/torch/crosscheck.ts [--keep]
 *
 * For two models — the MNIST autoencoder of examples/mnist-autoencoder.repr
 * and one std `transformer_block` (input f32[8, 16], dim 16, heads 2, mse
 * against a target input) — repr initializes the parameters (seed 7), and
 * writes them with a fixed pseudo-random batch as safetensors files into a
 * temporary directory. It takes ONE adam(lr: 1e-3) training step on the
 * reference backend (float64) and on the cpu backend (float32), with every
 * gradient added as a graph output `grad:<name>`. Then
 * test/torch/reference_models.py, an independent float64 PyTorch
 * implementation of the same models (nn.Linear, nn.LayerNorm, hand-written
 * multi-head attention, exact GELU, torch.optim.Adam), loads the same tensors
 * by their spec/checkpoints.md names and writes its loss, gradients and
 * updated weights back as safetensors. Each tensor is compared with
 * max|a − b| / max(max|b|, 1e-300): reference vs torch within 1e-9, cpu vs
 * torch within 1e-4. Prints a table; exits 1 on a mismatch, 2 when torch is
 * missing.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Source } from "../../language/source.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { initialize, lowerModel } from "../../compiler/lower/index.js";
import { lowerTrainStep } from "../../compiler/lower/step-graph.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import type { TensorFeed, TensorValue } from "../../runtime/backends/backend.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { decodeSafetensors, encodeSafetensors, writeCheckpointAtomic, type Tensor } from "../../runtime/checkpoint/index.js";
import type { Node } from "../../runtime/ir/node.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
/** The interpreter with torch: Debian's python3-torch lives under /usr/bin/python3 (REPR_TORCH_PYTHON overrides). */
export const PYTHON = process.env["REPR_TORCH_PYTHON"] ?? "/usr/bin/python3";

/** The tolerances of the issue: float64 reference and float32 cpu against float64 torch. */
export const TOLERANCE = { reference: 1e-9, cpu: 1e-4 } as const;

const BLOCK_SOURCE = `import { transformer_block } from "std"

/// One pre-norm transformer block fitted to a target sequence.
model Block {
  input x: f32[8, 16]
  input target: f32[8, 16]
  encoder f = transformer_block(dim: 16, heads: 2)
  loss fit = mse(f(x), target)
  output f(x)
}
`;

interface Case {
  /** The model's key for reference_models.py. */
  readonly key: "autoencoder" | "block";
  readonly path: string;
  readonly source: string;
  readonly model: string;
  readonly batch: number;
}

const CASES: readonly Case[] = [
  {
    key: "autoencoder",
    path: join(root, "examples", "mnist-autoencoder.repr"),
    source: readFileSync(join(root, "examples", "mnist-autoencoder.repr"), "utf8"),
    model: "Autoencoder",
    batch: 4,
  },
  { key: "block", path: join(root, "test", "torch", "block.repr"), source: BLOCK_SOURCE, model: "Block", batch: 2 },
];

/** One compared tensor. */
export interface Row {
  readonly model: string;
  readonly tensor: string;
  readonly backend: "reference" | "cpu";
  readonly maxAbs: number;
  readonly rel: number;
  readonly ok: boolean;
  /** How the row was judged when not by the plain relative difference. */
  readonly note?: string;
}

/** adam's learning rate in the step (lowerTrainStep's default optimizer, adam(lr: 1e-3)). */
const LR = 1e-3;

function maxAbs(data: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i]!));
  return m;
}

/** Deterministic numbers in [lo, hi) (xorshift32), rounded to float32 so every backend sees the same batch. */
function numbers(n: number, seed: number, lo: number, hi: number): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = Math.fround(lo + ((s >>> 0) / 2 ** 32) * (hi - lo));
  }
  return out;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function f64(shape: readonly number[], data: ArrayLike<number>): Tensor {
  return { dtype: "F64", shape: [...shape], data: Float64Array.from(data) };
}

/** Worst |a − b| and that over max(max|b|, tiny). */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>): { maxAbs: number; rel: number } {
  if (got.length !== want.length) return { maxAbs: Infinity, rel: Infinity };
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return { maxAbs, rel: maxAbs / Math.max(scale, 1e-300) };
}

/** Runs one case: writes the files, steps on both backends and in torch, and compares. */
export async function crossCheckCase(c: Case, dir: string): Promise<Row[]> {
  const { program, diagnostics } = checkProgram(new Source(c.path, c.source), nodeFileHost);
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`${c.model}: ${errors.map((d) => d.message).join("; ")}`);
  const lowered = lowerModel(program, c.model, { batch: c.batch, mode: "train" });
  const step = lowerTrainStep(lowered, null); // adam(lr: 1e-3), constant schedule
  const outputs: Record<string, Node> = Object.fromEntries(step.graph.outputs.map((o) => [o.name, o.node]));
  for (const [name, g] of step.grads) outputs[`grad:${name}`] = g;
  const graph = lowered.builder.graph(outputs);

  // Initial weights (seed 7), rounded to float32 so that all three start from the same numbers.
  const learned = lowered.params.filter((p) => p.kind === "weight" && p.used && p.dtype === "f32");
  const init = initialize(learned, 7);
  const params: Record<string, TensorFeed> = {};
  const initTensors = new Map<string, Tensor>();
  for (const p of learned) {
    const data = init.get(p.name)!.map(Math.fround);
    params[p.name] = { shape: p.shape, data };
    initTensors.set(p.name, f64(p.shape, data));
  }
  for (const s of step.state) params[s.name] = { shape: s.node.shape, data: new Float64Array(size(s.node.shape)) };

  // The batch: pixels in [0, 1) for the autoencoder, numbers in [-1, 1) for the block.
  const feeds: Record<string, TensorFeed> = { step: { shape: [], data: [0] } };
  const batchTensors = new Map<string, Tensor>();
  let salt = 11;
  for (const input of lowered.inputs) {
    if (input.kind === "seed") feeds[input.name] = { shape: [], data: [7] };
    else if (input.kind === "step") feeds[input.name] = { shape: [], data: [0] };
    else if (input.kind === "data") {
      const data = c.key === "autoencoder" ? numbers(size(input.shape), salt++, 0, 1) : numbers(size(input.shape), salt++, -1, 1);
      feeds[input.name] = { shape: input.shape, data };
      batchTensors.set(input.name, f64(input.shape, data));
    } else throw new Error(`${c.model}: unexpected input ${input.name} (${input.kind})`);
  }
  await writeCheckpointAtomic(join(dir, "init.safetensors"), encodeSafetensors(initTensors, { model: c.model, seed: "7" }));
  await writeCheckpointAtomic(join(dir, "batch.safetensors"), encodeSafetensors(batchTensors));

  const kg = planKernelGraph(graph);
  const results: Record<"reference" | "cpu", Record<string, TensorValue>> = {
    reference: compileReference(kg).run(feeds, params),
    cpu: compileCpu(kg).run(feeds, params),
  };
  for (const [backend, out] of Object.entries(results)) {
    const kept = new Map<string, Tensor>();
    for (const [name, v] of Object.entries(out)) if (name === "loss" || name.startsWith("grad:") || (name.startsWith("new:") && !name.includes(".adam."))) kept.set(name, f64(v.shape, v.data));
    await writeCheckpointAtomic(join(dir, `${backend}.safetensors`), encodeSafetensors(kept));
  }

  const py = spawnSync(PYTHON, [join(here, "reference_models.py"), c.key, dir], { encoding: "utf8" });
  if (py.status !== 0) throw new Error(`reference_models.py ${c.key} failed (${py.status}):\n${py.stderr}`);
  const torch = decodeSafetensors(readFileSync(join(dir, "torch.safetensors")), "torch.safetensors").tensors;

  // A tensor whose gradient is zero in exact arithmetic (attention's key bias: softmax over the keys
  // ignores a constant added to every score of a query) holds roundoff noise on every side, relative
  // to the model's gradient scale; its gradient is compared against that scale, and since adam's first
  // step turns any nonzero noise g into about −lr·g/(|g| + eps), its update is only checked to stay within lr.
  const gradScale = Math.max(...learned.map((p) => maxAbs(torch.get(`grad:${p.name}`)!.data as Float64Array)));
  const zeroGrad = new Set(learned.filter((p) => maxAbs(torch.get(`grad:${p.name}`)!.data as Float64Array) <= 1e-10 * gradScale).map((p) => p.name));
  const names = ["loss", ...learned.map((p) => `grad:${p.name}`), ...learned.map((p) => `new:${p.name}`)];
  const rows: Row[] = [];
  for (const backend of ["reference", "cpu"] as const) {
    for (const name of names) {
      const want = torch.get(name);
      const got = results[backend][name];
      if (!want) throw new Error(`${c.model}: torch wrote no ${name}`);
      if (!got) throw new Error(`${c.model}: ${backend} computed no ${name}`);
      if (got.shape.join() !== want.shape.join()) throw new Error(`${c.model}: ${name} is [${got.shape}] on ${backend} but [${want.shape}] in torch`);
      const param = name.slice(name.indexOf(":") + 1);
      const { maxAbs: d, rel } = compare(got.data, want.data as Float64Array);
      if (!zeroGrad.has(param)) {
        rows.push({ model: c.model, tensor: name, backend, maxAbs: d, rel, ok: rel <= TOLERANCE[backend] });
      } else if (name.startsWith("grad:")) {
        const r = d / gradScale;
        rows.push({ model: c.model, tensor: name, backend, maxAbs: d, rel: r, ok: r <= TOLERANCE[backend], note: "zero gradient: rel to the model's gradient scale" });
      } else {
        const start = params[param]!.data;
        let step = 0;
        for (let i = 0; i < start.length; i++) step = Math.max(step, Math.abs(got.data[i]! - start[i]!), Math.abs(want.data[i] as number - start[i]!));
        rows.push({ model: c.model, tensor: name, backend, maxAbs: d, rel: d / LR, ok: step <= LR * (1 + 1e-6), note: `zero gradient: update of noise, checked |Δθ| ≤ lr (max ${step.toExponential(2)})` });
      }
    }
  }
  return rows;
}

/** Whether /usr/bin/python3 can import torch; null when it can, else why not. */
export function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} cannot run: ${r.error.message}`;
  if (r.status !== 0) return `${PYTHON} cannot import torch (install Debian's python3-torch)`;
  return null;
}

/** Both cases, each in its own temporary directory (removed unless `keep`). */
export async function crossCheck(keep = false): Promise<{ rows: Row[]; dirs: string[] }> {
  const rows: Row[] = [];
  const dirs: string[] = [];
  for (const c of CASES) {
    const dir = mkdtempSync(join(tmpdir(), `repr-torch-${c.key}-`));
    dirs.push(dir);
    try {
      rows.push(...(await crossCheckCase(c, dir)));
    } finally {
      if (!keep) rmSync(dir, { recursive: true, force: true });
    }
  }
  return { rows, dirs };
}

/** The table: one line per tensor, reference and cpu side by side. */
export function table(rows: readonly Row[]): string {
  const e = (x: number) => x.toExponential(2).padStart(9);
  const lines = [`${"model".padEnd(12)}${"tensor".padEnd(24)}${"ref max|d|".padStart(11)}${"ref rel".padStart(11)}${"cpu max|d|".padStart(11)}${"cpu rel".padStart(11)}`];
  for (const r of rows.filter((r) => r.backend === "reference")) {
    const cpu = rows.find((q) => q.backend === "cpu" && q.model === r.model && q.tensor === r.tensor)!;
    const flag = r.ok && cpu.ok ? "" : `  MISMATCH${r.ok ? "" : " (reference)"}${cpu.ok ? "" : " (cpu)"}`;
    const notes = [...new Set([r.note, cpu.note].filter((n) => n !== undefined))];
    const note = notes.length > 0 ? `  (${notes.join("; cpu: ")})` : "";
    lines.push(`${r.model.padEnd(12)}${r.tensor.padEnd(24)}  ${e(r.maxAbs)}  ${e(r.rel)}  ${e(cpu.maxAbs)}  ${e(cpu.rel)}${flag}${note}`);
  }
  for (const backend of ["reference", "cpu"] as const) {
    const worst = Math.max(...rows.filter((r) => r.backend === backend && !r.note).map((r) => r.rel));
    lines.push(`worst ${backend} rel (rows without a note): ${worst.toExponential(2)} (tolerance ${TOLERANCE[backend]})`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const missing = torchMissing();
  if (missing) {
    console.error(`skipped: ${missing}`);
    process.exit(2);
  }
  const keep = process.argv.includes("--keep");
  const { rows, dirs } = await crossCheck(keep);
  console.log(table(rows));
  if (keep) console.log(`files kept in ${dirs.join(", ")}`);
  const bad = rows.filter((r) => !r.ok);
  if (bad.length > 0) {
    console.error(`${bad.length} mismatch(es)`);
    process.exit(1);
  }
  console.log("all tensors agree");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}

