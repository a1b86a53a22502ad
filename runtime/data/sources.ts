/**
 * Which reader a source goes to: the word `mnist`; a folder of IDX files or of
 * PNGs or JPEGs; or a file, by its content (an `.npy` or IDX array, gzipped or not) or
 * its name (`.npy`, `…idx3-ubyte`, `.idx`, `.csv`, `.tsv`, each perhaps `.gz`), and otherwise as a UTF-8 text corpus.
 */
import { describeArray, toColumn, type RawArray } from "./column.js";
import { parseCsv, readCsvTable } from "./csv.js";
import { DataError, quote } from "./errors.js";
import { decodeUtf8, gunzipIfNeeded, listFolder, pathKind, readBytes } from "./files.js";
import { decodeIdx, looksLikeIdx } from "./idx.js";
import { isIdxFolder, readIdxFolder } from "./idx-folder.js";
import { MNIST_SOURCE, readMnist } from "./mnist.js";
import { decodeNpy, looksLikeNpy } from "./npy.js";
import { mainAndLabel, type Part, type SourceRequest } from "./part.js";
import { readPngFolder } from "./png-folder.js";
import { readTextCorpus } from "./text.js";
import { parseTsv } from "./tsv.js";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

/** Opens one bound source and reads the fields it is asked for. */
export async function openSource(request: SourceRequest): Promise<Part> {
  if (request.path === MNIST_SOURCE) return readMnist(request);
  if ((await pathKind(request.path, request.shown)) === "folder") {
    const names = (await listFolder(request.path, request.shown)).filter((e) => !e.folder).map((e) => e.name);
    return isIdxFolder(names) ? readIdxFolder(request) : readPngFolder(request);
  }
  const raw = await readBytes(request.path, request.shown);
  const bytes = gunzipIfNeeded(raw, request.shown);
  const name = request.shown.toLowerCase().replace(/\.gz$/, "");
  // Content decides first; a name that promises a format the content lacks gets that format's error.
  if (looksLikeNpy(bytes) || name.endsWith(".npy")) return arrayPart(request, decodeNpy(bytes, request.shown));
  if (looksLikeIdx(bytes) || /(idx\d-ubyte|\.idx)$/.test(name)) return arrayPart(request, decodeIdx(bytes, request.shown));
  if (PNG_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new DataError(request.shown, "is a single PNG image; bind a folder of PNG images instead.", "binding");
  }
  if (JPEG_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new DataError(request.shown, "is a single JPEG image; bind a folder of JPEG images instead.", "binding");
  }
  if (name.endsWith(".csv")) return readCsvTable(request, parseCsv(decodeUtf8(bytes, request.shown), request.shown));
  if (name.endsWith(".tsv")) return readCsvTable(request, parseTsv(decodeUtf8(bytes, request.shown), request.shown));
  return readTextCorpus(request, bytes);
}

/**
 * One array (an `.npy` or IDX file) fills one field: the field it is bound to,
 * or, bound to the whole data set, its one field besides the label.
 */
function arrayPart(request: SourceRequest, raw: RawArray): Part {
  const { main, label } = mainAndLabel(request, "one array");
  const field = main ?? label!;
  return {
    origin: request.shown,
    provides: `one array ${describeArray(raw.dtype, raw.shape)} (read into field ${quote(field.name)})`,
    columns: { kind: "whole", all: new Map([[field.name, toColumn(field, raw)]]) },
  };
}
