// Builds the VS Code extension into a .vsix, offline: `npm run vsix` (from the
// repository root), or `node editors/vscode/build.mjs [OUT.vsix]`.
//
// The client is bundled with its library (vscode-languageclient) by esbuild,
// the grammar is copied from editors/, and @vscode/vsce packs the folder
// (--no-dependencies: the bundle has everything). Nothing is downloaded.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const { version } = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const out = resolve(process.argv[2] ?? join(here, `repr-${version}.vsix`));

rmSync(join(here, "dist"), { recursive: true, force: true });
await build({
  entryPoints: [join(here, "src", "extension.ts")],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  external: ["vscode"],
  outfile: join(here, "dist", "extension.js"),
  minify: true,
  logLevel: "warning",
});
mkdirSync(join(here, "syntaxes"), { recursive: true });
copyFileSync(join(root, "editors", "repr.tmLanguage.json"), join(here, "syntaxes", "repr.tmLanguage.json"));
copyFileSync(join(root, "LICENSE"), join(here, "LICENSE"));

const vsce = join(dirname(createRequire(import.meta.url).resolve("@vscode/vsce/package.json")), "vsce");
const packed = spawnSync(process.execPath, [vsce, "package", "--no-dependencies", "--allow-missing-repository", "--out", out], { cwd: here, stdio: "inherit" });
if (packed.status !== 0) process.exit(packed.status ?? 1);
console.log(`wrote ${out}`);
