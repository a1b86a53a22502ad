// Builds the package: `node scripts/build.mjs [OUT]` compiles language/, compiler/,
// runtime/ and cli/ into OUT (dist/ by default) and copies the standard library's
// .repr files the built CLI reads. OUT is emptied first, so nothing of an older
// build (a source map, a deleted module) is packed with the new one.
//
// It runs this repository's TypeScript 5.9 by path: the `typescript7` devDependency
// (an npm alias of TypeScript 7, for the type-check tests) has a `tsc` bin too.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const out = process.argv[2] ?? "dist";
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(out, { recursive: true, force: true });
const built = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", out], { stdio: "inherit" });
if (built.status !== 0) process.exit(built.status ?? 1);
if (existsSync("compiler/std")) {
  cpSync("compiler/std", join(out, "compiler", "std"), { recursive: true, filter: (f) => !f.endsWith(".ts") });
}
