/**
 * Helpers for the end-to-end training tests: temporary folders, reading a
 * run's outputs back (safetensors, metrics.json, PNG), and starting the CLI
 * as a child process that a test can interrupt.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll } from "vitest";
import { decodeSafetensors, type Tensor } from "../../runtime/checkpoint/index.js";
import { repoRoot } from "../cli/run-cli.js";

/**
 * A small autoencoder on the embedded digits and a pipeline `Train` over it:
 * the training tests' program. `encoder` and `decoder` are layer chains;
 * `steps` are the pipeline's steps, one per line.
 */
export function digitsProgram(o: { model: string; encoder: string; decoder: string; steps: readonly string[] }): string {
  return `model ${o.model} {
  input image: f32[1, 28, 28]
  encoder f = ${o.encoder}
  decoder g = ${o.decoder}
  loss reconstruction = mse(g(f(image)), image)
  output g(f(image))
}

data digits {
  image: f32[1, 28, 28]
  label: label(classes: 10)
}

pipeline Train {
${o.steps.map((s) => `  ${s}`).join("\n")}
}
`;
}

/** A temporary folder removed after the file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `repr-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A checkpoint's tensors. */
export function readTensors(path: string): Map<string, Tensor> {
  return decodeSafetensors(new Uint8Array(readFileSync(path)), path).tensors;
}

/** The metrics.json of a run. */
export interface Metrics {
  readonly steps: readonly { step: number; kind: string; losses?: Record<string, number>; metrics?: Record<string, number>; updates?: number; checkpoint?: string; examples?: number }[];
  readonly losses: readonly { step: number; name: string; first_update: number; values: number[] }[];
}

export function readMetrics(dir: string): Metrics {
  return JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8")) as Metrics;
}

/** A decoded PNG's size. */
export function pngSize(path: string): { width: number; height: number } {
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height };
}

/** The mean of the first and of the last `k` values. */
export function ends(values: readonly number[], k: number): { first: number; last: number } {
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { first: mean(values.slice(0, k)), last: mean(values.slice(-k)) };
}

/** The CLI as a child process, with its output collected as it comes. */
export interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (or 128 + signal number when killed). */
  readonly exited: Promise<number>;
  /** Resolves once stderr contains `text`; rejects if the process exits first. */
  waitFor(text: string | RegExp): Promise<void>;
  /** Resolves once the run waits at pause point `point`. */
  paused(point: string): Promise<void>;
}

/**
 * Starts the CLI. `pauseAt` lists pause points (cli/train/test-pause.ts) where
 * the run waits for a signal, so a test can deliver one at an exact boundary.
 */
export function startCli(args: readonly string[], pauseAt: readonly string[] = []): Running {
  const env = { ...process.env, REPR_TEST_PAUSE: pauseAt.join(",") };
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "cli", "main.ts"), ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
  const running: Running = {
    child,
    stdout: "",
    stderr: "",
    exited: new Promise((resolve) => {
      child.on("exit", (code, signal) => resolve(code ?? (signal === "SIGKILL" ? 137 : signal === "SIGINT" ? 130 : 143)));
    }),
    waitFor(text) {
      const test = (s: string) => (typeof text === "string" ? s.includes(text) : text.test(s));
      if (test(running.stderr)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        void running.exited.then((code) => reject(new Error(`the CLI exited (${code}) before printing ${String(text)}:\n${running.stderr}`)));
      });
    },
    paused(point) {
      return running.waitFor(`test pause: ${point}\n`);
    },
  };
  child.stdout!.on("data", (d: Buffer) => (running.stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => {
    running.stderr += d.toString();
    for (const w of waiters.splice(0)) if (w.test(running.stderr)) w.resolve(); else waiters.push(w);
  });
  return running;
}
