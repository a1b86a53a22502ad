import { describe, expect, it } from "vitest";
import { formatTable } from "../../cli/report/table.js";

describe("formatTable", () => {
  it("lays out a metrics report with phases side by side", () => {
    const text = formatTable(
      ["metric", "pretrain", "adapt"],
      [
        ["loss", 0.02314, 0.1],
        ["accuracy", "-", 0.98123],
        ["steps", 1250, 300],
      ],
    );
    expect(text).toBe(
      [
        "metric    pretrain   adapt",
        "--------  --------  ------",
        "loss       0.02314  0.1000",
        "accuracy         -  0.9812",
        "steps         1250     300",
      ].join("\n"),
    );
  });

  it("left-aligns text columns and trims trailing spaces", () => {
    expect(formatTable(["name", "kind"], [["x", "input"], ["encoder", "dense"]])).toBe(
      ["name     kind", "-------  -----", "x        input", "encoder  dense"].join("\n"),
    );
  });

  it("pads short rows and writes non-finite numbers readably", () => {
    expect(formatTable(["a", "b", "c"], [[1], [Number.NaN, Number.POSITIVE_INFINITY, 1e-7]])).toBe(
      ["  a    b         c", "---  ---  --------", "  1", "nan  inf  1.000e-7"].join("\n"),
    );
  });

  it("prints just the header of an empty table", () => {
    expect(formatTable(["metric", "pretrain"], [])).toBe("metric  pretrain\n------  --------");
  });
});
