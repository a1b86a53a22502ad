/**
 * The data the experiments read beyond the IDX folders: a text corpus made of
 * Debian's `fortunes`, and 32x32 colour patches cut from the colour photographs
 * of Debian's `python3-skimage`. Both are written once into the runs folder
 * and named in RESULTS.md.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { encodeNpy } from "../../runtime/data/npy.js";

export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";
export const FORTUNES_DIR = "/usr/share/games/fortunes";
export const SKIMAGE_DIR = "/usr/lib/python3/dist-packages/skimage/data";

/** A problem with the data an experiment needs: the message says which package provides it. */
export class MissingData extends Error {}

/**
 * The fortunes corpus: every plain-text fortune file of Debian's `fortunes`
 * (the files without `.dat`/`.u8` in FORTUNES_DIR, in sorted order), joined.
 * The `%` lines that separate fortunes are kept as they are.
 */
export function fortunesText(dir = FORTUNES_DIR): string {
  if (!existsSync(dir)) throw new MissingData(`${dir} is missing: apt-get install fortunes`);
  const files = readdirSync(dir)
    .filter((f) => !f.includes(".") && statSync(join(dir, f)).isFile())
    .sort();
  if (files.length === 0) throw new MissingData(`${dir} holds no fortune files: apt-get install fortunes`);
  return files.map((f) => readFileSync(join(dir, f), "latin1")).join("\n");
}

/** Writes the fortunes corpus to `path` (once) and returns its path. */
export function writeFortunes(path: string): string {
  if (!existsSync(path)) writeFileSync(path, fortunesText());
  return path;
}

/**
 * The colour photographs chosen from python3-skimage's sample data: real
 * photographs, not renders, drawings or microscopy. The first ones train, the
 * last one tests; the two motorcycle pictures are a stereo pair of one scene,
 * so both stay on the training side.
 */
export const PHOTOS = {
  train: ["astronaut.png", "coffee.png", "motorcycle_left.png", "motorcycle_right.png"],
  test: ["chelsea.png"],
} as const;

/** Patches of each photograph; 4 training photos and 1 test photo make the npy source's 80/20 split fall between photos. */
export const PATCHES_PER_PHOTO = 400;
export const PATCH = 32;

/** A small deterministic generator (mulberry32) for patch positions. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RGB bytes to full-range YCbCr bytes (JPEG's transform), rounded and clamped. */
export function ycbcr(r: number, g: number, b: number): [number, number, number] {
  const c = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));
  return [c(0.299 * r + 0.587 * g + 0.114 * b), c(128 - 0.168736 * r - 0.331264 * g + 0.5 * b), c(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)];
}

/** YCbCr in [0, 1] back to RGB bytes. */
export function rgbFromYcbcr(y: number, cb: number, cr: number): [number, number, number] {
  const Y = y * 255, Cb = cb * 255 - 128, Cr = cr * 255 - 128;
  const c = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));
  return [c(Y + 1.402 * Cr), c(Y - 0.344136 * Cb - 0.714136 * Cr), c(Y + 1.772 * Cb)];
}

/** Patches of the chosen photographs, [N, 3, 32, 32] YCbCr bytes, training photos first. */
export function photoPatches(dir = SKIMAGE_DIR, perPhoto = PATCHES_PER_PHOTO): { bytes: Uint8Array; count: number } {
  const names = [...PHOTOS.train, ...PHOTOS.test];
  for (const n of names) if (!existsSync(join(dir, n))) throw new MissingData(`${join(dir, n)} is missing: apt-get install python3-skimage`);
  const plane = PATCH * PATCH;
  const out = new Uint8Array(names.length * perPhoto * 3 * plane);
  let k = 0;
  names.forEach((name, p) => {
    const png = PNG.sync.read(readFileSync(join(dir, name)));
    if (png.width < PATCH || png.height < PATCH) throw new MissingData(`${name} is smaller than ${PATCH}x${PATCH}`);
    const next = generator(1000 + p);
    for (let i = 0; i < perPhoto; i++, k++) {
      const x0 = Math.floor(next() * (png.width - PATCH + 1));
      const y0 = Math.floor(next() * (png.height - PATCH + 1));
      for (let y = 0; y < PATCH; y++) {
        for (let x = 0; x < PATCH; x++) {
          const s = ((y0 + y) * png.width + (x0 + x)) * 4;
          const [Y, Cb, Cr] = ycbcr(png.data[s]!, png.data[s + 1]!, png.data[s + 2]!);
          const o = k * 3 * plane + y * PATCH + x;
          out[o] = Y;
          out[o + plane] = Cb;
          out[o + 2 * plane] = Cr;
        }
      }
    }
  });
  return { bytes: out, count: k };
}

/** Writes the photo patches to `path` (once) and returns its path. */
export function writePhotoPatches(path: string): string {
  if (!existsSync(path)) {
    const { bytes, count } = photoPatches();
    writeFileSync(path, encodeNpy(bytes, [count, 3, PATCH, PATCH], "|u1"));
  }
  return path;
}
