// How soon the language server has diagnostics after a keystroke in a
// 5,000-line file (issue 13: within 100 ms of `didChange`, not counting the
// debounce). Prints JSON. Run: `npx tsx bench/lsp-diagnostics.ts`.
//
// Two measurements of the same keystrokes:
// - in process: `Workspace.check` after each edit (incremental parse and
//   check), against checking the whole text with `checkProgram` (the anchor);
// - end to end: a real client over stdio (`repr lsp --stdio`, debounce 0),
//   from sending `didChange` to receiving `publishDiagnostics`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Source } from "../language/source.js";
import { checkProgram } from "../compiler/check/check.js";
import { nodeFileHost } from "../compiler/check/file-host.js";
import { Document } from "../lsp/documents.js";
import { Workspace } from "../lsp/workspace.js";
import { startClient } from "../test/lsp/client.js";

/** A program of `units` groups of a block, a data declaration, a model and a pipeline (10 lines of model each). */
export function benchProgram(units: number): string {
  const out: string[] = [];
  for (let i = 0; i < units; i++) {
    out.push(
      `/// A two-layer perceptron, number ${i}.`,
      `block mlp${i}(hidden: int, out: int) {`,
      `  dense(hidden) -> relu -> dense(out)`,
      `}`,
      ``,
      `data digits${i} {`,
      `  image: f32[1, 28, 28]`,
      `  label: label(classes: 10)`,
      `}`,
      ``,
      `/// Autoencoder number ${i}.`,
      `model AE${i} {`,
      `  input image: f32[1, 28, 28]`,
      `  input label: label(classes: 10)`,
      `  encoder f = flatten -> dense(256) -> relu -> dense(64) -> relu`,
      `  bottleneck z = variational(dim: 16, beta: 0.5)`,
      `  decoder g = mlp${i}(hidden: 256, out: 784) -> sigmoid -> reshape([1, 28, 28])`,
      `  head W = classifier(classes: 10)`,
      `  loss reconstruction = mse(image -> f -> z -> g, image)`,
      `  loss probe = cross_entropy(W(z(f(image))), label)`,
      `}`,
      ``,
      `pipeline Probe${i} {`,
      `  pretrain AE${i} on digits${i}.train { epochs: 1, batch: 64, objective: reconstruction }`,
      `  freeze f`,
      `  adapt on digits${i}.train(per_class: 10) { epochs: 5, optimizer: adam(lr: 1e-3) }`,
      `  test on digits${i}.test { metrics: [accuracy] }`,
      `}`,
      ``,
    );
  }
  return out.join("\n");
}

/** One keystroke: where, and what it types. */
interface Keystroke {
  readonly name: string;
  readonly at: (text: string) => number;
  readonly insert: string;
}

const keystrokes: Keystroke[] = [
  { name: "a digit in a model near the end", at: (t) => t.lastIndexOf("dense(256)") + "dense(25".length, insert: "6" },
  { name: "a digit in a model in the middle", at: (t) => t.indexOf("dense(256)", t.length / 2) + "dense(25".length, insert: "6" },
  { name: "a digit in a model near the start", at: (t) => t.indexOf("dense(256)") + "dense(25".length, insert: "6" },
  { name: "a space in a block (the model using it is checked again)", at: (t) => t.indexOf("-> relu -> dense(out)", t.length / 2), insert: " " },
  { name: "an opening parenthesis (a syntax error) in the middle", at: (t) => t.indexOf("-> relu\n", t.length / 2), insert: "(" },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

const REPEATS = 11;
const text = benchProgram(179);
const lines = text.split("\n").length;
const dir = mkdtempSync(join(tmpdir(), "repr-bench-lsp-"));
const path = join(dir, "big.repr");
writeFileSync(path, text);

try {
  // In process.
  const ws = new Workspace();
  const doc = new Document("file://" + path, path, 1, text);
  ws.open(doc);
  ws.check(doc);
  const inProcess: Record<string, unknown> = {};
  for (const k of keystrokes) {
    const times: number[] = [];
    let version = 1;
    let stats = {};
    for (let r = 0; r < REPEATS; r++) {
      const base = doc.text;
      const at = k.at(base);
      const p = doc.lines.positionAt(at);
      const t0 = performance.now();
      doc.update([{ range: { start: p, end: p }, text: k.insert }], ++version);
      ws.check(doc);
      times.push(performance.now() - t0);
      stats = { parse: ws.parserOf(path)?.stats, reuse: ws.cacheOf(path)?.stats };
      // Undo, so every repeat types into the same text.
      const q = doc.lines.positionAt(at + k.insert.length);
      doc.update([{ range: { start: p, end: q }, text: "" }], ++version);
      ws.check(doc);
    }
    inProcess[k.name] = { median_ms: +median(times).toFixed(1), max_ms: +Math.max(...times).toFixed(1), ...stats };
  }
  const full: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    checkProgram(new Source(path, text), nodeFileHost);
    full.push(performance.now() - t0);
  }

  // End to end, over stdio.
  const client = await startClient({ debounceMs: 0 });
  client.open(path, text, 1);
  await client.diagnostics(path, 1);
  const endToEnd: Record<string, unknown> = {};
  let version = 1;
  let current = text;
  for (const k of keystrokes) {
    const times: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const at = k.at(current);
      const before = current.slice(0, at);
      const line = before.split("\n").length - 1;
      const character = at - (before.lastIndexOf("\n") + 1);
      const t0 = performance.now();
      client.change(path, ++version, [{ range: { start: { line, character }, end: { line, character } }, text: k.insert }]);
      await client.diagnostics(path, version);
      times.push(performance.now() - t0);
      client.change(path, ++version, [{ range: { start: { line, character }, end: { line, character: character + k.insert.length } }, text: "" }]);
      await client.diagnostics(path, version);
    }
    current = text;
    endToEnd[k.name] = { median_ms: +median(times).toFixed(1), max_ms: +Math.max(...times).toFixed(1) };
  }
  await client.stop();

  console.log(
    JSON.stringify(
      {
        benchmark: "lsp-diagnostics",
        lines,
        repeats: REPEATS,
        anchor_full_check_median_ms: +median(full).toFixed(1),
        in_process: inProcess,
        end_to_end_stdio_debounce_0: endToEnd,
        debounce_ms_in_use: 50,
        node: process.version,
        date: new Date().toISOString(),
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
