import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { csvColumnsOf, decimalNumber, parseCsv } from "../../runtime/data/csv.js";
import { loadDataset } from "../../runtime/data/load.js";
import { expectDataError, f32, label, spec, tempDir, tokens, write } from "./helpers.js";

const dir = tempDir();

describe("CSV parsing (RFC 4180)", () => {
  it("reads quoted cells with commas, doubled quotes and line breaks, CRLF and LF, and skips blank lines", () => {
    const table = parseCsv('\uFEFFa,"b, quoted",c\r\n1,"say ""hi""",3\n\n"multi\nline",,x\n', "t.csv");
    expect(table.header).toEqual(["a", "b, quoted", "c"]);
    expect(table.rows).toEqual([
      ["1", 'say "hi"', "3"],
      ["multi\nline", "", "x"],
    ]);
    expect(table.lines).toEqual([2, 4]);
  });

  it("reports malformed rows with the file and line", async () => {
    await expectDataError(() => parseCsv("a,b\n1,2\n3\n", "short.csv"), "format", "short.csv", "line 3 has 1 cells, but the header has 2");
    await expectDataError(() => parseCsv('a,b\n1,"2\n', "open.csv"), "format", "open.csv", "line 2", "never closed");
    await expectDataError(() => parseCsv('a,b\n1,"2"x\n', "after.csv"), "format", "after.csv", "line 2", "followed by");
    await expectDataError(() => parseCsv('a,b\n1,2"\n', "inner.csv"), "format", "inner.csv", "line 2", "quote inside");
    await expectDataError(() => parseCsv("", "empty.csv"), "format", "empty.csv", "header");
  });

  it("maps a field to its own column, or to name_0 … name_{k−1}", () => {
    expect(csvColumnsOf(f32("x", []), ["x"])).toEqual(["x"]);
    expect(csvColumnsOf(f32("x", [1]), ["x_0"])).toEqual(["x_0"]);
    expect(csvColumnsOf(f32("x", [2, 2]), [])).toEqual(["x_0", "x_1", "x_2", "x_3"]);
    expect(csvColumnsOf(label("y", 3), ["y"])).toEqual(["y"]);
  });
});

describe("CSV sources", () => {
  const points = spec("points", f32("x", [2]), f32("w", []), label("label", 3));
  const rows = ["id,x_0,x_1,w,label,note"];
  for (let i = 0; i < 10; i++) rows.push(`${i},${i / 2},${-i},"${i * 10}",${i % 3},"a, b"`);
  const file = write(join(dir, "points.csv"), rows.join("\n") + "\n");

  it("fill every field from named columns, extra columns ignored, first 80% train", async () => {
    const d = await loadDataset(points, [{ source: file }]);
    expect(d.train.length).toBe(8);
    expect(d.test.length).toBe(2);
    expect([...d.train.columns.get("x")!.data.subarray(0, 6)]).toEqual([0, 0, 0.5, -1, 1, -2]);
    expect([...d.test.columns.get("w")!.data]).toEqual([80, 90]);
    expect([...d.test.columns.get("label")!.data]).toEqual([2, 0]);
  });

  it("read a gzipped CSV", async () => {
    const gz = write(join(dir, "points.csv.gz"), gzipSync(new TextEncoder().encode(rows.join("\n"))));
    const d = await loadDataset(points, [{ source: gz }]);
    expect(d.train.length + d.test.length).toBe(10);
  });

  it("name the missing columns", async () => {
    const missing = write(join(dir, "missing.csv"), "x_0,w,label\n1,2,0\n");
    await expectDataError(() => loadDataset(points, [{ source: missing }]), "missing", "missing.csv", "field 'x' needs columns 'x_0' … 'x_1'", "lacks 'x_1'");
  });

  it("name the file, line and column of a bad cell", async () => {
    const bad = write(join(dir, "bad.csv"), "x_0,x_1,w,label\n1,2,3,0\n1,abc,3,1\n");
    const error = await expectDataError(() => loadDataset(points, [{ source: bad }]), "value", "bad.csv", "line 3, column 'x_1' (column 2) of field 'x'", '"abc" is not a decimal number');
    expect(error.field).toBe("x");
    const empty = write(join(dir, "empty-cell.csv"), "x_0,x_1,w,label\n1,2,,0\n");
    await expectDataError(() => loadDataset(points, [{ source: empty }]), "value", "line 2, column 'w'", "the cell is empty");
    const range = write(join(dir, "range.csv"), "x_0,x_1,w,label\n1,2,3,0\n1,2,3,3\n");
    await expectDataError(() => loadDataset(points, [{ source: range }]), "value", "range.csv", "field 'label'", "line 3 holds 3, outside 0..2");
    const frac = write(join(dir, "frac.csv"), "t_0,t_1\n1,2\n1,2.5\n");
    await expectDataError(() => loadDataset(spec("s", tokens("t", 2, 5)), [{ source: frac }]), "value", "line 3, element 1 holds 2.5, not an integer");
  });
});

describe("CSV numbers", () => {
  it("are decimal only: signs, points and exponents, with spaces around allowed", () => {
    const good: [string, number][] = [["12", 12], [" 12 ", 12], ["\t-3.5e2 ", -350], ["+7", 7], [".5", 0.5], ["5.", 5], ["1E-3", 0.001], ["-0", -0]];
    for (const [cell, value] of good) expect(decimalNumber(cell), JSON.stringify(cell)).toBe(value);
  });

  it("refuse what JavaScript's Number would read but a CSV writer does not mean: hex, binary, octal, separators, Infinity, NaN", () => {
    for (const cell of ["0x1F", "0b1", "0o7", "1_000", "Infinity", "-Infinity", "NaN", "1e", ".", "-", "1.2.3", "1,5", "١٢"]) {
      expect(decimalNumber(cell), JSON.stringify(cell)).toBe(`${JSON.stringify(cell)} is not a decimal number`);
    }
    expect(decimalNumber("")).toBe("the cell is empty");
    expect(decimalNumber("   ")).toBe("the cell is empty");
    expect(decimalNumber("1e999")).toBe('"1e999" is beyond the range of numbers (about ±1.8e308)');
    expect(decimalNumber("-1e999")).toBe('"-1e999" is beyond the range of numbers (about ±1.8e308)');
  });

  it("name the file, line, column and field of a cell that is not one", async () => {
    const rows = spec("rows", f32("x", [2]), label("label", 40));
    const cases: [string, string][] = [
      ["0x1F", '"0x1F" is not a decimal number'],
      ["Infinity", '"Infinity" is not a decimal number'],
      ["1e999", '"1e999" is beyond the range of numbers'],
      ["1_000", '"1_000" is not a decimal number'],
      ["0b1", '"0b1" is not a decimal number'],
      ["", "the cell is empty"],
    ];
    for (const [k, [cell, why]] of cases.entries()) {
      const path = write(join(dir, `cell-${k}.csv`), `x_0,x_1,label\n1,2,3\n4,5,${cell}\n`);
      const error = await expectDataError(() => loadDataset(rows, [{ source: path }]), "value", path, "line 3, column 'label' (column 3) of field 'label'", why);
      expect(error.actual).toBe(cell);
    }
    const spaced = write(join(dir, "spaced.csv"), "x_0,x_1,label\n 1 , 2 , 31 \n\t.5,-3e1,0\n");
    const d = await loadDataset(rows, [{ source: spaced }]);
    expect([...d.train.columns.get("x")!.data, ...d.test.columns.get("x")!.data]).toEqual([1, 2, 0.5, -30]);
    expect([...d.train.columns.get("label")!.data, ...d.test.columns.get("label")!.data]).toEqual([31, 0]);
  });
});
