import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  fnv1a32,
  RNG_PURPOSES,
  streamCollisions,
  streamId,
  streamName,
  streamOf,
} from "../../runtime/rng/streams.js";
import { fillUniform, uniformAt } from "../../runtime/rng/uniform.js";
import { correlation } from "./stats.js";

/** FNV-1a 32 with BigInt over Node's UTF-8 encoder: the oracle. */
function fnvBigInt(text: string): number {
  let hash = 0x811c9dc5n;
  for (const byte of Buffer.from(text, "utf8")) hash = ((hash ^ BigInt(byte)) * 0x01000193n) % 2n ** 32n;
  return Number(hash);
}

describe("fnv1a32", () => {
  it("matches the published FNV-1a test vectors", () => {
    // From the FNV reference test suite (Landon Curt Noll's fnv_test.c).
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("hashes UTF-8 bytes, for any string", () => {
    // "é" is the two bytes c3 a9: ((basis ^ 0xc3) · prime ^ 0xa9) · prime, mod 2^32.
    const afterC3 = Number((BigInt(0x811c9dc5 ^ 0xc3) * 0x01000193n) % 2n ** 32n);
    expect(fnv1a32("é")).toBe(Number((BigInt((afterC3 ^ 0xa9) >>> 0) * 0x01000193n) % 2n ** 32n));
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        expect(fnv1a32(text)).toBe(fnvBigInt(text));
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(fnv1a32(text)).toBe(fnvBigInt(text));
      }),
    );
  });
});

describe("streams", () => {
  it("are named purpose/name and numbered by the hash of the name", () => {
    expect(streamName("init", "f.0.weight")).toBe("init/f.0.weight");
    expect(streamOf("init", "f.0.weight")).toBe(streamId("init/f.0.weight"));
    expect(streamId("mask/m")).toBe(fnv1a32("mask/m"));
  });

  it("keep their numbers (changing one changes every seed's draws)", () => {
    expect(streamOf("init", "f.0.weight")).toBe(0xa8e2255a);
    expect(streamOf("init", "f.0.bias")).toBe(0xa99ea287);
    expect(streamOf("mask", "m")).toBe(0xe27b0c8d);
    expect(streamOf("dropout", "f.3")).toBe(0x091afdba);
  });

  it("list the purposes a step's seed serves", () => {
    expect(RNG_PURPOSES).toEqual(["init", "shuffle", "mask", "view", "dropout", "noise", "negatives", "sample"]);
  });

  it("give similar names uncorrelated draws", () => {
    const n = 50_000;
    const bound = 5 / Math.sqrt(n);
    const draw = (name: string) => fillUniform(new Float64Array(n), 0, streamId(name));
    expect(Math.abs(correlation(draw("init/f.0.weight"), draw("init/f.1.weight")))).toBeLessThan(bound);
    expect(Math.abs(correlation(draw("dropout/f.3"), draw("dropout/f.4")))).toBeLessThan(bound);
  });

  it("draw differently at every step, and the same again for the same step", () => {
    const stream = streamOf("dropout", "f.3");
    const at = (step: number) => Array.from({ length: 8 }, (_, i) => uniformAt(7, stream, i, step));
    expect(at(1)).not.toEqual(at(0));
    expect(at(2)).not.toEqual(at(1));
    expect(at(1)).toEqual(at(1));
  });
});

describe("streamCollisions", () => {
  it("finds none among distinct ordinary names", () => {
    const names = RNG_PURPOSES.flatMap((p) =>
      Array.from({ length: 200 }, (_, i) => streamName(p, `part${i % 10}.${Math.floor(i / 10)}.weight`)),
    );
    expect(streamCollisions(names)).toEqual([]);
  });

  it("ignores repeats of one name", () => {
    expect(streamCollisions(["init/a", "init/a"])).toEqual([]);
  });

  it("reports two names with one number", () => {
    // A pair found by searching init/p0, init/p1, ...: both hash to 0x17019c02.
    const pair = ["init/p1039599", "init/p1222382"] as const;
    expect(fnv1a32(pair[0])).toBe(fnv1a32(pair[1]));
    expect(streamCollisions(["mask/m", pair[0], "dropout/d", pair[1]])).toEqual([pair]);
  });
});
