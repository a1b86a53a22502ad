/** TensorStore: in-place overwrites with checked sizes, and deep clones. */
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { TensorStore } from "../../runtime/train/store.js";

function store(): TensorStore {
  const s = new TensorStore();
  s.set("w", { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
  s.set("n", { shape: [], data: Int32Array.of(5) });
  return s;
}

describe("TensorStore", () => {
  test("get, has, names in insertion order, delete", () => {
    const s = store();
    expect(s.has("w")).toBe(true);
    expect(s.has("x")).toBe(false);
    expect(s.get("x")).toBeUndefined();
    expect(s.names()).toEqual(["w", "n"]);
    // Replacing keeps the position; a new name goes last.
    s.set("w", { shape: [1], data: Float32Array.of(9) });
    s.set("a", { shape: [1], data: Float32Array.of(0) });
    expect(s.names()).toEqual(["w", "n", "a"]);
    expect([...s.get("w")!.data]).toEqual([9]);
    s.delete("n");
    expect(s.names()).toEqual(["w", "a"]);
    expect(s.has("n")).toBe(false);
  });

  test("set keeps the arrays given (no copy)", () => {
    const s = new TensorStore();
    const data = Float32Array.of(1, 2);
    s.set("v", { shape: [2], data });
    data[0] = 7;
    expect(s.get("v")!.data[0]).toBe(7);
  });

  test("overwrite copies into the stored array, in place", () => {
    const s = store();
    const stored = s.get("w")!.data;
    const update = [0.5, -1, 1e30, 3];
    s.overwrite("w", update);
    expect(s.get("w")!.data).toBe(stored);
    expect([...stored]).toEqual(update.map(Math.fround));
    update[0] = 100;
    expect(stored[0]).toBe(0.5);
    // Into an i32 tensor the values are converted as a typed array does.
    s.overwrite("n", Float64Array.of(3.7));
    expect([...s.get("n")!.data]).toEqual([3]);
  });

  test("overwrite of a missing tensor or with the wrong size is an internal error, and changes nothing", () => {
    const s = store();
    expect(() => s.overwrite("missing", [1])).toThrow(/internal error: no stored tensor 'missing'/);
    expect(() => s.overwrite("w", [1, 2, 3])).toThrow(/internal error: tensor 'w' has 4 elements, the update 3/);
    expect(() => s.overwrite("w", [1, 2, 3, 4, 5])).toThrow(/has 4 elements, the update 5/);
    expect([...s.get("w")!.data]).toEqual([1, 2, 3, 4]);
    expect(s.names()).toEqual(["w", "n"]);
  });

  test("feeds is the live store", () => {
    const s = store();
    const feeds = s.feeds();
    expect(feeds.get("w")!.data).toBe(s.get("w")!.data);
    s.set("z", { shape: [1], data: Float32Array.of(1) });
    expect(feeds.has("z")).toBe(true);
  });

  test("clone is deep: neither side sees the other's changes (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.array(fc.float({ noNaN: true }), { maxLength: 6 }), { maxKeys: 5 }),
        fc.boolean(),
        (tensors, int) => {
          const s = new TensorStore();
          for (const [name, values] of Object.entries(tensors)) {
            s.set(name, { shape: [values.length], data: int ? Int32Array.from(values.map(Math.trunc)) : Float32Array.from(values) });
          }
          const c = s.clone();
          expect(c.names()).toEqual(s.names());
          for (const name of s.names()) {
            const [a, b] = [s.get(name)!, c.get(name)!];
            expect(b).not.toBe(a);
            expect(b.data).not.toBe(a.data);
            expect(b.shape).not.toBe(a.shape);
            expect(b.data.constructor).toBe(a.data.constructor);
            expect(b.shape).toEqual(a.shape);
            expect([...b.data]).toEqual([...a.data]);
            if (a.data.length > 0) {
              const before = a.data[0]!;
              b.data[0] = before + 1;
              expect(a.data[0]).toBe(before);
              c.overwrite(name, Array.from({ length: a.data.length }, () => 3));
              expect(a.data[0]).toBe(before);
              s.overwrite(name, Array.from({ length: a.data.length }, () => 4));
              expect(b.data[0]).toBe(3);
            }
          }
          // Adding or deleting on one side leaves the other alone.
          c.set("\u0000new", { shape: [], data: new Float32Array(1) });
          expect(s.has("\u0000new")).toBe(false);
          for (const name of s.names()) s.delete(name);
          expect(c.names().length).toBe(Object.keys(tensors).length + 1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
