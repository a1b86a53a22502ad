/**
 * Web Worker threads (`runtime/backends/cpu/web-threads.ts`) in a real page:
 * headless Chromium opens a page served by a local HTTP server, whose bundle
 * (esbuild, platform browser) loads the universal entry and runs a
 * matmul-heavy kernel graph on the CPU backend with 1, 2, 4 and the default
 * number of threads (`web-threads-page.ts`). Served cross-origin isolated
 * (COOP same-origin, COEP require-corp), every run gives the 1-thread bits and
 * workers run parts of the calls — with `Atomics.waitAsync` and with the
 * polling loop; served without those headers, the page has no workers and
 * runs on one thread. Skipped, with the reason printed, without Chromium.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../train/helpers.js";
import type { WebThreadsReport } from "./web-threads-page.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (CHROMIUM === undefined) console.warn("web-threads.test.ts: skipped, no Chromium at /usr/bin/chromium or /usr/bin/chromium-browser (.ci/run installs it)");

const dir = tempDir("web-threads");
let bundle = "";

beforeAll(async () => {
  if (CHROMIUM === undefined) return;
  const out = await build({ entryPoints: [join(import.meta.dirname, "web-threads-page.ts")], bundle: true, format: "esm", platform: "browser", write: false, logLevel: "silent" });
  bundle = out.outputFiles[0]!.text;
  expect(bundle).not.toMatch(/from\s*["']node:/);
});

/** Opens the page (isolated or not, `query` appended) in headless Chromium and returns what it posts. */
async function report(isolated: boolean, query = ""): Promise<WebThreadsReport> {
  // Settled once: by the page's report, Chromium's exit, or the time limit, whichever comes first.
  let settle!: (r: WebThreadsReport | Error) => void;
  const outcome = new Promise<WebThreadsReport | Error>((r) => (settle = r));
  const server = createServer((req, res) => {
    const headers: Record<string, string> = isolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {};
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "POST" && path === "/result") {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        res.writeHead(204).end();
        settle(JSON.parse(body) as WebThreadsReport);
      });
    } else if (path === "/") {
      res.writeHead(200, { ...headers, "content-type": "text/html" }).end('<!doctype html><title>web threads</title><script type="module" src="/page.js"></script>');
    } else if (path === "/page.js") {
      res.writeHead(200, { ...headers, "content-type": "text/javascript" }).end(bundle);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${query}`;
  const profile = mkdtempSync(join(dir, "chromium-"));
  const child = spawn(CHROMIUM!, ["--headless=new", "--no-sandbox", "--disable-gpu", `--user-data-dir=${profile}`, url], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  child.on("exit", (code) => settle(new Error(`Chromium exited (${code}) before the page reported:\n${stderr}`)));
  const timer = setTimeout(() => settle(new Error(`no report from the page within 60 s:\n${stderr}`)), 60_000);
  const r = await outcome;
  clearTimeout(timer);
  // Chromium's processes (its own process group, started above) write to the profile until they are gone: end them, then remove it.
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // The group has ended already.
  }
  await exited;
  rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  server.close();
  if (r instanceof Error) throw r;
  return r;
}

/** Checks a cross-origin-isolated page's report: workers used, the same bits on every run. */
function expectThreaded(r: WebThreadsReport): void {
  expect(r.error).toBeUndefined();
  expect(r.crossOriginIsolated).toBe(true);
  expect(r.threadsAvailable).toBe(true);
  const concurrency = Math.min(64, Math.max(1, r.hardwareConcurrency));
  expect(r.threads).toEqual([
    { asked: 1, got: 1 },
    { asked: 2, got: 2 },
    { asked: 4, got: 4 },
    { asked: "default", got: concurrency },
  ]);
  expect(r.runs).toBeGreaterThanOrEqual(4);
  expect(r.differing).toBe(0);
  expect(r.splitCalls).toBeGreaterThan(0);
  expect(r.workerParts).toBeGreaterThanOrEqual(20);
}

describe.skipIf(CHROMIUM === undefined)("Web Worker threads in headless Chromium", () => {
  it("cross-origin isolated, with Atomics.waitAsync: workers run parts, and every run has the 1-thread bits", async () => {
    const r = await report(true);
    expect(r.waitAsync).toBe(true);
    expectThreaded(r);
  }, 90_000);

  it("cross-origin isolated, with the polling loop: the same", async () => {
    expectThreaded(await report(true, "?poll=1"));
  }, 90_000);

  it("not cross-origin isolated: no workers, every executable on one thread", async () => {
    const r = await report(false);
    expect(r.error).toBeUndefined();
    expect(r.crossOriginIsolated).toBe(false);
    expect(r.threadsAvailable).toBe(false);
    expect(r.threads.map((t) => t.got)).toEqual([1, 1, 1, 1]);
    expect(r.differing).toBe(0);
    expect(r.workerParts).toBe(0);
  }, 90_000);
});
