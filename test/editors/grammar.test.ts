/**
 * The TextMate grammar (editors/repr.tmLanguage.json) as VS Code runs it:
 * vscode-textmate with the Oniguruma engine (vscode-oniguruma). Every
 * example's token scopes are compared with a golden file beside this test
 * (`grammar-goldens/<example>.txt`; a missing one is written locally and
 * fails on CI; REPR_BLESS=1 rewrites them); and Shiki highlights the
 * ```repr blocks of the README and the spec with the same grammar.
 */
import { describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as oniguruma from "vscode-oniguruma";
import * as textmate from "vscode-textmate";
import { createHighlighterCore } from "shiki/core";
import { createOnigurumaEngine } from "shiki/engine/oniguruma";
import githubLight from "@shikijs/themes/github-light";
import { repoRoot } from "../cli/run-cli.js";

const require = createRequire(import.meta.url);
const grammarPath = join(repoRoot, "editors", "repr.tmLanguage.json");
const grammarText = readFileSync(grammarPath, "utf8");
const goldens = join(import.meta.dirname, "grammar-goldens");
const bless = process.env.REPR_BLESS === "1";
const examplesDir = join(repoRoot, "examples");
const examples = readdirSync(examplesDir).filter((f) => f.endsWith(".repr")).sort();

let registry: textmate.Registry | null = null;

/** The grammar loaded into vscode-textmate on the Oniguruma engine, as VS Code loads it. */
async function grammar(): Promise<textmate.IGrammar> {
  if (!registry) {
    const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    registry = new textmate.Registry({
      onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
      loadGrammar: async (scope) => (scope === "source.repr" ? textmate.parseRawGrammar(grammarText, grammarPath) : null),
    });
  }
  const g = await registry.loadGrammar("source.repr");
  if (!g) throw new Error("the grammar did not load");
  return g;
}

/** Each line with its tokens and their scopes (the file scope left out), as the golden files hold them. */
async function scopes(text: string): Promise<string> {
  const g = await grammar();
  let state = textmate.INITIAL;
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const r = g.tokenizeLine(line, state);
    state = r.ruleStack;
    out.push(line);
    for (const t of r.tokens) {
      const piece = line.slice(t.startIndex, t.endIndex);
      const names = t.scopes.filter((s) => s !== "source.repr");
      if (piece.trim() === "" || names.length === 0) continue;
      out.push(`  ${JSON.stringify(piece)} ${names.join(" ")}`);
    }
  }
  return out.join("\n") + "\n";
}

describe("the TextMate grammar in vscode-textmate (Oniguruma)", () => {
  it.each(examples)("gives %s the scopes of its golden", async (name) => {
    const text = readFileSync(join(examplesDir, name), "utf8");
    const actual = await scopes(text);
    const path = join(goldens, name.replace(/\.repr$/, ".txt"));
    const missing = !existsSync(path);
    expect(missing && process.env.CI !== undefined && process.env.CI !== "", `${path} is missing`).toBe(false);
    if (bless || missing) {
      mkdirSync(goldens, { recursive: true });
      writeFileSync(path, actual);
    }
    expect(actual).toBe(readFileSync(path, "utf8"));
  });

  it("scopes what matters: declarations, doc comments, keywords, numbers, strings", async () => {
    const text = await scopes('/// Doc.\nimport { vit } from "std"\nmodel M {\n  encoder f = dense(64) -> relu // why\n}\n');
    expect(text).toContain('"/// Doc." comment.line.documentation.repr');
    expect(text).toContain('"model" storage.type.repr');
    expect(text).toContain('"M" entity.name.type.repr');
    expect(text).toContain('"encoder" storage.modifier.repr');
    expect(text).toContain('"dense" entity.name.function.repr');
    expect(text).toContain('"64" constant.numeric.repr');
    expect(text).toContain('"->" keyword.operator.pipe.repr');
    expect(text).toContain('"// why" comment.line.double-slash.repr');
    expect(text).toContain("string.quoted.double.repr");
  });
});

describe("Shiki", () => {
  it("highlights the ```repr blocks of the README and the spec with the grammar", async () => {
    const highlighter = await createHighlighterCore({
      themes: [githubLight],
      langs: [{ ...JSON.parse(grammarText), name: "repr" }],
      engine: createOnigurumaEngine(import("shiki/wasm")),
    });
    const docs = [join(repoRoot, "README.md"), ...readdirSync(join(repoRoot, "spec")).filter((f) => f.endsWith(".md")).map((f) => join(repoRoot, "spec", f))];
    let blocks = 0;
    for (const doc of docs) {
      for (const m of readFileSync(doc, "utf8").matchAll(/```repr\n([\s\S]*?)```/g)) {
        const html = highlighter.codeToHtml(m[1]!, { lang: "repr", theme: "github-light" });
        blocks++;
        // Keywords and declared names get colours of their own, not the text's.
        expect(html).toMatch(/<span style="color:#[0-9A-F]{6}">(model|block|data|pipeline|import|encoder|let|input)<\/span>/i);
      }
    }
    expect(blocks).toBeGreaterThan(20);
    highlighter.dispose();
  });
});
