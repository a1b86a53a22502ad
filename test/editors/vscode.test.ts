/**
 * The VS Code extension (editors/vscode): it builds into a .vsix offline
 * with one npm script's command; the package holds the language, grammar,
 * configuration, snippets and the bundled client; the client finds `repr`
 * through the setting or the workspace, never npx; the snippets expand into
 * programs that check; `///` continues on Enter.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Source } from "../../language/source.js";
import { checkProgram } from "../../compiler/check/check.js";
import { nodeFileHost } from "../../compiler/check/file-host.js";
import { serverCommand } from "../../editors/vscode/src/server-command.js";
import { repoRoot } from "../cli/run-cli.js";
import { tempDir } from "../train/helpers.js";

const ext = join(repoRoot, "editors", "vscode");
const manifest = JSON.parse(readFileSync(join(ext, "package.json"), "utf8"));
const rootPackage = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));

/** The files of a zip archive and their contents, read with Python's zipfile (Debian has it). */
function unzip(path: string): Map<string, string> {
  const py = "import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({n: z.read(n).decode('utf8','replace') for n in z.namelist()}))";
  const r = spawnSync("python3", ["-c", py, path], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  expect(r.status, r.stderr).toBe(0);
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, string>));
}

describe("the VS Code extension", () => {
  const dir = tempDir("vsix");

  it("builds into a .vsix offline with the npm script's command, holding the language, grammar, snippets and bundled client", () => {
    expect(rootPackage.scripts.vsix).toBe("node editors/vscode/build.mjs");
    expect(rootPackage.devDependencies["@vscode/vsce"]).toMatch(/^3\.\d+\.\d+$/);
    const out = join(dir, "repr.vsix");
    const built = spawnSync(process.execPath, [join(ext, "build.mjs"), out], { cwd: repoRoot, encoding: "utf8", timeout: 120_000, env: { ...process.env, npm_config_offline: "true" } });
    expect(built.status, built.stdout + built.stderr).toBe(0);
    const files = unzip(out);
    for (const f of ["extension/package.json", "extension/dist/extension.js", "extension/syntaxes/repr.tmLanguage.json", "extension/language-configuration.json", "extension/snippets/repr.json", "extension/readme.md"]) {
      expect([...files.keys()], f).toContain(f);
    }
    expect([...files.keys()].filter((f) => f.startsWith("extension/src/") || f.endsWith(".vsix"))).toEqual([]);
    expect(files.get("extension/syntaxes/repr.tmLanguage.json")).toBe(readFileSync(join(repoRoot, "editors", "repr.tmLanguage.json"), "utf8"));
    // The bundle needs nothing at run time but VS Code's API and Node's own modules.
    const bundle = files.get("extension/dist/extension.js")!;
    const required = new Set([...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!));
    expect([...required].filter((m) => m !== "vscode" && !/^(node:)?[a-z_]+(\/[a-z_]+)?$/.test(m))).toEqual([]);
    expect(required).toContain("vscode");
  });

  it("contributes the language, grammar, configuration, snippets and the server setting", () => {
    const c = manifest.contributes;
    expect(c.languages[0]).toMatchObject({ id: "repr", extensions: [".repr"], configuration: "./language-configuration.json" });
    expect(c.grammars[0]).toMatchObject({ language: "repr", scopeName: "source.repr", path: "./syntaxes/repr.tmLanguage.json" });
    expect(c.snippets[0]).toMatchObject({ language: "repr", path: "./snippets/repr.json" });
    expect(c.configuration.properties["repr.server.path"].type).toBe("string");
    expect(manifest.activationEvents).toEqual(["onLanguage:repr"]);
    expect(manifest.main).toBe("./dist/extension.js");
  });

  it("finds repr through the setting or the workspace's node_modules/.bin, never npx", () => {
    const exists = (p: string) => p === "/w2/node_modules/.bin/repr";
    expect(serverCommand("", ["/w1", "/w2"], "linux", exists)).toBe("/w2/node_modules/.bin/repr");
    expect(serverCommand("tools/repr", ["/w1"], "linux", exists)).toBe("/w1/tools/repr");
    expect(serverCommand("/opt/repr/bin/repr", ["/w1"], "linux", exists)).toBe("/opt/repr/bin/repr");
    expect(serverCommand("", ["/w1"], "linux", exists)).toBeNull();
    expect(serverCommand("", ["C:\\w"], "win32", (p) => p.endsWith("repr.cmd"))).toMatch(/repr\.cmd$/);
    expect(readFileSync(join(ext, "src", "extension.ts"), "utf8")).not.toMatch(/npx/);
  });

  it("continues /// doc comments on Enter, and knows repr's comments and brackets", () => {
    const config = JSON.parse(readFileSync(join(ext, "language-configuration.json"), "utf8"));
    const rule = config.onEnterRules.find((r: { action: { appendText?: string } }) => r.action.appendText === "/// ");
    const before = new RegExp(rule.beforeText);
    expect(before.test("  /// The encoder.")).toBe(true);
    expect(before.test("  // a note")).toBe(false);
    expect(before.test("  encoder f = dense(4)")).toBe(false);
    expect(config.comments).toEqual({ lineComment: "//", blockComment: ["/*", "*/"] });
    expect(config.brackets).toEqual([["{", "}"], ["[", "]"], ["(", ")"]]);
    expect(config.autoClosingPairs.map((p: { open: string }) => p.open)).toEqual(["{", "[", "(", '"', "/*"]);
  });

  it("has model, data and pipeline snippets that expand into a program that checks", () => {
    const snippets = JSON.parse(readFileSync(join(ext, "snippets", "repr.json"), "utf8")) as Record<string, { prefix: string; body: string[] }>;
    expect(Object.values(snippets).map((s) => s.prefix).sort()).toEqual(["data", "model", "pipeline"]);
    // Each placeholder takes its default; `$0` is where the cursor ends.
    const expand = (body: string[]) => body.join("\n").replace(/\$\{\d+:([^}]*)\}/g, "$1").replace(/\$\d+/g, "");
    const program = ["model", "data", "pipeline"].map((k) => expand(snippets[k]!.body)).join("\n");
    const { diagnostics } = checkProgram(new Source(join(repoRoot, "snippets.repr"), program), nodeFileHost);
    expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });
});
