/**
 * The example app (issue 5, item 5): a compiled autoencoder module, weights
 * from `repr train`, MNIST digits encoded and their nearest neighbours found
 * by code similarity — in Node, as a browser bundle run with a fetch of local
 * files, and (where Chromium is installed) in a real headless browser page.
 * The neighbours mostly share the query's label.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../cli/run-cli.js";
import { tempDir } from "../train/helpers.js";

const dir = tempDir("app");
const app = join(repoRoot, "examples", "app");
const weights = join(dir, "run", "1-pretrain.safetensors");
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

/** Runs a TypeScript file of the app with tsx, as `npm run app` does. */
function tsx(file: string, ...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(app, file), ...args], { cwd: repoRoot, encoding: "utf8", timeout: 180_000 });
}

/** The lines the app prints: eight queries and the fraction of same-label neighbours. */
function checkLines(lines: readonly string[]): number {
  expect(lines.slice(0, 8).every((l) => /^test digit \d+ \(a \d\): nearest training digits are \d(, \d){4}$/.test(l)), lines.join("\n")).toBe(true);
  const m = /^(\d+\.\d)% of the 5 nearest neighbours of 2004 test digits share their label$/.exec(lines[8]!);
  expect(m, lines[8]).not.toBeNull();
  return Number(m![1]);
}

beforeAll(() => {
  const trained = runCli(["train", "examples/mnist-autoencoder.repr", "--steps", "300", "--batch", "64", "--out", join(dir, "run"), "--plain"]);
  expect(trained.status, trained.stderr).toBe(0);
  const compiled = runCli(["compile", "examples/mnist-autoencoder.repr", "-o", join(app, "autoencoder.ts")]);
  expect(compiled.status, compiled.stderr).toBe(0);
});

describe("the example app", () => {
  let nodeLines: string[] = [];

  it("in Node: most nearest neighbours share the query's label", () => {
    const r = tsx("main.ts", weights);
    expect(r.status, r.stderr).toBe(0);
    nodeLines = r.stdout.trim().split("\n");
    expect(checkLines(nodeLines)).toBeGreaterThan(70);
  });

  it("as a browser bundle (esbuild, platform browser) gives the same search on the same digits", async () => {
    const made = tsx("make-assets.ts", weights);
    expect(made.status, made.stderr).toBe(0);
    const bundle = join(dir, "app.js");
    await build({ entryPoints: [join(app, "browser.ts")], bundle: true, format: "esm", platform: "browser", outfile: bundle, logLevel: "silent" });
    expect(readFileSync(bundle, "utf8")).not.toMatch(/from\s*["']node:/);
    const { runApp } = (await import(pathToFileURL(bundle).href)) as { runApp: (f: (p: string) => Promise<Uint8Array>, print: (l: string) => void) => Promise<void> };
    const lines: string[] = [];
    await runApp(async (p) => new Uint8Array(readFileSync(join(app, "public", p))), (l) => lines.push(l));
    // The browser assets hold 8-bit pixels, the Node app the package's 3-digit floats: the same digits up to rounding.
    expect(Math.abs(checkLines(lines) - checkLines(nodeLines))).toBeLessThan(2);
  });

  // Uses the bundle and the assets of the test above.
  it.skipIf(CHROMIUM === undefined)("in a real page (headless Chromium), the page shows the search", async () => {
    const pre = await withServer((name) => name, (url) => pageText(`${url}/index.html`));
    expect(checkLines(pre.trim().split("\n"))).toBeGreaterThan(70);
  }, 120_000);

  it.skipIf(CHROMIUM === undefined)("opened as a file, the page says it must be served over HTTP", async () => {
    const pre = await pageText(pathToFileURL(join(app, "public", "index.html")).href);
    expect(pre).toContain("error: this page must be served over HTTP");
    expect(pre).toContain("python3 -m http.server --directory examples/app/public");
  }, 120_000);

  it.skipIf(CHROMIUM === undefined)("served without its files, the page names the file that is missing", async () => {
    const noApp = await withServer((name) => (name === "index.html" ? name : null), (url) => pageText(`${url}/index.html`));
    expect(noApp).toMatch(/^error: app\.js could not be loaded from http:\/\/127\.0\.0\.1:\d+\/app\.js; run npm run app:browser to build it\.$/m);
    const noWeights = await withServer((name) => (name === "weights.safetensors" ? null : name), (url) => pageText(`${url}/index.html`));
    expect(noWeights).toContain("error: weights.safetensors could not be fetched (HTTP 404");
  }, 120_000);
});

/**
 * Serves the page's folder (with the test's bundle as app.js) on a local port
 * while `use` runs; `serve` maps a requested name to the name to serve, or
 * null for a 404.
 */
async function withServer<T>(serve: (name: string) => string | null, use: (url: string) => Promise<T>): Promise<T> {
  const bundle = join(dir, "app.js");
  const server = createServer((req, res) => {
    const asked = (req.url ?? "/").split("?")[0]!.slice(1) || "index.html";
    const name = /^[\w.-]+$/.test(asked) ? serve(asked) : null;
    const path = name === null ? null : name === "app.js" ? bundle : join(app, "public", name);
    if (path === null || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": path.endsWith(".html") ? "text/html" : path.endsWith(".js") ? "text/javascript" : "application/octet-stream" });
    res.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.close();
  }
}

/** The text of the page's <pre id="out"> once headless Chromium has run it. */
async function pageText(url: string): Promise<string> {
  // Chromium's profile goes to a folder of the test's, removed with it.
  const profile = mkdtempSync(join(dir, "chromium-"));
  const page = await new Promise<string>((resolve) => {
    const child = spawn(CHROMIUM!, ["--headless", "--no-sandbox", "--disable-gpu", `--user-data-dir=${profile}`, "--virtual-time-budget=60000", "--dump-dom", url]);
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", () => resolve(out));
  });
  const pre = /<pre id="out">([\s\S]*?)<\/pre>/.exec(page)?.[1] ?? "";
  return pre.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}
