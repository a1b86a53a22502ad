// What making a graph symbolic in the batch size costs (compiler/plan/batch-fit.ts), on the
// training steps of the example models' pipelines and their own objectives.
//
// For each step: its IR nodes; one direct lowering at the pipeline's batch (the anchor:
// what `repr compile` pays today per graph); `fitBatchGraph` (four lowerings, the
// structural comparison and the exact fit); one `instantiateBatchGraph` at that batch
// (what the runtime pays once per new batch size); and the batch graph's JSON size
// against the kernel graph's. Rounds alternate, so a busy machine slows all alike; each
// time is the median. Prints JSON. Run from the repository root:
//   npx tsx bench/batch-fit.ts [--rounds 5] [--models masked-autoencoder,tiny-gpt]
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Source } from "../language/source.js";
import { checkProgram } from "../compiler/check/check.js";
import { nodeFileHost } from "../compiler/check/file-host.js";
import { lowerModel, lowerTrainStep, stepLowering } from "../compiler/lower/index.js";
import { fitBatchGraph } from "../compiler/plan/batch-fit.js";
import { batchGraphToJson, instantiateBatchGraph } from "../runtime/ir/batch-graph.js";
import { graphNodes, type Graph } from "../runtime/ir/node.js";
import { kernelGraphToJson } from "../runtime/kernel/graph.js";
import { planKernelGraph } from "../runtime/kernel/plan.js";

/** A training step of the bench: an example's pipeline step (its first pretrain). */
const CASES = [
  { name: "masked-autoencoder", file: "examples/masked-autoencoder.repr", pipeline: "LinearProbe" },
  { name: "tiny-gpt", file: "examples/tiny-gpt.repr", pipeline: "Train" },
  { name: "contrastive", file: "examples/contrastive.repr", pipeline: "LinearProbe" },
  { name: "autoencoder", file: "examples/mnist-autoencoder.repr", pipeline: "Train" },
];

const args = process.argv.slice(2);
const option = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(option("--rounds") ?? 5);
const only = option("--models")?.split(",");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time<T>(f: () => T): [T, number] {
  const t = performance.now();
  const out = f();
  return [out, performance.now() - t];
}

const steps = CASES.filter((c) => !only || only.includes(c.name)).map((c) => {
  const { program } = checkProgram(new Source(c.file, readFileSync(c.file, "utf8")), nodeFileHost);
  const index = program.pipelines.find((p) => p.name === c.pipeline)!.steps.findIndex((s) => s.kind === "pretrain");
  const l = stepLowering(program, c.pipeline, index);
  const lowerAt = (batch: number): Graph =>
    lowerTrainStep(lowerModel(program, l.model, { ...l.options, batch, prediction: false }), l.settings, l.options.frozen, l.settings?.steps ?? "input").graph;
  return { ...c, batch: l.options.batch, lowerAt, times: { lower: [] as number[], fit: [] as number[], instantiate: [] as number[] } };
});

for (let r = 0; r < rounds; r++) {
  for (const s of steps) {
    const [, lower] = time(() => s.lowerAt(s.batch));
    const [fitted, fit] = time(() => fitBatchGraph(s.lowerAt, s.name));
    const [, instantiate] = time(() => instantiateBatchGraph(fitted, s.batch));
    s.times.lower.push(lower);
    s.times.fit.push(fit);
    s.times.instantiate.push(instantiate);
  }
}

const results = steps.map((s) => {
  const direct = s.lowerAt(s.batch);
  const fitted = fitBatchGraph(s.lowerAt, s.name);
  const [lower, fit, instantiate] = [median(s.times.lower), median(s.times.fit), median(s.times.instantiate)];
  return {
    model: s.name,
    step: `${s.pipeline} pretrain`,
    batch: s.batch,
    nodes: graphNodes(direct).length,
    lowerMs: Number(lower.toFixed(1)),
    fitMs: Number(fit.toFixed(1)),
    fitOverLower: Number((fit / lower).toFixed(2)),
    instantiateMs: Number(instantiate.toFixed(2)),
    instantiateOverLower: Number((instantiate / lower).toFixed(3)),
    batchGraphJsonBytes: batchGraphToJson(fitted).length,
    kernelGraphJsonBytes: kernelGraphToJson(planKernelGraph(direct)).length,
  };
});
console.log(JSON.stringify({ rounds, results }, null, 2));
