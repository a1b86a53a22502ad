/**
 * The example app in a web page: the same search as `main.ts`, with the
 * weights and the digits fetched over HTTP (`public/`, made by
 * `make-assets.ts`) and the lines written into the page.
 *
 *     npm run app:browser     # bundles this file into examples/app/public/app.js (esbuild)
 *     python3 -m http.server --directory examples/app/public 8000   # or any static file server; open http://localhost:8000/
 *
 * The page must come over HTTP: from file:// browsers load no module script
 * (index.html then says so itself).
 */
import { decodeNpy } from "repr/runtime";
import { Autoencoder } from "./autoencoder.js";
import { describeSearch, searchNeighbours, type Digits } from "./nearest-digits.js";

/** Fetches a file's bytes. */
export type FetchBytes = (path: string) => Promise<Uint8Array>;

/** Digits from a pair of .npy files: u8 images [n, 28, 28] and i32 labels [n]. */
async function digitsFrom(fetchBytes: FetchBytes, name: string): Promise<Digits> {
  const images = decodeNpy(await fetchBytes(`${name}-images.npy`), `${name}-images.npy`);
  const labels = decodeNpy(await fetchBytes(`${name}-labels.npy`), `${name}-labels.npy`);
  return { images: Float32Array.from(images.data, (v) => v / 255), labels: Int32Array.from(labels.data) };
}

/** Runs the app: loads everything through `fetchBytes` and reports each line through `print`. */
export async function runApp(fetchBytes: FetchBytes, print: (line: string) => void): Promise<void> {
  const [weights, train, test] = await Promise.all([fetchBytes("weights.safetensors"), digitsFrom(fetchBytes, "train"), digitsFrom(fetchBytes, "test")]);
  const model = await Autoencoder.create({ weights });
  try {
    for (const line of describeSearch(await searchNeighbours(model, train, test, 5), test, train, 8)) print(line);
  } finally {
    model.dispose();
  }
}

// In a page: fetch next to the page and append to <pre id="out">.
const page = (globalThis as { document?: { getElementById(id: string): { textContent: string | null } | null } }).document;
if (page) {
  const out = page.getElementById("out");
  const print = (line: string) => {
    if (out) out.textContent = `${out.textContent ?? ""}${line}\n`;
  };
  runApp(fetchNextToPage, print).catch((err: unknown) => print(`error: ${err instanceof Error ? err.message : String(err)}`));
}

/** A file next to the page, or an error that names it and says how to make it. */
async function fetchNextToPage(path: string): Promise<Uint8Array> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path} could not be fetched (HTTP ${response.status} ${response.statusText}); run npm run app:browser to write the page's files`);
  return new Uint8Array(await response.arrayBuffer());
}
