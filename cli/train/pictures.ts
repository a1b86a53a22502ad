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
