// Draws editors/screenshot.png, the picture in the README's "Editors"
// section: an example highlighted by Shiki with the TextMate grammar
// (editors/repr.tmLanguage.json), and what the language server (repr lsp,
// over stdio) says about it: a diagnostic with its quick-fix suggestion and
// a part's hover. Headless Chromium takes the screenshot.
//
//   npx tsx scripts/editors-screenshot.ts
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HoverRequest, CodeActionRequest } from "vscode-languageserver-protocol/node";
import { createHighlighterCore } from "shiki/core";
import { createOnigurumaEngine } from "shiki/engine/oniguruma";
import githubLight from "@shikijs/themes/github-light";
import { startClient } from "../test/lsp/client.js";

const root = join(import.meta.dirname, "..");
const grammar = JSON.parse(readFileSync(join(root, "editors", "repr.tmLanguage.json"), "utf8"));
const example = readFileSync(join(root, "examples", "masked-autoencoder.repr"), "utf8");
// The model of the example, with a misspelt layer.
const start = example.indexOf("import {");
const end = example.indexOf("/// Handwritten digits.");
const text = example.slice(start, end).trimEnd().replace("-> layer_norm", "-> layer_nrom") + "\n";

const work = mkdtempSync(join(tmpdir(), "repr-screenshot-"));
try {
  const file = join(work, "mae.repr");
  writeFileSync(file, text);
  const client = await startClient();
  const published = client.diagnostics(file, 1);
  const uri = client.open(file, text, 1);
  const { diagnostics } = await published;
  const lines = text.split("\n");
  const partLine = lines.findIndex((l) => l.includes("encoder f ="));
  const hover = await client.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: partLine, character: lines[partLine]!.indexOf("f =") } });
  const fixes = await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: diagnostics[0]!.range, context: { diagnostics } });
  await client.stop();

  const highlighter = await createHighlighterCore({ themes: [githubLight], langs: [{ ...grammar, name: "repr" }], engine: createOnigurumaEngine(import("shiki/wasm")) });
  const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const d = diagnostics[0]!;
  const hoverText = hover && typeof hover.contents === "object" && "value" in hover.contents ? hover.contents.value : "";
  const hoverHtml = escape(hoverText).replace(/```repr\n([\s\S]*?)\n```/g, '<code class="sig">$1</code>').replace(/\n+/g, "<br>");
  const html = highlighter.codeToHtml(text, {
    lang: "repr",
    theme: "github-light",
    decorations: [
      { start: d.range.start, end: d.range.end, properties: { class: "squiggle" } },
      { start: { line: partLine, character: lines[partLine]!.indexOf("f =") }, end: { line: partLine, character: lines[partLine]!.indexOf("f =") + 1 }, properties: { class: "hovered" } },
    ],
    transformers: [
      {
        line(node, line) {
          if (line - 1 === d.range.start.line) {
            node.children.push({ type: "element", tagName: "span", properties: { class: "diag" }, children: [{ type: "text", value: `${d.code}: ${d.message.replace(/\n/g, " — ")}${fixes?.length ? `   [quick fix: ${fixes[0]!.title}]` : ""}` }] });
          }
        },
      },
    ],
  });
  const page = `<!doctype html><html><head><meta charset="utf-8"><style>
body { margin: 0; background: #f3f3f3; font-family: system-ui, sans-serif; }
.window { margin: 16px; background: #fff; border: 1px solid #d0d0d0; border-radius: 6px; box-shadow: 0 2px 8px rgba(0,0,0,.12); position: relative; }
.title { padding: 6px 12px; font-size: 12px; color: #555; border-bottom: 1px solid #e5e5e5; background: #fafafa; border-radius: 6px 6px 0 0; }
pre.shiki { margin: 0; padding: 10px 14px; font: 13px/1.45 "DejaVu Sans Mono", monospace; background: #fff !important; }
.squiggle { text-decoration: underline wavy #e51400; text-decoration-skip-ink: none; }
.hovered { background: #add6ff; }
.diag { display: block; margin: 2px 0 -17px 24px; padding: 3px 8px; background: #fdecea; border-left: 3px solid #e51400; color: #8a1c12; font: 12px/1.4 system-ui, sans-serif; white-space: pre-wrap; }
.hover { position: absolute; left: 300px; top: 244px; width: 500px; background: #f8f8f8; border: 1px solid #c8c8c8; border-radius: 4px; box-shadow: 0 2px 8px rgba(0,0,0,.16); padding: 8px 10px; font: 12px/1.45 system-ui, sans-serif; color: #333; }
.hover code.sig { display: block; font: 12px/1.4 "DejaVu Sans Mono", monospace; color: #0550ae; margin-bottom: 4px; }
</style></head><body><div class="window"><div class="title">mae.repr — highlighted by the repr TextMate grammar; diagnostic and hover from repr lsp</div>${html}<div class="hover">${hoverHtml}</div></div></body></html>`;
  const pagePath = join(work, "page.html");
  writeFileSync(pagePath, page);
  const out = join(root, "editors", "screenshot.png");
  const shot = spawnSync("chromium", ["--headless", "--no-sandbox", "--disable-gpu", `--user-data-dir=${join(work, "profile")}`, "--hide-scrollbars", `--screenshot=${out}`, "--window-size=900,640", `file://${pagePath}`], { encoding: "utf8", timeout: 120_000 });
  if (shot.status !== 0) throw new Error(`chromium failed: ${shot.stderr}`);
  console.log(`wrote ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
