import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_INDEX } from "../../runtime/rng/block.js";
import { fillNormal, fillNormalJs, normalAt } from "../../runtime/rng/normal.js";
import { bitsAt, fillBits, fillBitsJs, fillUniform, fillUniformJs, uniformAt, WASM_FILL_MIN } from "../../runtime/rng/uniform.js";
import { rngWasm, rngWasmModule, type RngWasm } from "../../runtime/rng/wasm.js";

/**
 * The generator's fills in WebAssembly SIMD (runtime/rng/wasm.ts) against the
 * JavaScript ones, bit for bit: every stream, offset and length, including
 * offsets inside a block, odd lengths, lengths across the 4096-element chunks
 * the WebAssembly works in, and the carry into the block's high counter word.
 */

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Lengths: mostly short and odd ones, some across one or two chunks. */
const length = fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 9000 }));
/** Offsets anywhere up to 2^53 − 1 − 9000, weighted to block edges, chunk edges and the 2^32-block carry. */
const offset = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: 4096 - 20, max: 4096 + 20 }),
  fc.integer({ min: 0, max: MAX_INDEX - 9000 }),
  fc.integer({ min: 4 * 0xffffffff - 9100, max: 4 * 0xffffffff + 40 }),
);

function wasm(): RngWasm {
  const w = rngWasm();
  if (w === undefined) throw new Error("Node 20 has WebAssembly SIMD, so rngWasm() should be defined");
  return w;
}

/** The first element where the two arrays' bits differ, or null: a float array is read as its 32-bit words, so −0 and NaN payloads count. */
function firstDifference(a: Float32Array | Float64Array | Uint32Array, b: Float32Array | Float64Array | Uint32Array): string | null {
  expect(b.length).toBe(a.length);
  const wa = new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
  const wb = new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const per = wa.length / Math.max(1, a.length);
  for (let i = 0; i < wa.length; i++) if (wa[i] !== wb[i]) return `element ${Math.floor(i / per)}: ${a[Math.floor(i / per)]} against ${b[Math.floor(i / per)]}`;
  return null;
}

afterEach(() => {
  delete process.env["REPR_RNG_WASM"];
});

describe("the WebAssembly generator", () => {
  it("is there in Node 20, and its module stays under the 4 KiB a browser's main thread compiles synchronously", () => {
    expect(rngWasm()).toBeDefined();
    expect(rngWasmModule().length).toBeLessThan(4096);
  });

  it("draws the JavaScript's words for every stream, offset and length", () => {
    fc.assert(
      fc.property(u32, u32, u32, offset, length, (seed, stream, step, at, n) => {
        const out = new Uint32Array(n);
        wasm().bits(out, seed, stream, at, step);
        expect(firstDifference(out, fillBitsJs(new Uint32Array(n), seed, stream, at, step))).toBeNull();
        if (n > 0) expect(out[n - 1]).toBe(bitsAt(seed, stream, at + n - 1, step));
      }),
      { numRuns: 150 },
    );
  });

  it("draws the JavaScript's uniforms, float32 and float64, bit for bit", () => {
    fc.assert(
      fc.property(u32, u32, u32, offset, length, fc.boolean(), (seed, stream, step, at, n, wide) => {
        const make = (): Float32Array | Float64Array => (wide ? new Float64Array(n) : new Float32Array(n));
        const out = make();
        wasm().uniform(out, seed, stream, at, step);
        expect(firstDifference(out, fillUniformJs(make(), seed, stream, at, step))).toBeNull();
        if (n > 0) expect(out[0]).toBe(uniformAt(seed, stream, at, step));
      }),
      { numRuns: 150 },
    );
  });

  it("draws the JavaScript's normals, float32 and float64, bit for bit, from either lane of a pair", () => {
    fc.assert(
      fc.property(u32, u32, u32, offset, length, fc.boolean(), (seed, stream, step, at, n, wide) => {
        const make = (): Float32Array | Float64Array => (wide ? new Float64Array(n) : new Float32Array(n));
        const out = make();
        wasm().normal(out, seed, stream, at, step);
        expect(firstDifference(out, fillNormalJs(make(), seed, stream, at, step))).toBeNull();
        if (n > 0) expect(out[n - 1]).toBe(wide ? normalAt(seed, stream, at + n - 1, step) : Math.fround(normalAt(seed, stream, at + n - 1, step)));
      }),
      { numRuns: 150 },
    );
  });

  it("writes only the elements asked for: a view into a larger array keeps its neighbours", () => {
    const backing = new Float32Array(300).fill(7);
    wasm().uniform(backing.subarray(5, 295), 1, 2, 3, 4);
    expect(backing.slice(0, 5)).toEqual(new Float32Array(5).fill(7));
    expect(backing.slice(295)).toEqual(new Float32Array(5).fill(7));
    expect(firstDifference(backing.subarray(5, 295), fillUniformJs(new Float32Array(290), 1, 2, 3, 4))).toBeNull();
  });
});

describe("the fill functions", () => {
  it("take the WebAssembly from WASM_FILL_MIN elements on and give the JavaScript's numbers either way", () => {
    for (const n of [1, 3, WASM_FILL_MIN - 1, WASM_FILL_MIN, 4097]) {
      expect(firstDifference(fillUniform(new Float32Array(n), 9, 8, 7, 6), fillUniformJs(new Float32Array(n), 9, 8, 7, 6))).toBeNull();
      expect(firstDifference(fillNormal(new Float64Array(n), 9, 8, 7, 6), fillNormalJs(new Float64Array(n), 9, 8, 7, 6))).toBeNull();
      expect(firstDifference(fillBits(new Uint32Array(n), 9, 8, 7, 6), fillBitsJs(new Uint32Array(n), 9, 8, 7, 6))).toBeNull();
    }
  });

  it("stay in JavaScript under REPR_RNG_WASM=0, with the same numbers", () => {
    const wasmFilled = fillNormal(new Float32Array(1000), 5, 6, 11, 2);
    process.env["REPR_RNG_WASM"] = "0";
    expect(rngWasm()).toBeUndefined();
    expect(firstDifference(fillNormal(new Float32Array(1000), 5, 6, 11, 2), wasmFilled)).toBeNull();
    delete process.env["REPR_RNG_WASM"];
    expect(rngWasm()).toBeDefined();
  });

  it("check their stream and indices before either path", () => {
    expect(() => fillUniform(new Float32Array(100), -1, 0)).toThrow(RangeError);
    expect(() => fillNormal(new Float32Array(100), 0, 0, MAX_INDEX - 10)).toThrow(RangeError);
    expect(() => fillBits(new Uint32Array(100), 0, 2 ** 32)).toThrow(RangeError);
  });
});
