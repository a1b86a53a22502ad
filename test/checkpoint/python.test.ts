import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeSafetensors } from "../../runtime/checkpoint/safetensors.js";
import type { Dtype, Tensor } from "../../runtime/checkpoint/dtypes.js";
import { metadataArb, nameArb, shapeArb, valuesArb } from "./helpers.js";
import { layerTensors, namedModel, torchOutputs } from "./fixtures.js";

/**
 * Independent readers of the files repr writes: a standard-library Python
 * reader (read_safetensors.py), the Python snippets of spec/checkpoints.md, and
 * PyTorch modules (torch_check.py). Each runs when its interpreter and packages
 * are installed and is skipped, saying why, when they are not.
 */
const here = import.meta.dirname;
const reader = join(here, "read_safetensors.py");

/** The first interpreter that can import every module, or null. */
function pythonWith(modules: readonly string[]): string | null {
  for (const python of ["python3", "/usr/bin/python3"]) {
    const probe = spawnSync(python, ["-c", modules.map((m) => `import ${m}`).join("\n") || "pass"], { encoding: "utf8" });
    if (probe.status === 0) return python;
  }
  return null;
}
const python = pythonWith([]);
const skipReason = (modules: readonly string[]): string =>
  modules.length === 0 ? "skipped: no python3 found" : `skipped: no python3 that can import ${modules.join(", ")}`;

function run(interpreter: string, args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(interpreter, args, { encoding: "utf8", cwd, timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "repr-python-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Half-precision bits as a number. */
function fromF16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
const fromBF16 = (bits: number): number => new Float32Array(new Uint32Array([bits << 16]).buffer)[0]!;

/** What a JSON value from the reader stands for. */
function fromJson(dtype: Dtype, value: number | string): number | bigint {
  if (dtype === "I64" || dtype === "U64") return BigInt(value);
  if (value === "NaN") return NaN;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  return value as number;
}

/** The values a tensor's elements stand for, as Python sees them. */
function valuesOf(tensor: Tensor): (number | bigint)[] {
  if (tensor.dtype === "F16") return [...tensor.data].map(fromF16);
  if (tensor.dtype === "BF16") return [...tensor.data].map(fromBF16);
  return [...tensor.data];
}

interface ReaderOutput {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: Dtype; shape: number[]; sum: number | string | null; values: (number | string)[] }>;
}

function readWithPython(tensors: Map<string, Tensor>, metadata: Record<string, string>): ReaderOutput {
  const path = join(dir, "written.safetensors");
  writeFileSync(path, encodeSafetensors(tensors, metadata));
  const result = run(python!, [reader, path]);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ReaderOutput;
}

function expectReadBack(out: ReaderOutput, tensors: Map<string, Tensor>, metadata: Record<string, string>): void {
  expect(out.metadata).toEqual(metadata);
  expect(Object.keys(out.tensors).sort()).toEqual([...tensors.keys()].sort());
  for (const [name, tensor] of tensors) {
    const seen = out.tensors[name]!;
    expect(seen.dtype, name).toBe(tensor.dtype);
    expect(seen.shape, name).toEqual([...tensor.shape]);
    const values = seen.values.map((v) => fromJson(tensor.dtype, v));
    const expected = valuesOf(tensor);
    expect(values.length, name).toBe(expected.length);
    values.forEach((v, i) => expect(Object.is(v, expected[i]) || v === expected[i], `${name}[${i}]: ${v} vs ${expected[i]}`).toBe(true));
    if (typeof seen.sum === "string") {
      expect(BigInt(seen.sum), name).toBe(expected.reduce<bigint>((a, b) => a + BigInt(b), 0n));
    } else {
      // The reader's checksum scales each finite value by 2^-16 first, so that sums near the largest float do not overflow.
      const finite = (expected as number[]).filter(Number.isFinite).map((v) => v * 2 ** -16);
      if (seen.sum === null) expect(finite, name).toEqual([]);
      else {
        const sum = finite.reduce((a, b) => a + b, 0);
        const scale = finite.reduce((a, b) => a + Math.abs(b), 0);
        expect(Math.abs(seen.sum - sum), name).toBeLessThanOrEqual(1e-12 * scale);
      }
    }
  }
}

const dtypesPythonReads: Dtype[] = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "I64", "U64", "F64"];

describe(`an independent standard-library reader${python ? "" : ` (${skipReason([])})`}`, () => {
  it.skipIf(!python)("reads every name, dtype, shape, value and metadata entry of a file repr wrote", () => {
    const tensors = new Map<string, Tensor>([
      ["f.0.weight", { dtype: "F32", shape: [2, 3], data: new Float32Array([0.1, -2.5, NaN, Infinity, -Infinity, -0]) }],
      ["f.0.bias", { dtype: "F32", shape: [2], data: new Float32Array([3.4028234663852886e38, 1.401298464324817e-45]) }],
      ["z.mu.weight", { dtype: "F64", shape: [1, 1, 2], data: new Float64Array([Math.PI, -Number.MIN_VALUE]) }],
      ["f.1.num_batches_tracked", { dtype: "I64", shape: [], data: new BigInt64Array([-(2n ** 63n)]) }],
      ["u64", { dtype: "U64", shape: [2], data: new BigUint64Array([2n ** 64n - 1n, 0n]) }],
      ["half", { dtype: "F16", shape: [4], data: new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001]) }],
      ["brain", { dtype: "BF16", shape: [2], data: new Uint16Array([0x3f80, 0xc040]) }],
      ["ids", { dtype: "I32", shape: [3], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0]) }],
      ["mask", { dtype: "BOOL", shape: [2, 2], data: new Uint8Array([0, 1, 1, 0]) }],
      ["small", { dtype: "I8", shape: [2], data: new Int8Array([-128, 127]) }],
      ["empty", { dtype: "F32", shape: [0, 4], data: new Float32Array(0) }],
      ["é.𝔣.0", { dtype: "U8", shape: [1], data: new Uint8Array([255]) }],
    ]);
    const metadata = { format: "pt", "repr.model": "Named", "repr.step": "12", "clé": "välue\n\"quoted\"" };
    expectReadBack(readWithPython(tensors, metadata), tensors, metadata);
  });

  it.skipIf(!python)("agrees on values near the largest float, whose plain sum would overflow", () => {
    // Found by the property below (seed 233667337): the reader's checksum overflowed.
    const tensors = new Map<string, Tensor>([["f.weight", { dtype: "F64", shape: [2, 3], data: Float64Array.from([0, -2.0956323250114558e293, 0, -1.7976931348623137e308, -1.7976931348623157e308, 1e308]) }]]);
    expectReadBack(readWithPython(tensors, {}), tensors, {});
  });

  it.skipIf(!python)("agrees on random checkpoints (property)", () => {
    const tensorArb = fc
      .tuple(fc.constantFrom(...dtypesPythonReads), shapeArb)
      .chain(([dtype, shape]) => valuesArb(dtype, shape.reduce((a, b) => a * b, 1)).map((data) => ({ dtype, shape, data }) as Tensor));
    const mapArb = fc
      .uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([n]) => n, maxLength: 5 })
      .map((entries) => new Map(entries));
    fc.assert(
      fc.property(mapArb, metadataArb, (tensors, metadata) => {
        expectReadBack(readWithPython(tensors, metadata), tensors, metadata);
      }),
      { numRuns: 8 },
    );
  });

  it.skipIf(!python)("is strict itself: it rejects trailing bytes (so agreeing means something)", () => {
    const path = join(dir, "trailing.safetensors");
    const bytes = encodeSafetensors(new Map([["a", { dtype: "F32", shape: [1], data: new Float32Array([1]) }]]));
    writeFileSync(path, Buffer.concat([bytes, Buffer.from([0])]));
    const result = run(python!, [reader, path]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/trailing bytes/);
  });
});

interface Snippet {
  readonly line: number;
  readonly code: string;
  readonly modules: string[];
}

/** The ```python blocks of spec/checkpoints.md and the modules each imports beyond the standard library. */
function snippets(): Snippet[] {
  const lines = readFileSync(join(here, "..", "..", "spec", "checkpoints.md"), "utf8").split("\n");
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```python") continue;
    let end = i + 1;
    while (lines[end] !== "```") end++;
    const code = lines.slice(i + 1, end).join("\n") + "\n";
    const modules = [...code.matchAll(/^(?:import|from) (numpy|torch|safetensors)\b/gm)].map((m) => m[1]!);
    out.push({ line: i + 1, code, modules: [...new Set(modules)] });
    i = end;
  }
  return out;
}

describe("the Python snippets of spec/checkpoints.md", () => {
  const all = snippets();
  const model = namedModel();

  it("are all found", () => {
    expect(all.length).toBe(4);
    expect(all.map((s) => s.modules)).toEqual([[], ["numpy"], ["safetensors"], ["torch"]]);
  });

  for (const snippet of all) {
    const interpreter = pythonWith(snippet.modules);
    const label = `spec/checkpoints.md:${snippet.line} (${snippet.modules.join(", ") || "standard library"})`;
    it.skipIf(!interpreter)(`${label} reads a checkpoint repr wrote${interpreter ? "" : ` (${skipReason(snippet.modules)})`}`, () => {
      const cwd = mkdtempSync(join(dir, "snippet-"));
      writeFileSync(join(cwd, "model.safetensors"), encodeSafetensors(model, { format: "pt", "repr.model": "Named" }));
      writeFileSync(join(cwd, "snippet.py"), snippet.code);
      const result = run(interpreter!, ["snippet.py"], cwd);
      // Warnings on stderr (an old torch importing a newer NumPy, say) are allowed; failures are not.
      expect(result.status, result.stderr).toBe(0);
      const lines = result.stdout.trim().split("\n");
      if (snippet.modules.includes("torch")) {
        // Parameters only (PyTorch counts running statistics as buffers): the count `repr check` prints for Named.
        expect(lines).toEqual(["loaded 116218 parameters"]);
        return;
      }
      const names = [...model.keys()].sort((a, b) => (a < b ? -1 : 1));
      expect(lines.length).toBe(names.length);
      lines.forEach((line, i) => {
        const name = names[i]!;
        const tensor = model.get(name)!;
        const match = /^(\S+) \[([\d, ]*)\] (\S+)$/.exec(line);
        expect(match, line).not.toBeNull();
        expect(match![1]).toBe(name);
        expect(match![2]).toBe(tensor.shape.join(", "));
        const sum = [...tensor.data].reduce<number>((a, b) => a + Number(b), 0);
        const scale = [...tensor.data].reduce<number>((a, b) => a + Math.abs(Number(b)), 0);
        // NumPy sums F32 in float32; allow for its rounding.
        expect(Math.abs(Number(match![3]) - sum), line).toBeLessThanOrEqual(1e-5 * scale + 1e-6);
      });
    });
  }
});

describe("loading into PyTorch modules by the documented layouts", () => {
  const torchPython = pythonWith(["torch"]);
  it.skipIf(!torchPython)(
    `every layer kind loads with strict=True and computes what the layouts say${torchPython ? "" : ` (${skipReason(["torch"])})`}`,
    () => {
      const tensors = layerTensors();
      const path = join(dir, "layers.safetensors");
      writeFileSync(path, encodeSafetensors(tensors));
      const result = run(torchPython!, [join(here, "torch_check.py"), path]);
      // Warnings on stderr (an old torch importing a newer NumPy, say) are allowed; failures are not.
      expect(result.status, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout) as { dense: number[]; emb: number[]; attention: number[][]; shapes: Record<string, number[]>; num_batches_tracked: number };

      // Every tensor PyTorch's modules hold has the shape the file gave it.
      for (const [name, shape] of Object.entries(out.shapes)) expect(tensors.get(name)?.shape, name).toEqual(shape);
      expect(out.num_batches_tracked).toBe(42);
      const expected = torchOutputs(tensors);
      expected.dense.forEach((v, i) => expect(out.dense[i]).toBeCloseTo(v, 5));
      expect(out.emb).toEqual(expected.emb);
      expected.attention.forEach((row, i) => row.forEach((v, j) => expect(out.attention[i]![j]).toBeCloseTo(v, 4)));
    },
  );
});
