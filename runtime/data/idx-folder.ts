/**
 * A folder of IDX files in the MNIST layout (`train-images-idx3-ubyte[.gz]`,
 * `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`,
 * `t10k-labels-idx1-ubyte[.gz]`), as Debian's `dataset-fashion-mnist` installs
 * in /usr/share/datasets/fashion-mnist. `train` and `t10k` are the splits.
 */
import { join } from "node:path";
import { toColumn, type RawArray } from "./column.js";
import { DataError, quote } from "./errors.js";
import { listFolder, readMaybeGzipped } from "./files.js";
import { decodeIdx } from "./idx.js";
import { mainAndLabel, type Part, type SourceRequest } from "./part.js";
import type { Column } from "./split.js";

/** The names an IDX file of the layout may have: `-` or `.` before `idx`, gzipped or not. */
const IDX_NAME = /^(train|t10k)-(images|labels)[-.]idx\d-ubyte(\.gz)?$/;

/** Whether a folder listing has the IDX layout's files. */
export function isIdxFolder(names: readonly string[]): boolean {
  return names.some((n) => IDX_NAME.test(n));
}

/** The file of one split and kind in a listing, e.g. `train-images-idx3-ubyte.gz`. */
function findFile(names: readonly string[], split: "train" | "t10k", kind: "images" | "labels"): string | undefined {
  return names.find((n) => {
    const m = IDX_NAME.exec(n);
    return m !== null && m[1] === split && m[2] === kind;
  });
}

/**
 * Reads the folder's images into the one non-label target field and its labels
 * into the label field, checking that each split's two files hold the same
 * number of examples.
 */
export async function readIdxFolder(request: SourceRequest): Promise<Part> {
  const listing = await listFolder(request.path, request.shown);
  const names = listing.filter((e) => !e.folder).map((e) => e.name);
  const { main, label } = mainAndLabel(request, "an IDX folder");
  const read = async (split: "train" | "t10k", kind: "images" | "labels"): Promise<RawArray> => {
    const name = findFile(names, split, kind);
    const expected = `${split}-${kind}-idx${kind === "images" ? 3 : 1}-ubyte[.gz]`;
    if (name === undefined) {
      throw new DataError(request.shown, `is an IDX folder without ${expected}, which ${quote((kind === "images" ? main : label)!.name)} needs.`, "missing", {
        expected,
      });
    }
    const shown = join(request.shown, name);
    return decodeIdx(await readMaybeGzipped(join(request.path, name), shown), shown);
  };
  const splits: Record<"train" | "test", Map<string, Column>> = { train: new Map(), test: new Map() };
  for (const [split, key] of [["train", "train"], ["t10k", "test"]] as const) {
    const images = main ? await read(split, "images") : undefined;
    const labels = label ? await read(split, "labels") : undefined;
    if (images && labels && images.shape[0] !== labels.shape[0]) {
      throw new DataError(
        request.shown,
        `${images.file} holds ${images.shape[0]} examples but ${labels.file} holds ${labels.shape[0]}; a split's images and labels must match one to one.`,
        "length",
        { expected: `${images.shape[0]} examples`, actual: `${labels.shape[0]} examples` },
      );
    }
    if (main && images) splits[key].set(main.name, toColumn(main, images));
    if (label && labels) splits[key].set(label.name, toColumn(label, labels));
  }
  return {
    origin: request.shown,
    provides: "images and labels (an IDX folder, split into train and t10k)",
    columns: { kind: "split", train: splits.train, test: splits.test },
  };
}
