/**
 * The language server over stdio, as an editor drives it: one test (or
 * more) per feature of issue 13, each through vscode-languageserver-protocol's
 * client against `repr lsp --stdio`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  HoverRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  SemanticTokensRequest,
  SignatureHelpRequest,
  type CompletionItem,
  type CompletionList,
  type Diagnostic as LspDiagnostic,
  type DocumentSymbol,
  type Hover,
  type Position,
} from "vscode-languageserver-protocol/node";
import { Source } from "../../language/source.js";
import { format } from "../../language/format.js";
import { checkProgram } from "../../compiler/check/check.js";
import { STD_DIR, nodeFileHost } from "../../compiler/check/file-host.js";
import { repoRoot } from "../cli/run-cli.js";
import { tempDir } from "../train/helpers.js";
import { startClient, uriOf, type Client } from "./client.js";

const examples = join(repoRoot, "examples");
const mae = join(examples, "masked-autoencoder.repr");
const maeText = readFileSync(mae, "utf8");

/** The position of the `nth` occurrence of `needle` in `text`, `shift` characters in. */
function positionOf(text: string, needle: string, shift = 0, nth = 0): Position {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`'${needle}' is not in the text`);
  const before = text.slice(0, at + shift);
  return { line: before.split("\n").length - 1, character: before.length - (before.lastIndexOf("\n") + 1) };
}

function hoverText(h: Hover | null): string {
  if (!h) return "";
  const c = h.contents;
  return typeof c === "string" ? c : "value" in c ? c.value : c.map((x) => (typeof x === "string" ? x : x.value)).join("\n");
}

function labels(result: CompletionItem[] | CompletionList | null): string[] {
  const items = Array.isArray(result) ? result : (result?.items ?? []);
  return items.map((i) => i.label);
}

let client: Client;
const dir = tempDir("lsp-server");

beforeAll(async () => {
  client = await startClient();
});

afterAll(async () => {
  expect(client.log.filter((l) => l.includes("failed"))).toEqual([]);
  expect(await client.stop()).toBe(0);
});

/** Opens a document with `text` (a fresh file in the test folder unless a path is given) and waits for its first diagnostics. */
async function open(name: string, text: string): Promise<{ path: string; uri: string; diagnostics: LspDiagnostic[] }> {
  const path = name.startsWith("/") ? name : join(dir, name);
  if (!name.startsWith("/")) writeFileSync(path, text);
  const published = client.diagnostics(path, 1);
  const uri = client.open(path, text, 1);
  return { path, uri, diagnostics: (await published).diagnostics };
}

describe("diagnostics", () => {
  it("are repr check's: codes, spans, notes as further lines, related spans as related information", async () => {
    const text = maeText.replace("-> dense(16)", "-> dens(16)").replace("data digits {", "data digits {\n  image: f32[1, 28, 28]");
    const { path, diagnostics } = await open("mae-broken.repr", text);
    const expected = checkProgram(new Source(path, text), nodeFileHost).diagnostics;
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(diagnostics.map((d) => d.code)).toEqual(expected.map((d) => d.code));
    for (const [d, e] of diagnostics.map((d, i) => [d, expected[i]!] as const)) {
      const start = e.source.position(e.span.start);
      expect(d.range.start).toEqual({ line: start.line - 1, character: start.column - 1 });
      expect(d.message).toBe([e.message, ...e.notes.map((n) => `note: ${n}`)].join("\n"));
      expect(d.relatedInformation?.map((r) => r.message) ?? []).toEqual(e.related.map((r) => r.message));
    }
    const unknown = diagnostics.find((d) => d.code === "RC201")!;
    expect(unknown.message).toContain("note: did you mean 'dense'?");
    const duplicate = diagnostics.find((d) => d.relatedInformation?.length)!;
    expect(duplicate.relatedInformation![0]!.message).toBe("first defined here");
    expect(duplicate.relatedInformation![0]!.location.uri).toBe(uriOf(path));
  });

  it("follow edits, incrementally applied", async () => {
    const { path, diagnostics } = await open("edit.repr", maeText);
    expect(diagnostics).toEqual([]);
    const at = positionOf(maeText, "dense(16)", "dense(".length);
    const next = client.diagnostics(path, 2);
    client.change(path, 2, [{ range: { start: at, end: { ...at, character: at.character + 2 } }, text: "15" }]);
    const changed = (await next).diagnostics;
    expect(changed.map((d) => d.code)).toEqual(["RC401"]);
    const fixed = client.diagnostics(path, 3);
    client.change(path, 3, [{ range: { start: at, end: { ...at, character: at.character + 2 } }, text: "16" }]);
    expect((await fixed).diagnostics).toEqual([]);
  });

  it("reach the files that import the one edited", async () => {
    const lib = "block widen(n: int) {\n  dense(n) -> relu\n}\n";
    const main = 'import { widen } from "./lib-a.repr"\n\nmodel M {\n  input x: f32[8]\n  encoder f = widen(n: 4)\n  loss l = mse(f(x), x)\n}\n';
    const a = await open("lib-a.repr", lib);
    const m = await open("main-a.repr", main);
    expect(a.diagnostics).toEqual([]);
    expect(m.diagnostics.map((d) => d.code)).toEqual(["RC408"]);
    // Making the block keep the width fixes the model that imports it.
    const fixed = client.diagnostics(m.path, 1);
    client.change(a.path, 2, [{ text: "block widen(n: int) {\n  dense(8) -> relu\n}\n" }]);
    expect((await fixed).diagnostics).toEqual([]);
  });
});

describe("hover", () => {
  let uri: string;
  const hoverAt = async (needle: string, shift = 0, nth = 0): Promise<string> =>
    hoverText(await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: positionOf(maeText, needle, shift, nth) }));

  beforeAll(async () => {
    ({ uri } = await open(mae, maeText));
  });

  it("on a value: its shape", async () => {
    expect(await hoverAt("image: f32", 1)).toContain("input image: f32[B, 1, 28, 28]");
    expect(await hoverAt("let encoded", 5)).toContain("let encoded: f32[B, 64]");
    // An expression: the value it computes.
    expect(await hoverAt("mse(g(f(m.input", "mse(g(f(m.i".length)).toContain("f32[B, 12, 16]");
  });

  it("on a part: input -> output shape, parameter count and FLOPs per example", async () => {
    const text = await hoverAt("encoder f", "encoder ".length);
    expect(text).toContain("encoder f: [B, 12, 16] -> [B, 12, 64]");
    expect(text).toMatch(/[\d,]+ parameters · [\d.]+ [kMG]?FLOPs per example/);
    expect(text).toContain("A four-block vision transformer");
    // A use of the part says the same.
    expect(await hoverAt("-> f ->", 3)).toContain("encoder f: [B, 12, 16] -> [B, 12, 64]");
  });

  it("on a layer, mask or objective: the spec's signature and one-line description", async () => {
    expect(await hoverAt("dense(32)", 1)).toContain("dense(units: int ≥ 1, bias: bool = true)");
    expect(await hoverAt("dense(32)", 1)).toContain("A fully connected layer");
    expect(await hoverAt("random_patches", 1)).toContain("random_patches(x, size: int ≥ 1, ratio: float in (0, 1), encoder_sees: visible | mask_token = visible)");
    expect(await hoverAt("cross_entropy", 1)).toContain("cross_entropy(logits, labels)");
    expect(await hoverAt("adamw", 1)).toContain("Built-in optimizer");
  });

  it("on a block: its signature and /// doc", async () => {
    const text = await hoverAt("transformer_block(dim: 32", 1);
    expect(text).toContain("block transformer_block(dim: int, heads: int, mlp_ratio: int = 4, causal: bool = false, dropout: float = 0.0)");
    expect(text).toContain("A pre-norm transformer block");
  });
});

describe("completion", () => {
  /** Completion labels at the end of `prefix` inserted at `at` in a model file. */
  async function completeIn(text: string, marker = "|"): Promise<string[]> {
    const at = text.indexOf(marker);
    const clean = text.replace(marker, "");
    const name = `complete-${Math.abs(hash(clean))}.repr`;
    const { uri } = await open(name, clean);
    return labels(await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: positionOf(clean.slice(0, at) + "\u0000" + clean.slice(at), "\u0000") }));
  }
  const model = (member: string) => `import { mlp } from "std"\n\ndata pairs {\n  image: f32[1, 28, 28]\n  label: label(classes: 10)\n}\n\nmodel M {\n  input image: f32[1, 28, 28]\n  encoder f = flatten -> dense(8)\n  mask m = random_patches(image, size: 4, ratio: 0.5)\n${member}\n}\n`;

  it("layers, blocks and parts where a part is defined and after ->", async () => {
    const items = await completeIn(model("  decoder g = dense(4) -> |"));
    expect(items).toEqual(expect.arrayContaining(["dense", "conv2d", "layer_norm", "variational", "mlp", "f"]));
    expect(items).not.toContain("mse");
  });

  it("masks, views and objectives after mask, views and loss", async () => {
    expect(await completeIn(model("  mask n = |"))).toEqual(expect.arrayContaining(["random_patches", "channels", "next_token"]));
    expect(await completeIn(model("  views a, b = |"))).toEqual(["augment"]);
    const losses = await completeIn(model("  loss l = |"));
    expect(losses).toEqual(expect.arrayContaining(["mse", "cross_entropy", "info_nce"]));
  });

  it("named arguments with their types and defaults", async () => {
    const text = model("  part p = dense(|)");
    const at = text.indexOf("|");
    const clean = text.replace("|", "");
    const { uri } = await open("complete-args.repr", clean);
    const result = await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: positionOf(clean, "dense(", 6, 1) });
    const items = Array.isArray(result) ? result : result!.items;
    expect(items.find((i) => i.label === "units:")?.detail).toBe("units: int ≥ 1");
    expect(items.find((i) => i.label === "bias:")?.detail).toBe("bias: bool = true");
    void at;
    expect(await completeIn(model("  mask n = random_patches(image, size: 4, ratio: 0.5, encoder_sees: |)"))).toEqual(["visible", "mask_token"]);
  });

  it("names in scope, a mask's fields, and data fields after input", async () => {
    const names = await completeIn(model("  let z = |"));
    expect(names).toEqual(expect.arrayContaining(["image", "f", "m", "mlp", "flatten"]));
    expect(await completeIn(model("  let z = m.|"))).toEqual(["input", "target", "masked"]);
    expect(await completeIn(model("  input |"))).toEqual(expect.arrayContaining(["image", "label"]));
  });

  it("std exports in imports", async () => {
    const items = await completeIn('import { | } from "std"\n');
    expect(items).toEqual(expect.arrayContaining(["mlp", "transformer_block", "vit", "gpt"]));
  });

  it("pipeline step keywords, settings, optimizers and schedules", async () => {
    const pipeline = (body: string) => `${model("")}\npipeline P {\n  pretrain M on pairs.train { epochs: 1 }\n${body}\n}\n`;
    expect(await completeIn(pipeline("  |"))).toEqual(["pretrain", "freeze", "unfreeze", "replace", "adapt", "test"]);
    expect(await completeIn(pipeline("  freeze |"))).toEqual(["f"]);
    expect(await completeIn(pipeline("  adapt on pairs.train { |"))).toEqual(expect.arrayContaining(["epochs", "batch", "optimizer", "schedule", "objective"]));
    expect(await completeIn(pipeline("  adapt on pairs.train { optimizer: |"))).toEqual(["sgd", "momentum", "adam", "adamw"]);
    expect(await completeIn(pipeline("  adapt on pairs.train { schedule: |"))).toEqual(["constant", "cosine", "warmup"]);
    expect(await completeIn(pipeline("  adapt on |"))).toEqual(["pairs"]);
    expect(await completeIn(pipeline("  adapt on pairs.train { lr_scale: { |"))).toEqual(["f"]);
    expect(await completeIn(pipeline("  adapt on pairs.train { lr_scale: { f: 0.1, |"))).toEqual(["f"]);
  });
});

describe("navigation and editing", () => {
  let uri: string;
  beforeAll(async () => {
    ({ uri } = await open(mae, maeText));
  });

  it("signature help in a call, on the argument being written", async () => {
    const help = await client.connection.sendRequest(SignatureHelpRequest.type, { textDocument: { uri }, position: positionOf(maeText, "ratio: 0.75", 7) });
    const sig = help!.signatures[0]!;
    expect(sig.label).toContain("random_patches(x, size: int ≥ 1");
    const active = sig.parameters![help!.activeParameter!]!.label as [number, number];
    expect(sig.label.slice(active[0], active[1])).toBe("ratio: float in (0, 1)");
  });

  it("go to definition across imports, into the standard library", async () => {
    const loc = await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: positionOf(maeText, "vit(dim", 1) });
    const target = Array.isArray(loc) ? loc[0]! : loc!;
    expect("uri" in target && target.uri).toBe(uriOf(join(STD_DIR, "nn.repr")));
    const std = readFileSync(join(STD_DIR, "nn.repr"), "utf8").split("\n");
    const range = "range" in target ? target.range : null;
    expect(std[range!.start.line]!.slice(range!.start.character, range!.end.character)).toBe("vit");
    // A part's use leads to the part.
    const part = await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: positionOf(maeText, "g(f(m.input))", 2) });
    expect(part && "range" in part ? part.range.start : null).toEqual(positionOf(maeText, "encoder f", "encoder ".length));
  });

  it("find references of a part, across the model and the pipeline", async () => {
    const refs = await client.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: positionOf(maeText, "encoder f", 8), context: { includeDeclaration: true } });
    const lines = refs!.map((r) => maeText.split("\n")[r.range.start.line]!.trim());
    expect(lines).toEqual(expect.arrayContaining(["encoder f = vit(dim: 64, depth: 4, heads: 4)", "loss reconstruction = mse(g(f(m.input)), m.target) on m.masked", "let encoded = image -> patchify(size: 4) -> f -> mean_pool", "freeze f"]));
    expect(refs!.length).toBe(4);
  });

  it("find references of a standard-library block, in the file that imports it and the library itself", async () => {
    const refs = await client.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri }, position: positionOf(maeText, "transformer_block(dim", 1), context: { includeDeclaration: true } });
    const uris = new Set(refs!.map((r) => r.uri));
    expect(uris).toContain(uri);
    expect(uris).toContain(uriOf(join(STD_DIR, "nn.repr")));
  });

  it("go to definition, references and rename across a user's imports", async () => {
    const lib = "/// Wider, then narrower.\nblock widen(n: int) {\n  dense(n) -> relu -> dense(8)\n}\n";
    const main = 'import { widen } from "./lib-b.repr"\n\nmodel M {\n  input x: f32[8]\n  encoder f = widen(n: 4)\n  loss l = mse(f(x), x)\n}\n';
    const l = await open("lib-b.repr", lib);
    const m = await open("main-b.repr", main);
    const use = positionOf(main, "widen(n", 1);
    const def = await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: m.uri }, position: use });
    expect(def && "uri" in def ? [def.uri, def.range.start] : null).toEqual([l.uri, positionOf(lib, "widen")]);
    // The block's parameter, named at the call, leads to the parameter.
    const param = await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: m.uri }, position: positionOf(main, "n: 4") });
    expect(param && "uri" in param ? [param.uri, param.range.start] : null).toEqual([l.uri, positionOf(lib, "n: int")]);
    const refs = await client.connection.sendRequest(ReferencesRequest.type, { textDocument: { uri: l.uri }, position: positionOf(lib, "widen", 1), context: { includeDeclaration: false } });
    expect(refs!.map((r) => [r.uri, r.range.start])).toEqual([
      [m.uri, positionOf(main, "widen")],
      [m.uri, positionOf(main, "widen", 0, 1)],
    ]);
    // After an edit moves the block down, its uses lead to where it is now.
    const moved = `\n\n${lib}`;
    const next = client.diagnostics(m.path, 1);
    client.change(l.path, 2, [{ text: moved }]);
    await next;
    const again = await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: m.uri }, position: use });
    expect(again && "uri" in again ? again.range.start : null).toEqual(positionOf(moved, "widen"));
    client.change(l.path, 3, [{ text: lib }]);
    const edit = await client.connection.sendRequest(RenameRequest.type, { textDocument: { uri: m.uri }, position: use, newName: "broaden" });
    expect(edit!.changes![l.uri]!.map((e) => e.range.start)).toEqual([positionOf(lib, "widen")]);
    expect(edit!.changes![m.uri]!.length).toBe(2);
  });

  it("a pipeline's parts and losses, of a model imported from another file", async () => {
    const lib = "model Net {\n  input x: f32[8]\n  encoder f = dense(4)\n  decoder g = dense(8)\n  loss rec = mse(g(f(x)), x)\n}\n\ndata points {\n  x: f32[8]\n}\n";
    const main = 'import { Net, points } from "./lib-c.repr"\n\npipeline P {\n  pretrain Net on points.train { objective: rec }\n  freeze f\n}\n';
    const l = await open("lib-c.repr", lib);
    const m = await open("main-c.repr", main);
    expect(m.diagnostics).toEqual([]);
    const part = await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: m.uri }, position: positionOf(main, "freeze f", 7) });
    expect(part && "uri" in part ? [part.uri, part.range.start] : null).toEqual([l.uri, positionOf(lib, "f =")]);
    const loss = await client.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri: m.uri }, position: positionOf(main, "rec }") });
    expect(loss && "uri" in loss ? loss.range.start : null).toEqual(positionOf(lib, "rec ="));
    const withCursor = main.replace("  freeze f\n", "  freeze f\n  unfreeze \n");
    const uri = m.uri;
    const next = client.diagnostics(m.path, 2);
    client.change(m.path, 2, [{ text: withCursor }]);
    await next;
    const items = await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: positionOf(withCursor, "unfreeze ", 9) });
    expect(labels(items)).toEqual(["f", "g"]);
  });

  it("rename a part everywhere; refuse to rename a built-in", async () => {
    const edit = await client.connection.sendRequest(RenameRequest.type, { textDocument: { uri }, position: positionOf(maeText, "decoder g", 8), newName: "dec" });
    const edits = edit!.changes![uri]!;
    expect(edits.length).toBe(2);
    expect(edits.every((e) => e.newText === "dec")).toBe(true);
    const prepared = await client.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri }, position: positionOf(maeText, "decoder g", 8) });
    expect(prepared && "placeholder" in prepared ? prepared.placeholder : null).toBe("g");
    await expect(client.connection.sendRequest(PrepareRenameRequest.type, { textDocument: { uri }, position: positionOf(maeText, "dense(32)", 1) })).rejects.toThrow(/built in/);
  });

  it("document symbols: an outline of models, parts, data and pipelines", async () => {
    const symbols = (await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
    expect(symbols.map((s) => s.name)).toEqual(['import std', "MAE", "digits", "LinearProbe", "FromScratch"]);
    expect(symbols[1]!.children!.map((c) => `${c.detail} ${c.name}`)).toEqual(expect.arrayContaining(["input image", "encoder f", "decoder g", "head W", "mask m", "let encoded", "loss probe"]));
  });

  it("formatting is exactly repr fmt", async () => {
    const messy = maeText.replace("model MAE {", "model   MAE{").replace("  head W = classifier(classes: 10)", "head W=classifier( classes:10 )");
    const { uri: u, path } = await open("messy.repr", messy);
    const edits = await client.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri: u }, options: { tabSize: 2, insertSpaces: true } });
    expect(edits!.length).toBe(1);
    expect(edits![0]!.newText).toBe(format(new Source(path, messy)).text);
    expect(edits![0]!.newText).toBe(maeText);
  });

  it("semantic tokens tell parts, built-ins, values and argument names apart", async () => {
    const legend = client.capabilities.semanticTokensProvider!.legend;
    const tokens = await client.connection.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } });
    const decoded: { line: number; char: number; text: string; type: string; mods: string[] }[] = [];
    let line = 0;
    let char = 0;
    const lines = maeText.split("\n");
    for (let i = 0; i < tokens!.data.length; i += 5) {
      const [dl, dc, len, type, mods] = tokens!.data.slice(i, i + 5) as [number, number, number, number, number];
      line += dl;
      char = dl === 0 ? char + dc : dc;
      decoded.push({ line, char, text: lines[line]!.slice(char, char + len), type: legend.tokenTypes[type]!, mods: legend.tokenModifiers.filter((_, b) => mods & (1 << b)) });
    }
    const find = (text: string, type: string) => decoded.find((t) => t.text === text && t.type === type);
    expect(find("f", "function")?.mods).toContain("declaration");
    expect(find("dense", "function")?.mods).toContain("defaultLibrary");
    expect(find("ratio", "parameter")).toBeDefined();
    expect(find("image", "variable")).toBeDefined();
    expect(find("model", "keyword")).toBeDefined();
    expect(find("MAE", "class")).toBeDefined();
    expect(find("visible", "enumMember")).toBeDefined();
  });

  it("quick fixes for did-you-mean suggestions", async () => {
    const text = maeText.replace("-> layer_norm", "-> layer_nrom");
    const { uri: u, diagnostics } = await open("typo.repr", text);
    const typo = diagnostics.find((d) => d.code === "RC201")!;
    const actions = await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri: u }, range: typo.range, context: { diagnostics: [typo] } });
    const fix = actions!.find((a) => "edit" in a && a.title === "Change to 'layer_norm'");
    expect(fix && "edit" in fix ? fix.edit!.changes![u] : null).toEqual([{ range: typo.range, newText: "layer_norm" }]);
  });
});

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}
