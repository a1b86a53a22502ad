import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/load.js";
import type { Split } from "../../runtime/data/split.js";
import { decodeImageFile, declaredJpegSize, declaredPngSize } from "../../runtime/data/image-file.js";
import { DataError } from "../../runtime/data/errors.js";
import { repoRoot } from "../cli/run-cli.js";
import { expectDataError, f32, label, spec, tempDir, write } from "./helpers.js";

const dir = tempDir();

/** A w x h PNG whose pixel (x, y) is [r, g, b] = value(x, y); colorType 0 (grey) or 2 (RGB) as written. */
function png(w: number, h: number, value: (x: number, y: number) => [number, number, number], colorType: 0 | 2 | 6 = 2): Uint8Array {
  const image = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = value(x, y);
      image.data.set([r, g, b, 255], 4 * (y * w + x));
    }
  }
  return PNG.sync.write(image, { colorType, inputColorType: 6 });
}

/** A grey image whose every pixel is `v`. */
const grey = (v: number): Uint8Array => png(3, 2, () => [v, v, v], 0);

describe("PNG folders", () => {
  it("take labels from class folders, split each class 80/20, in sorted order", async () => {
    const root = join(dir, "classes");
    for (let c = 0; c < 2; c++) for (let i = 0; i < 5; i++) write(join(root, String(c), `img${i}.png`), grey(c * 100 + i));
    write(join(root, "0", "notes.txt"), "ignored");
    const d = await loadDataset(spec("d", f32("image", [1, 2, 3]), label("label", 2)), [{ source: root }]);
    expect(d.train.length).toBe(8);
    expect(d.test.length).toBe(2);
    expect([...d.train.columns.get("label")!.data]).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect([...d.test.columns.get("label")!.data]).toEqual([0, 1]);
    const test = d.test.columns.get("image")!.data;
    expect(test[0]).toBeCloseTo(4 / 255, 7); // class 0's fifth image
    expect(test[6]).toBeCloseTo(104 / 255, 7); // class 1's fifth image
    expect([...test.subarray(0, 6)].every((v) => v === test[0])).toBe(true); // grey is exact
  });

  it("use train/ and test/ folders as the splits, and read RGB into three channels or luminance", async () => {
    const root = join(dir, "splits");
    const rgb = png(2, 2, (x, y) => [10 * x, 20 * y, 255], 2);
    write(join(root, "train", "a.png"), rgb);
    write(join(root, "train", "b.png"), rgb);
    write(join(root, "test", "c.png"), rgb);
    const colour = await loadDataset(spec("d", f32("image", [3, 2, 2])), [{ source: root }]);
    expect(colour.train.length).toBe(2);
    expect(colour.test.length).toBe(1);
    const c = colour.test.columns.get("image")!.data;
    // Channel-first: R plane, G plane, B plane; pixel (x=1, y=0) is index 1.
    expect(c[1]).toBeCloseTo(10 / 255, 7);
    expect(c[4 + 2]).toBeCloseTo(20 / 255, 7);
    expect(c[8 + 3]).toBeCloseTo(1, 7);
    const grey1 = await loadDataset(spec("d", f32("image", [2, 2])), [{ source: root }]);
    expect(grey1.test.columns.get("image")!.data[3]).toBeCloseTo((0.299 * 10 + 0.587 * 20 + 0.114 * 255) / 255, 6);
  });

  it("fill an image-only declaration from a folder of loose images", async () => {
    const root = join(dir, "loose");
    for (let i = 0; i < 5; i++) write(join(root, `${i}.png`), grey(i));
    const d = await loadDataset(spec("d", f32("image", [1, 2, 3])), [{ source: root }]);
    expect(d.train.length).toBe(4);
    expect(d.test.columns.get("image")!.data[0]).toBeCloseTo(4 / 255, 7);
    await expectDataError(() => loadDataset(spec("d", f32("image", [1, 2, 3]), label("label", 2)), [{ source: root }]), "missing", "no class folders", "'label'");
  });

  it("name the file and both shapes on a size mismatch", async () => {
    const root = join(dir, "sizes");
    write(join(root, "0", "a.png"), grey(1));
    write(join(root, "0", "b.png"), png(4, 4, () => [0, 0, 0], 0));
    const error = await expectDataError(() => loadDataset(spec("d", f32("image", [1, 2, 3]), label("label", 1)), [{ source: root }]), "shape", join(root, "0", "b.png"), "3x2 pixels", "4x4 pixels");
    expect(error.expected).toBe("f32[1, 2, 3]");
  });

  it("refuse an image by the size its header declares, before decoding it", async () => {
    // A valid signature and IHDR declaring 16384x16384 grey pixels, then bytes that are no PNG data at all:
    // decoding would fail (or, with real data, take 1 GB); the header alone decides.
    const ihdr = new Uint8Array(13);
    const view = new DataView(ihdr.buffer);
    view.setUint32(0, 16384);
    view.setUint32(4, 16384);
    ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grey, deflate, adaptive filtering, no interlace
    const chunk = (type: string, data: Uint8Array): Uint8Array => {
      const out = new Uint8Array(12 + data.length);
      const v = new DataView(out.buffer);
      v.setUint32(0, data.length);
      out.set(Buffer.from(type, "latin1"), 4);
      out.set(data, 8);
      v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
      return out;
    };
    const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    const bomb = Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", new Uint8Array(64).fill(0xab))]);
    expect(declaredPngSize(bomb)).toEqual({ width: 16384, height: 16384 });
    expect(declaredPngSize(grey(1))).toEqual({ width: 3, height: 2 });
    expect(declaredPngSize(Buffer.from("not a png at all, but long enough"))).toBeNull();
    const root = join(dir, "bomb");
    write(join(root, "0", "a.png"), grey(1));
    write(join(root, "0", "b.png"), bomb);
    const error = await expectDataError(
      () => loadDataset(spec("d", f32("image", [1, 2, 3]), label("label", 1)), [{ source: root }]),
      "shape",
      join(root, "0", "b.png"),
      "expects f32[1, 2, 3], 3x2 pixels; the image is 16384x16384 pixels",
    );
    expect(error.actual).toBe("16384x16384 pixels (f32[1, 16384, 16384])");
  });

  it("refuse a FIFO named like an image instead of waiting on it", async () => {
    const root = join(dir, "fifo");
    write(join(root, "0", "a.png"), grey(1));
    execFileSync("mkfifo", [join(root, "0", "b.png")]);
    await expectDataError(() => loadDataset(spec("d", f32("image", [1, 2, 3]), label("label", 1)), [{ source: root }]), "io", join(root, "0", "b.png"), "is a FIFO (named pipe), not a regular file");
  });

  it("report class folders beyond the classes, odd folders, unreadable PNGs and image fields a PNG cannot fill", async () => {
    const root = join(dir, "range");
    write(join(root, "0", "a.png"), grey(1));
    write(join(root, "5", "b.png"), grey(1));
    await expectDataError(() => loadDataset(spec("d", f32("image", [1, 2, 3]), label("label", 3)), [{ source: root }]), "value", join(root, "5", "b.png"), "holds 5, outside 0..2");
    const odd = join(dir, "odd");
    write(join(odd, "cats", "a.png"), grey(1));
    await expectDataError(() => loadDataset(spec("d", f32("image", [1, 2, 3])), [{ source: odd }]), "format", "'cats'");
    const broken = join(dir, "broken");
    write(join(broken, "x.png"), "not a png");
    await expectDataError(() => loadDataset(spec("d", f32("image", [1, 2, 3])), [{ source: broken }]), "format", join(broken, "x.png"), "not a readable PNG");
    await expectDataError(() => loadDataset(spec("d", f32("image", [2, 2, 3])), [{ source: join(dir, "loose") }]), "shape", "f32[C, H, W]");
    const half = join(dir, "half");
    write(join(half, "train", "a.png"), grey(1));
    await expectDataError(() => loadDataset(spec("d", f32("image", [1, 2, 3])), [{ source: half }]), "format", "no test/");
  });
});

/** The committed JPEG fixtures, written by Pillow 9.4 (libjpeg) at quality 100 without chroma subsampling (see their README). */
const fixtures = join(repoRoot, "test", "data", "fixtures", "jpeg");
const fixture = (name: string): Uint8Array => readFileSync(join(fixtures, name));

describe("JPEG images in image folders", () => {
  it("read .jpg and .jpeg files beside PNGs, in colour and grey, within the codec's rounding", async () => {
    const root = join(dir, "jpeg");
    // Pillow wrote an 8x8 (200, 100, 50) and an 8x8 grey 77; libjpeg decodes them back exactly,
    // jpeg-js within one level (its IDCT rounds differently).
    write(join(root, "train", "a.jpg"), fixture("orange-8x8.jpg"));
    write(join(root, "train", "b.JPEG"), fixture("grey-8x8.jpeg"));
    write(join(root, "test", "c.png"), png(8, 8, () => [77, 77, 77], 0));
    const d = await loadDataset(spec("d", f32("image", [3, 8, 8])), [{ source: root }]);
    expect(d.train.length).toBe(2);
    expect(d.test.length).toBe(1);
    const image = (rows: Split, i: number): number[] => Array.from(rows.columns.get("image")!.data).slice(i * 192, (i + 1) * 192);
    const orange = image(d.train, 0);
    const planes = [orange.slice(0, 64), orange.slice(64, 128), orange.slice(128)];
    planes.forEach((plane, c) => {
      for (const v of plane) expect(Math.abs(v * 255 - [200, 100, 50][c]!)).toBeLessThanOrEqual(1.5);
    });
    for (const v of image(d.train, 1)) expect(Math.abs(v * 255 - 77)).toBeLessThanOrEqual(1.5);
    for (const v of image(d.test, 0)) expect(v * 255).toBeCloseTo(77, 4);
    // One channel is the luminance, as for PNG.
    const luma = await loadDataset(spec("d", f32("image", [8, 8])), [{ source: join(root, "train") }]);
    const y = 0.299 * 200 + 0.587 * 100 + 0.114 * 50;
    for (const v of [...luma.train.columns.get("image")!.data, ...luma.test.columns.get("image")!.data].slice(0, 64)) expect(Math.abs(v * 255 - y)).toBeLessThanOrEqual(1.5);
  });

  it("read the size from the frame header and refuse a wrong one before decoding", async () => {
    expect(declaredJpegSize(fixture("wide-16x8.jpg"))).toEqual({ width: 16, height: 8 });
    expect(declaredJpegSize(fixture("orange-8x8.jpg"))).toEqual({ width: 8, height: 8 });
    expect(declaredJpegSize(fixture("grey-8x8.jpeg"))).toEqual({ width: 8, height: 8 });
    expect(declaredJpegSize(Buffer.from("not a jpeg at all"))).toBeNull();
    // A frame header declaring 65535x65535 pixels and nothing after it: refused by its header alone.
    const bomb = Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01, 0x11, 0x00);
    expect(declaredJpegSize(bomb)).toEqual({ width: 65535, height: 65535 });
    const root = join(dir, "jpeg-sizes");
    write(join(root, "a.jpg"), fixture("orange-8x8.jpg"));
    write(join(root, "b.jpg"), fixture("wide-16x8.jpg"));
    await expectDataError(() => loadDataset(spec("d", f32("image", [3, 8, 8])), [{ source: root }]), "shape", join(root, "b.jpg"), "8x8 pixels", "16x8 pixels");
    write(join(root, "b.jpg"), bomb);
    await expectDataError(() => loadDataset(spec("d", f32("image", [3, 8, 8])), [{ source: root }]), "shape", join(root, "b.jpg"), "the image is 65535x65535 pixels");
  });

  it("decode one file of any size through the loader's decoder, refusing a declared size above the cap unread", () => {
    const wide = decodeImageFile(fixture("wide-16x8.jpg"), "wide-16x8.jpg", 1000);
    expect([wide.width, wide.height, wide.data.length]).toEqual([16, 8, 16 * 8 * 4]);
    const tiny = decodeImageFile(png(3, 2, () => [10, 20, 30]), "tiny.png", 6);
    expect([...tiny.data.slice(0, 4)]).toEqual([10, 20, 30, 255]);
    const bomb = Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01, 0x11, 0x00);
    expect(() => decodeImageFile(bomb, "bomb.jpg", 40e6)).toThrow(DataError);
    expect(() => decodeImageFile(bomb, "bomb.jpg", 40e6)).toThrow(/bomb\.jpg.*65535x65535 pixels/);
    expect(() => decodeImageFile(png(3, 2, () => [0, 0, 0]), "small.png", 5)).toThrow(/small\.png.*3x2 pixels/);
    expect(() => decodeImageFile(Buffer.from("not an image"), "x.png", 100)).toThrow(/x\.png.*declares no size/);
  });

  it("name the file of a corrupt JPEG, of a file that is no JPEG, and of a single bound JPEG", async () => {
    const root = join(dir, "jpeg-corrupt");
    write(join(root, "a.jpg"), fixture("orange-8x8.jpg"));
    // corrupt.jpg: the first half of orange-8x8.jpg, four zero bytes and an end marker.
    write(join(root, "b.jpg"), fixture("corrupt.jpg"));
    await expectDataError(() => loadDataset(spec("d", f32("image", [3, 8, 8])), [{ source: root }]), "format", join(root, "b.jpg"), "is not a readable JPEG image: ");
    write(join(root, "b.jpg"), "not a jpeg");
    await expectDataError(() => loadDataset(spec("d", f32("image", [3, 8, 8])), [{ source: root }]), "format", join(root, "b.jpg"), "is not a readable JPEG image: ");
    await expectDataError(() => loadDataset(spec("d", f32("image", [3, 8, 8])), [{ source: join(fixtures, "orange-8x8.jpg") }]), "binding", "orange-8x8.jpg", "single JPEG image");
  });
});
