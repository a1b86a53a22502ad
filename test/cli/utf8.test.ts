import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { firstInvalidUtf8 } from "../../cli/files.js";

describe("UTF-8 validation of source files", () => {
  it("accepts every string Node encodes as UTF-8", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        expect(firstInvalidUtf8(Buffer.from(s, "utf8"))).toBeNull();
      }),
    );
  });

  it("finds the first bad byte", () => {
    const cases: [number[], number | null][] = [
      [[0x61, 0x62], null],
      [[0x61, 0xff, 0x62], 1],
      [[0x61, 0xc3], 1], // truncated two-byte sequence
      [[0xc3, 0xa9, 0xe9, 0x20], 2], // Latin-1 é after a valid é
      [[0xc0, 0xaf], 0], // overlong '/'
      [[0xed, 0xa0, 0x80], 0], // a UTF-16 surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // past U+10FFFF
      [[0xf0, 0x9f, 0x98, 0x80], null], // 😀
    ];
    for (const [bytes, expected] of cases) expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(expected);
  });

  it("agrees with Node's own decoder on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        let valid = true;
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(bytes);
        } catch {
          valid = false;
        }
        expect(firstInvalidUtf8(bytes) === null).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });
});
