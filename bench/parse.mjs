// Parser, formatter and checker throughput on a generated 5,000-line program. Prints JSON.
// Run after `npm run build`: `npm run bench:parse`.
import { performance } from "node:perf_hooks";
import { Source } from "../dist/language/source.js";
import { parse } from "../dist/language/parser.js";
import { format } from "../dist/language/format.js";
import { checkProgram } from "../dist/compiler/check/check.js";
import { nodeFileHost } from "../dist/compiler/check/file-host.js";

function program(models) {
  const parts = [];
  for (let i = 0; i < models; i++) {
    parts.push(
      `/// Autoencoder number ${i}.`,
      `model AE${i} {`,
      `  input image: f32[1, 28, 28]`,
      `  encoder f = flatten -> dense(256) -> relu -> dense(64) -> relu`,
      `  bottleneck z = variational(dim: 16, beta: 0.5)`,
      `  decoder g = dense(64) -> relu -> dense(256) -> relu -> dense(784) -> sigmoid`,
      `  let recon = image -> f -> z -> g -> reshape([1, 28, 28])`,
      `  loss reconstruction = mse(recon, image)`,
      `}`,
      ``,
    );
  }
  return parts.join("\n");
}

function time(fn, repeats) {
  const samples = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { median_ms: samples[repeats >> 1], min_ms: samples[0] };
}

const text = program(500);
const source = new Source("bench.repr", text);
const lines = text.split("\n").length;
parse(source); // warm up the parser's one-time self-analysis
const parseTime = time(() => parse(source), 9);
const formatTime = time(() => format(source), 5);
const checkTime = time(() => checkProgram(source, nodeFileHost), 5);
console.log(
  JSON.stringify(
    {
      benchmark: "parse",
      lines,
      parse: { ...parseTime, lines_per_s: Math.round(lines / (parseTime.median_ms / 1000)) },
      format: formatTime,
      check: checkTime,
      node: process.version,
      date: new Date().toISOString(),
    },
    null,
    2,
  ),
);
