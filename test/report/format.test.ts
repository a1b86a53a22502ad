import { describe, expect, it } from "vitest";
import { formatDuration, formatRate, formatSignificant } from "../../cli/report/format.js";

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [49.4, "49s"],
    [59.4, "59s"],
    [59.6, "1m00s"],
    [185, "3m05s"],
    [3599, "59m59s"],
    [3600, "1h00m"],
    [3720, "1h02m"],
    [86399, "23h59m"],
    [2 * 86400 + 3 * 3600 + 59, "2d03h"],
    [-1, "--"],
    [Number.NaN, "--"],
    [Number.POSITIVE_INFINITY, "--"],
  ])("formats %s seconds as %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("formatRate", () => {
  it.each([
    [23.1, "steps", "23.1 steps/s"],
    [23.14, "steps", "23.1 steps/s"],
    [5, "steps", "5.00 steps/s"],
    [0.1234, "steps", "0.123 steps/s"],
    [99.96, "steps", "100 steps/s"],
    [1234.4, "examples", "1234 examples/s"],
    [12345, "examples", "12.3k examples/s"],
    [1.5e7, "examples", "15.0M examples/s"],
    [0, "steps", "0 steps/s"],
    [Number.NaN, "steps", "-- steps/s"],
    [Number.POSITIVE_INFINITY, "steps", "-- steps/s"],
  ])("formats %s %s per second as %s", (rate, unit, text) => {
    expect(formatRate(rate, unit)).toBe(text);
  });
});

describe("formatSignificant", () => {
  it.each([
    [0.02314, "0.02314"],
    [0.5, "0.5000"],
    [1, "1.000"],
    [9.99996, "10.00"],
    [-3.14159, "-3.142"],
    [12345.6, "12346"],
    [1234567, "1.235e+6"],
    [0.00001234, "1.234e-5"],
    [0.0001234, "0.0001234"],
    [0, "0"],
    [Number.NaN, "nan"],
    [Number.NEGATIVE_INFINITY, "-inf"],
  ])("formats %s as %s", (value, text) => {
    expect(formatSignificant(value)).toBe(text);
  });

  it("takes the number of digits", () => {
    expect(formatSignificant(Math.PI, 2)).toBe("3.1");
    expect(formatSignificant(Math.PI, 6)).toBe("3.14159");
  });
});
