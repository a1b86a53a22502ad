/**
 * Colour digits for examples/colorization.repr: the 10,000 MNIST digits of
 * the `mnist` package, each painted in a hue that depends on its class, as
 * a YCbCr image scaled to [0, 1] — lightness (the digit) in channel 0, the two
 * colour differences in channels 1 and 2. The background stays neutral
 * (Cb = Cr = 0.5). A model that sees only channel 0 can colour a digit only
 * by recognizing it.
 *
 *     npx tsx examples/data/color-digits.ts color-digits.npy
 *
 * writes a `.npy` array of shape [10000, 3, 28, 28] in bytes (0-255; repr
 * reads 8-bit data as pixels scaled to [0, 1]). Train with
 * `repr train examples/colorization.repr --data pictures=color-digits.npy`.
 */
import { writeFileSync } from "node:fs";
import { encodeNpy, mnistSplits } from "../../runtime/data/index.js";

const PIXELS = 28 * 28;

/**
 * The colour-difference direction of class `label`: ten hues spread over a
 * quarter circle, from blue-ish (0) to red-ish (9). They share a common
 * direction, so a model first learns to tint every digit and then learns
 * which digit gets which hue.
 */
function hue(label: number): [number, number] {
  const angle = (Math.PI / 2) * (label / 9);
  return [Math.cos(angle), Math.sin(angle)];
}

/** Paints grayscale digits (pixels in [0, 1]) as YCbCr bytes, [n, 3, 28, 28]. */
export function colorDigits(images: Float32Array, labels: Int32Array): Uint8Array {
  const n = labels.length;
  const out = new Uint8Array(n * 3 * PIXELS);
  for (let k = 0; k < n; k++) {
    const [cb, cr] = hue(labels[k]!);
    for (let i = 0; i < PIXELS; i++) {
      const y = images[k * PIXELS + i]!;
      const base = k * 3 * PIXELS + i;
      out[base] = Math.round(255 * y);
      out[base + PIXELS] = Math.round(255 * (0.5 + 0.4 * y * cb));
      out[base + 2 * PIXELS] = Math.round(255 * (0.5 + 0.4 * y * cr));
    }
  }
  return out;
}

/** Every digit of the package, train then test, painted. */
export async function colorDigitsNpy(): Promise<Uint8Array> {
  const { train, test } = await mnistSplits();
  const images = new Float32Array([...train.images, ...test.images]);
  const labels = new Int32Array([...train.labels, ...test.labels]);
  return encodeNpy(colorDigits(images, labels), [labels.length, 3, 28, 28], "|u1");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write("usage: npx tsx examples/data/color-digits.ts OUT.npy\n");
    process.exit(1);
  }
  writeFileSync(path, await colorDigitsNpy());
  process.stdout.write(`wrote ${path}: 10000 colour digits, [10000, 3, 28, 28] bytes\n`);
}
