/**
 * The data the experiments read beyond the IDX folders: a text corpus made of
 * Debian's `fortunes`, and 32x32 colour patches cut from real photographs that
 * Debian's `python3-skimage`, `plasma-workspace-wallpapers` and
 * `mate-backgrounds` ship (PNG and JPEG). Both are written once into the runs folder
 * and named in RESULTS.md.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeImageFile } from "../../runtime/data/image-file.js";
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

export const WALLPAPERS_DIR = "/usr/share/wallpapers";
export const MATE_DIR = "/usr/share/backgrounds/mate";

/** One chosen photograph: where it is, the Debian package that ships it, and its name in RESULTS.md. */
export interface Photo {
  readonly path: string;
  readonly pkg: "python3-skimage" | "plasma-workspace-wallpapers" | "mate-backgrounds";
  readonly name: string;
}

const skimage = (file: string): Photo => ({ path: join(SKIMAGE_DIR, file), pkg: "python3-skimage", name: file });
/** A Plasma wallpaper at its 1920x1080 size (ColorfulCups ships only 2560x1600). */
const plasma = (name: string, size = "1920x1080"): Photo => ({ path: join(WALLPAPERS_DIR, name, "contents", "images", `${size}.jpg`), pkg: "plasma-workspace-wallpapers", name });
const mate = (file: string): Photo => ({ path: join(MATE_DIR, "nature", file), pkg: "mate-backgrounds", name: `nature/${file}` });

/**
 * The photographs: real photographs only, chosen by looking at every image the
 * three packages ship. Left out as renders, drawings or paintings: Plasma's
 * Altai, Autumn, Canopee, Cascade, Cluster, Elarun, Flow, FlyingKonqui,
 * Honeywave, IceCold, Kay, Kokkini, MilkyWay, Opal, PastelHills, Patak,
 * SafeLanding, Shell and Volna, and all of MATE's abstract/ and desktop/; left
 * out as photographs with almost no colour: ColdRipple, DarkestHour, Grey,
 * summer_1am, Kite and MATE's Wood, RainDrops; skimage's other samples are
 * grey, microscopy or drawings. The last four test, the others train: each
 * package has photographs on both sides, and no scene is on both (the
 * motorcycle pair is one scene, so both train).
 */
export const PHOTOS: { readonly train: readonly Photo[]; readonly test: readonly Photo[] } = {
  train: [
    skimage("astronaut.png"),
    skimage("coffee.png"),
    skimage("motorcycle_left.png"),
    skimage("motorcycle_right.png"),
    plasma("EveningGlow"),
    plasma("FallenLeaf"),
    plasma("Path"),
    plasma("OneStandsOut"),
    plasma("ColorfulCups", "2560x1600"),
    mate("Aqua.jpg"),
    mate("Blinds.jpg"),
    mate("Dune.jpg"),
    mate("FreshFlower.jpg"),
    mate("GreenMeadow.jpg"),
    mate("LadyBird.jpg"),
    mate("YellowFlower.jpg"),
  ],
  test: [skimage("chelsea.png"), plasma("BytheWater"), mate("Garden.jpg"), mate("TwoWings.jpg")],
};

/**
 * The trial-size runs (`--tiny`, the test suite) read fewer of them, one of
 * each package on the training side, so as not to decode twenty photographs
 * for three updates.
 */
export const TINY_PHOTOS: typeof PHOTOS = {
  train: [skimage("astronaut.png"), skimage("coffee.png"), plasma("EveningGlow"), mate("Dune.jpg")],
  test: [mate("Garden.jpg")],
};

/** The photographs of a run: all of them, or the trial's few. */
export const photosOf = (tiny: boolean): typeof PHOTOS => (tiny ? TINY_PHOTOS : PHOTOS);

/** 16 training and 4 test photographs make the npy source's 80/20 split fall between photos. */
export const PATCHES_PER_PHOTO = 200;
export const PATCH = 32;
/** Photographs are shrunk by a whole factor (a box filter) until their shorter side is under twice this, so a patch sees about as much of every scene. */
export const SHORT_SIDE = 512;

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

/** A photograph's RGBA pixels, decoded as the image loader decodes a file, shrunk by a whole factor to a shorter side under 2 x SHORT_SIDE. */
export function readPhoto(photo: Photo): { width: number; height: number; data: Uint8Array } {
  if (!existsSync(photo.path)) throw new MissingData(`${photo.path} is missing: apt-get install ${photo.pkg}`);
  // The image loader's own decoding (runtime/data/image-file.ts): the header's size checked first, then pngjs or jpeg-js.
  const image = decodeImageFile(readFileSync(photo.path), photo.path, 40e6);
  const k = Math.max(1, Math.floor(Math.min(image.width, image.height) / SHORT_SIDE));
  if (k === 1) return image;
  const width = Math.floor(image.width / k), height = Math.floor(image.height / k);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) sum += image.data[((y * k + dy) * image.width + (x * k + dx)) * 4 + c]!;
        data[(y * width + x) * 4 + c] = Math.round(sum / (k * k));
      }
    }
  }
  return { width, height, data };
}

/** Patches of the chosen photographs, [N, 3, 32, 32] YCbCr bytes, training photos first. */
export function photoPatches(photos: readonly Photo[] = [...PHOTOS.train, ...PHOTOS.test], perPhoto = PATCHES_PER_PHOTO): { bytes: Uint8Array; count: number } {
  for (const p of photos) if (!existsSync(p.path)) throw new MissingData(`${p.path} is missing: apt-get install ${p.pkg}`);
  const plane = PATCH * PATCH;
  const out = new Uint8Array(photos.length * perPhoto * 3 * plane);
  let k = 0;
  photos.forEach((photo, p) => {
    const png = readPhoto(photo);
    if (png.width < PATCH || png.height < PATCH) throw new MissingData(`${photo.path} is smaller than ${PATCH}x${PATCH}`);
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

/** Writes the photo patches of `photos` to `path` (once) and returns its path. */
export function writePhotoPatches(path: string, photos: typeof PHOTOS = PHOTOS): string {
  if (!existsSync(path)) {
    const { bytes, count } = photoPatches([...photos.train, ...photos.test]);
    writeFileSync(path, encodeNpy(bytes, [count, 3, PATCH, PATCH], "|u1"));
  }
  return path;
}
