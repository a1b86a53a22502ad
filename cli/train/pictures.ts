/**
 * What `repr train` draws for image models: for the first examples of a test
 * step, the target of each loss's `mse`/`bce` objective (the input, for an
 * autoencoder), the same with the hidden positions blanked out when the loss
 * is restricted `on` a mask, and the model's prediction — so people see what
 * the mask hid and what the model filled in.
 */
import type { PictureOutputs } from "../../runtime/train/evaluate.js";
import { isImageShape } from "../../runtime/train/pipeline-engine.js";

/** One image: its shape ([C, H, W] or [H, W]) and numbers. */
export interface Picture {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A titled row of pictures. */
export interface PictureRow {
  readonly title: string;
  readonly images: readonly Picture[];
}

export { isImageShape };

/** The row-major index into a tensor of `from` shape that broadcasts to element `i` of `to` shape. */
function broadcastIndex(i: number, to: readonly number[], from: readonly number[]): number {
  let index = 0;
  let stride = 1;
  let rest = i;
  const offset = to.length - from.length;
  const digits: number[] = new Array<number>(to.length);
  for (let a = to.length - 1; a >= 0; a--) {
    digits[a] = rest % to[a]!;
    rest = Math.floor(rest / to[a]!);
  }
  for (let a = from.length - 1; a >= 0; a--) {
    const d = from[a] === 1 ? 0 : digits[a + offset]!;
    index += d * stride;
    stride *= from[a]!;
  }
  return index;
}

/** The picture rows of one loss from the first examples' outputs, or null when the loss does not compare images. */
export function pictureRows(outputs: PictureOutputs, loss: string, count = 8): PictureRow[] | null {
  const pred = outputs[`picture/${loss}/pred`];
  const target = outputs[`picture/${loss}/target`];
  if (!pred || !target) return null;
  const shape = target.shape.slice(1);
  if (!isImageShape(shape) || pred.shape.slice(1).join() !== shape.join()) return null;
  const per = shape.reduce((p, d) => p * d, 1);
  const n = Math.min(count, target.shape[0]!);
  const slice = (v: { readonly data: Float32Array }, k: number): Picture => ({ shape, data: Float32Array.from(v.data.subarray(k * per, (k + 1) * per)) });
  const rows: PictureRow[] = [{ title: "input", images: Array.from({ length: n }, (_, k) => slice(target, k)) }];
  const on = outputs[`picture/${loss}/on`];
  if (on) {
    const hidden = Array.from({ length: n }, (_, k) => {
      const image = slice(target, k);
      for (let i = 0; i < per; i++) if (on.data[broadcastIndex(k * per + i, target.shape, on.shape)]! > 0) image.data[i] = NaN;
      return image;
    });
    rows.push({ title: "masked", images: hidden });
  }
  rows.push({ title: "output", images: Array.from({ length: n }, (_, k) => slice(pred, k)) });
  return rows;
}

/**
 * The picture of a named output (`output attention = f(x).2.1.weights`,
 * spec/models.md): for the first examples, each map the value holds as a
 * grayscale image scaled to its largest number — one row for a value that
 * is an image or an [L, M] map, one row per map of an [h, L, M] value with
 * h other than 1 or 3 (the heads of attention weights). Null for values of
 * other shapes.
 */
export function outputPictureRows(outputs: PictureOutputs, name: string, count = 8): PictureRow[] | null {
  const value = outputs[`picture/@${name}`];
  if (!value) return null;
  const shape = value.shape.slice(1);
  const n = Math.min(count, value.shape[0] ?? 0);
  const per = shape.reduce((p, d) => p * d, 1);
  // [h, L, M] with h other than 1 or 3 (an image's channels) is h maps: attention weights per head.
  const maps = shape.length === 3 && shape[0] !== 1 && shape[0] !== 3 && isImageShape(shape.slice(1)) ? shape[0]! : 1;
  const mapShape = maps === 1 ? shape : shape.slice(1);
  if (n === 0 || !isImageShape(mapShape)) return null;
  const size = per / maps;
  const scaled = (k: number, m: number): Picture => {
    const data = Float32Array.from(value.data.subarray(k * per + m * size, k * per + (m + 1) * size));
    const top = data.reduce((a, v) => (Number.isFinite(v) ? Math.max(a, v) : a), 0);
    if (top > 0) for (let i = 0; i < data.length; i++) data[i] = data[i]! / top;
    return { shape: mapShape, data };
  };
  return Array.from({ length: maps }, (_, m) => ({
    title: maps === 1 ? name : `${name} ${m}`,
    images: Array.from({ length: n }, (_, k) => scaled(k, m)),
  }));
}

/** The names of the named outputs among a test step's pictures. */
export function outputPictureNames(outputs: PictureOutputs): string[] {
  return Object.keys(outputs).flatMap((k) => (k.startsWith("picture/@") ? [k.slice("picture/@".length)] : []));
}
