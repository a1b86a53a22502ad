/**
 * The page `web-threads.test.ts` opens in headless Chromium (bundled with
 * esbuild for the browser): it loads the universal entry, which installs Web
 * Worker threads where the page is cross-origin isolated, runs a
 * matmul-heavy kernel graph on the CPU backend with 1, 2 and 4 threads until
 * workers have run parts of its calls (or 20 s pass), and posts what it found
 * to `/result`. `?poll=1` makes the workers use their polling loop rather than
 * `Atomics.waitAsync`.
 */
import "../../runtime/index.js";
import { compileCpu } from "../../runtime/backends/cpu/index.js";
import { threadsAvailable, workerParts } from "../../runtime/backends/cpu/threads.js";
import { installWebThreads } from "../../runtime/backends/cpu/web-threads.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";

/** What the page reports. */
export interface WebThreadsReport {
  readonly crossOriginIsolated: boolean;
  readonly threadsAvailable: boolean;
  readonly hardwareConcurrency: number;
  /** Threads each executable runs on: 1, 2, 4 asked, and the default. */
  readonly threads: { readonly asked: number | "default"; readonly got: number }[];
  /** Runs compared with the 1-thread outputs, and how many differed in any bit. */
  readonly runs: number;
  readonly differing: number;
  /** Kernel calls split among threads, and parts of them workers ran. */
  readonly splitCalls: number;
  readonly workerParts: number;
  readonly waitAsync: boolean;
  readonly error?: string;
}

const g = globalThis as unknown as {
  location: { search: string };
  navigator: { hardwareConcurrency?: number };
  crossOriginIsolated?: boolean;
  fetch(url: string, init: { method: string; body: string }): Promise<unknown>;
};

/** Deterministic numbers in [-1, 1). */
function numbers(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 31 - 1;
  });
}

async function main(): Promise<WebThreadsReport> {
  if (g.location.search.includes("poll=1")) installWebThreads({ poll: true });
  const [m, k, n] = [256, 192, 160];
  const b = new IRBuilder();
  const x = b.input("x", [m, k]);
  const w1 = b.input("w1", [k, n]);
  const w2 = b.input("w2", [n, k]);
  const h = b.tanh(b.matmul(x, w1));
  const y = b.matmul(h, w2);
  const e = b.exp(b.sub(y, b.broadcastTo(b.max(y, 1, true), [m, k])));
  const soft = b.div(e, b.broadcastTo(b.sum(e, 1, true), [m, k]));
  const kg = planKernelGraph(b.graph({ y, soft, columns: b.sum(soft, 0), loss: b.sum(b.mul(h, h)) }));
  const feeds = { x: { shape: [m, k], data: numbers(m * k, 1) }, w1: { shape: [k, n], data: numbers(k * n, 2) }, w2: { shape: [n, k], data: numbers(n * k, 3) } };
  const bits = (out: Record<string, { data: ArrayLike<number> }>) => Object.values(out).map((v) => Array.from(new Int32Array(Float32Array.from(v.data).buffer)).join(",")).join(";");
  const want = bits(compileCpu(kg, { threads: 1 }).run(feeds, {}));
  const asked = [1, 2, 4, "default"] as const;
  const exes = asked.map((t) => compileCpu(kg, t === "default" ? {} : { threads: t }));
  let runs = 0;
  let differing = 0;
  // Workers start in the background: run until they have taken parts (each run's bits are checked either way).
  const deadline = performance.now() + 20_000;
  do {
    for (const exe of exes) {
      runs++;
      if (bits(exe.run(feeds, {})) !== want) differing++;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  } while (threadsAvailable() && workerParts() < 20 && performance.now() < deadline);
  return {
    crossOriginIsolated: g.crossOriginIsolated === true,
    threadsAvailable: threadsAvailable(),
    hardwareConcurrency: g.navigator.hardwareConcurrency ?? 0,
    threads: exes.map((e, i) => ({ asked: asked[i]!, got: e.threads })),
    runs,
    differing,
    splitCalls: exes.reduce((s, e) => s + (e.splitCalls ?? 0), 0),
    workerParts: workerParts(),
    waitAsync: typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function",
  };
}

void main()
  .catch((e: unknown) => ({ error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) }))
  .then((report) => g.fetch("/result", { method: "POST", body: JSON.stringify(report) }));
