import { describe, expect, it } from "vitest";
import { FONT_CHARACTERS, GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphFor, textWidth } from "../../cli/report/font.js";
import { Canvas } from "../../cli/report/png.js";

const required = [
  ..."0123456789",
  ..."abcdefghijklmnopqrstuvwxyz",
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZ",
  ...".-+e:/()%",
];

const bitmap = (ch: string): string => glyphFor(ch).map((row) => row.map((on) => (on ? "#" : ".")).join("")).join("|");

describe("bitmap font", () => {
  it("covers every character the charts need", () => {
    const missing = required.filter((ch) => !FONT_CHARACTERS.includes(ch));
    expect(missing).toEqual([]);
  });

  it("gives every glyph the same 5x7 size", () => {
    for (const ch of FONT_CHARACTERS) {
      expect(glyphFor(ch).length).toBe(GLYPH_HEIGHT);
      for (const row of glyphFor(ch)) expect(row.length).toBe(GLYPH_WIDTH);
    }
  });

  it("draws ink for every character but the space", () => {
    const blank = FONT_CHARACTERS.filter((ch) => !glyphFor(ch).some((row) => row.some(Boolean)));
    expect(blank).toEqual([" "]);
  });

  it("never draws two characters the same way", () => {
    const byBitmap = new Map<string, string[]>();
    for (const ch of FONT_CHARACTERS) byBitmap.set(bitmap(ch), [...(byBitmap.get(bitmap(ch)) ?? []), ch]);
    const clashes = [...byBitmap.values()].filter((chars) => chars.length > 1);
    expect(clashes).toEqual([]);
  });

  it("draws unknown characters as a question mark", () => {
    expect(bitmap("é")).toBe(bitmap("?"));
    expect(bitmap("~")).toBe(bitmap("?"));
  });

  it("measures text as glyphs and one-pixel gaps", () => {
    expect(textWidth("")).toBe(0);
    expect(textWidth("a")).toBe(5);
    expect(textWidth("abc")).toBe(3 * GLYPH_ADVANCE - 1);
    expect(textWidth("abc", 2)).toBe(2 * (3 * GLYPH_ADVANCE - 1));
  });

  it("renders each glyph onto a canvas pixel for pixel", () => {
    for (const ch of required) {
      const canvas = new Canvas(GLYPH_WIDTH + 2, GLYPH_HEIGHT + 2);
      canvas.text(1, 1, ch, [0, 0, 0]);
      const drawn: string[] = [];
      for (let y = 0; y < GLYPH_HEIGHT; y++) {
        let row = "";
        for (let x = 0; x < GLYPH_WIDTH; x++) row += canvas.getPixel(x + 1, y + 1)[0] === 0 ? "#" : ".";
        drawn.push(row);
      }
      expect(drawn.join("|"), ch).toBe(bitmap(ch));
    }
  });
});
