/**
 * Folders of PNG and JPEG images. Class subfolders named by number (`0/`,
 * `1/`, …) give the label field; `train/` and `test/` subfolders give the
 * splits. Files are read in sorted order, classes in numeric order, so a folder
 * always loads the same way. PNGs are decoded by pngjs, JPEGs (`.jpg`,
 * `.jpeg`) by jpeg-js; the name's ending chooses the decoder.
 */
import { join } from "node:path";
import { toColumn } from "./column.js";
import { DataError, quote } from "./errors.js";
import { listFolder, readBytes } from "./files.js";
import { declaredJpegSize, declaredPngSize, decodeRgba, isImage, isJpeg } from "./image-file.js";
import { mainAndLabel, type Part, type SourceRequest } from "./part.js";
import { describeField, type FieldSpec } from "./spec.js";
import { takeColumn, trainCount, type Column } from "./split.js";

/** The images of one folder: paths (as shown) with their class, or null when the folder has no class subfolders. */
interface ImageList {
  readonly files: Array<{ path: string; shown: string; label: number | null }>;
  readonly labelled: boolean;
}

/** Lists a folder of images or of numbered class folders of images; anything else in it is an error. */
async function listImages(path: string, shown: string): Promise<ImageList> {
  const entries = await listFolder(path, shown);
  const folders = entries.filter((e) => e.folder);
  const images = entries.filter((e) => !e.folder && isImage(e.name));
  if (folders.length === 0) {
    if (images.length === 0) throw new DataError(shown, "holds no PNG or JPEG images.", "empty");
    return { files: images.map((e) => ({ path: join(path, e.name), shown: join(shown, e.name), label: null })), labelled: false };
  }
  const odd = folders.find((f) => !/^\d+$/.test(f.name));
  if (odd) {
    throw new DataError(shown, `holds the folder ${quote(odd.name)}; subfolders of an image folder are classes named by number (0, 1, …) or train and test.`, "format");
  }
  if (images.length > 0) {
    throw new DataError(shown, `holds both class folders and loose images (${quote(images[0]!.name)}); put every image in its class folder.`, "format");
  }
  const files: ImageList["files"] = [];
  const classes = folders.map((f) => ({ name: f.name, label: Number.parseInt(f.name, 10) })).sort((a, b) => a.label - b.label);
  for (const { name, label } of classes) {
    const inner = (await listFolder(join(path, name), join(shown, name))).filter((e) => !e.folder && isImage(e.name));
    for (const e of inner) files.push({ path: join(path, name, e.name), shown: join(shown, name, e.name), label });
  }
  if (files.length === 0) throw new DataError(shown, "has class folders but no PNG or JPEG images in them.", "empty");
  return { files, labelled: true };
}

/** The channel count and size a field asks of an image: [C, H, W] with C in 1, 3, 4, or [H, W]. */
function imageShape(field: FieldSpec, shown: string): { channels: number; height: number; width: number } {
  const s = field.shape;
  if (field.kind === "f32" && s.length === 3 && (s[0] === 1 || s[0] === 3 || s[0] === 4)) return { channels: s[0]!, height: s[1]!, width: s[2]! };
  if (field.kind === "f32" && s.length === 2) return { channels: 1, height: s[0]!, width: s[1]! };
  throw new DataError(
    shown,
    `an image folder fills an image field of type f32[C, H, W] with C = 1, 3 or 4, or f32[H, W]; field ${quote(field.name)} is ${describeField(field)}.`,
    "shape",
    { field: field.name, expected: "f32[C, H, W]", actual: describeField(field) },
  );
}

/** The size-mismatch error of an image: the field, the size it expects and the image's. */
function wrongSize(file: { shown: string }, field: FieldSpec, channels: number, expected: { width: number; height: number }, actual: { width: number; height: number }): DataError {
  const wanted = describeField(field);
  const held = `${actual.width}x${actual.height} pixels (f32[${channels}, ${actual.height}, ${actual.width}])`;
  return new DataError(file.shown, `field ${quote(field.name)} expects ${wanted}, ${expected.width}x${expected.height} pixels; the image is ${held}.`, "shape", {
    field: field.name,
    expected: wanted,
    actual: held,
  });
}

/**
 * Decodes the images into one array of [N, C, H, W] values in [0, 1]: one
 * channel is the luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601; exact
 * for grey pixels), three are RGB, four RGBA. Alpha is otherwise ignored.
 */
async function decodeImages(list: ImageList, field: FieldSpec, shown: string): Promise<Float32Array> {
  const { channels, height, width } = imageShape(field, shown);
  const plane = height * width;
  const out = new Float32Array(list.files.length * channels * plane);
  for (let n = 0; n < list.files.length; n++) {
    const file = list.files[n]!;
    const bytes = await readBytes(file.path, file.shown);
    const declared = isJpeg(file.shown) ? declaredJpegSize(bytes) : declaredPngSize(bytes);
    if (declared !== null && (declared.width !== width || declared.height !== height)) throw wrongSize(file, field, channels, { width, height }, declared);
    const image = decodeRgba(bytes, file, width, height);
    if (image.height !== height || image.width !== width) throw wrongSize(file, field, channels, { width, height }, image);
    const base = n * channels * plane;
    const rgba = image.data;
    for (let p = 0; p < plane; p++) {
      const r = rgba[4 * p]!;
      const g = rgba[4 * p + 1]!;
      const b = rgba[4 * p + 2]!;
      if (channels === 1) out[base + p] = (r === g && g === b ? r : 0.299 * r + 0.587 * g + 0.114 * b) / 255;
      else for (let c = 0; c < channels; c++) out[base + c * plane + p] = rgba[4 * p + c]! / 255;
    }
  }
  return out;
}

/** The columns of one list of images: the image field and, when the folder has classes, the label field. */
async function columnsOf(list: ImageList, main: FieldSpec | undefined, label: FieldSpec | undefined, shown: string): Promise<Map<string, Column>> {
  const columns = new Map<string, Column>();
  const locate = (i: number): string => list.files[i]!.shown;
  if (main) {
    const data = await decodeImages(list, main, shown);
    columns.set(main.name, toColumn(main, { file: shown, dtype: "f32", shape: [list.files.length, ...main.shape], data, locate }));
  }
  if (label) {
    if (!list.labelled) {
      throw new DataError(shown, `has no class folders (0/, 1/, …), so it cannot fill the label field ${quote(label.name)}.`, "missing", { field: label.name });
    }
    const data = list.files.map((f) => f.label!);
    columns.set(label.name, toColumn(label, { file: shown, dtype: "i32", shape: [data.length], data, locate: (i) => `the class folder of ${locate(i)}` }));
  }
  return columns;
}

/**
 * Reads an image folder. With `train/` and `test/` subfolders those are the
 * splits; otherwise the first 80% of each class (or of all images, when there
 * are no classes) is train, so every class is in both splits.
 */
export async function readPngFolder(request: SourceRequest): Promise<Part> {
  const { main, label } = mainAndLabel(request, "an image folder");
  const entries = await listFolder(request.path, request.shown);
  const hasTrain = entries.some((e) => e.folder && e.name === "train");
  const hasTest = entries.some((e) => e.folder && e.name === "test");
  const provides = "PNG and JPEG images, with labels where it has class folders";
  if (hasTrain || hasTest) {
    if (!(hasTrain && hasTest)) throw new DataError(request.shown, `has a ${hasTrain ? "train" : "test"}/ folder but no ${hasTrain ? "test" : "train"}/ folder.`, "format");
    const part = async (name: string): Promise<Map<string, Column>> =>
      columnsOf(await listImages(join(request.path, name), join(request.shown, name)), main, label, join(request.shown, name));
    return { origin: request.shown, provides, columns: { kind: "split", train: await part("train"), test: await part("test") } };
  }
  const list = await listImages(request.path, request.shown);
  const columns = await columnsOf(list, main, label, request.shown);
  // The stratified 80/20 split: list order is class by class, so take each class's first 80%.
  const trainRows: number[] = [];
  const testRows: number[] = [];
  let start = 0;
  while (start < list.files.length) {
    let end = start;
    while (end < list.files.length && list.files[end]!.label === list.files[start]!.label) end++;
    const cut = start + trainCount(end - start);
    for (let i = start; i < end; i++) (i < cut ? trainRows : testRows).push(i);
    start = end;
  }
  const take = (rows: number[]): Map<string, Column> => new Map([...columns].map(([k, c]) => [k, takeColumn(c, rows)]));
  return { origin: request.shown, provides, columns: { kind: "split", train: take(trainRows), test: take(testRows) } };
}
