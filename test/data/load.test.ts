import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeIdx } from "../../runtime/data/idx.js";
import { DataError, labelFieldOf, loadDataset } from "../../runtime/data/index.js";
import { encodeNpy } from "../../runtime/data/npy.js";
import { expectDataError, f32, label, spec, tempDir, write } from "./helpers.js";

const dir = tempDir();
const xy = spec("xy", f32("x", [2]), label("y", 2));
const x10 = write(join(dir, "x10.npy"), encodeNpy(Array.from({ length: 20 }, (_, i) => i), [10, 2], "<f4"));
const y10 = write(join(dir, "y10.npy"), encodeNpy([0, 1, 0, 1, 0, 1, 0, 1, 0, 1], [10], "|u1"));
const y9 = write(join(dir, "y9.npy"), encodeNpy([0, 1, 0, 1, 0, 1, 0, 1, 0], [9], "|u1"));

describe("loadDataset", () => {
  it("combines a whole-data-set binding with field bindings, resolving paths against cwd", async () => {
    const d = await loadDataset(xy, [{ source: "x10.npy" }, { field: "y", source: "y10.npy" }], { cwd: dir });
    expect(d.name).toBe("xy");
    expect(d.origin).toBe("x10.npy, y10.npy");
    expect(d.train.origin).toBe("x10.npy, y10.npy");
    expect([...d.train.columns.keys()]).toEqual(["x", "y"]);
    expect(d.train.length).toBe(8);
    expect([...d.test.columns.get("x")!.data]).toEqual([16, 17, 18, 19]);
    expect(d.vocabulary).toBeUndefined();
  });

  it("refuses fields of one split with different lengths, naming both", async () => {
    const error = await expectDataError(
      () => loadDataset(xy, [{ field: "x", source: x10 }, { field: "y", source: y9 }]),
      "length",
      "y9.npy",
      "field 'y'",
      "field 'x'",
      "x10.npy",
    );
    expect(error.field).toBe("y");
  });

  it("refuses an empty split", async () => {
    const one = write(join(dir, "one.npy"), encodeNpy([1, 2], [1, 2], "<f4"));
    await expectDataError(() => loadDataset(spec("d", f32("x", [2])), [{ source: one }]), "empty", "one.npy", "empty train split");
  });

  it("refuses bindings that do not fit the declaration", async () => {
    await expectDataError(() => loadDataset(xy, [{ field: "z", source: x10 }]), "binding", "no such field", "'x', 'y'");
    await expectDataError(() => loadDataset(xy, [{ field: "x", source: x10 }, { field: "x", source: x10 }]), "binding", "second source for field 'x'");
    await expectDataError(() => loadDataset(xy, [{ source: x10 }, { source: y10 }]), "binding", "second source for the whole");
    await expectDataError(() => loadDataset(xy, [{ source: x10 }, { field: "x", source: x10 }, { field: "y", source: y10 }]), "binding", "fills nothing");
    await expectDataError(() => loadDataset(spec("d", f32("a", [2]), f32("b", [2])), [{ source: x10 }]), "binding", "'a', 'b'", "--data d.FIELD=PATH");
    await expectDataError(() => loadDataset(xy, [{ field: "x", source: join(dir, "absent.npy") }]), "io", "absent.npy", "no such file");
  });

  it("lists what the sources provide when a field has none", async () => {
    const labels = write(join(dir, "labels-idx1-ubyte"), encodeIdx([0, 1, 1, 0, 1], [5], "u8"));
    const error = await expectDataError(() => loadDataset(xy, [{ field: "y", source: labels }]), "missing", "no source for field 'x' (f32[2])", "one array u8[5]", "--data xy.x=PATH");
    expect(error).toBeInstanceOf(DataError);
    expect(error.field).toBe("x");
  });

  it("finds the label field: the one named label, else the only label field", () => {
    expect(labelFieldOf(spec("d", label("y", 2), label("label", 3)))).toBe("label");
    expect(labelFieldOf(spec("d", f32("x", []), label("y", 2)))).toBe("y");
    expect(labelFieldOf(spec("d", label("a", 2), label("b", 2)))).toBeNull();
    expect(labelFieldOf(spec("d", f32("label", [])))).toBeNull();
  });
});
