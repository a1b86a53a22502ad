/**
 * One function of a model, ready to run any number of examples. Its graph is
 * symbolic in the batch size; a call of n examples runs chunks of
 * `CHUNK` examples, then the rest as chunks of decreasing powers of two
 * (n = 1000 runs 512, 256, 128, 64, 32, 8), so whatever counts an app
 * passes, the graph is compiled at no more than a dozen sizes, each once.
 * Functions are inference, batch-wise independent, so how the examples are
 * grouped does not change a result. A call allocates only its result.
 */
import type { FiniteCheck, HomeTensor, TensorHome } from "./home.js";
import { checkInputs, exampleSize, nonFiniteCheck, type Inputs } from "./inputs.js";
import type { PlanFunction } from "./plan.js";
import { feedsOf, SizedGraph, type CompiledSize } from "../train/sized-graph.js";

const OUTPUT = ["output"] as const;

/** The most examples one run of a function takes. */
export const CHUNK = 1024;

/** The sizes of the runs a call of `n` examples makes, in order. */
export function chunkSizes(n: number): number[] {
  const sizes: number[] = [];
  let rest = n;
  while (rest >= CHUNK) {
    sizes.push(CHUNK);
    rest -= CHUNK;
  }
  for (let size = CHUNK >> 1; size >= 1; size >>= 1) {
    if (rest >= size) {
      sizes.push(size);
      rest -= size;
    }
  }
  return sizes;
}

/** A function of a model, compiled lazily at the sizes its calls need. */
export class FunctionRunner {
  private readonly graphs: SizedGraph;
  private readonly outputSize: number;
  /** Whether the home checks inputs for finiteness on the device (then the host does not). */
  private readonly onDevice: boolean;

  constructor(
    readonly fn: PlanFunction,
    home: TensorHome,
    params: ReadonlyMap<string, HomeTensor>,
  ) {
    this.outputSize = exampleSize(fn.output);
    this.onDevice = home.checksFinite;
    this.graphs = new SizedGraph({ where: `function '${fn.name}'`, graph: fn.graph, inputs: fn.inputs, extraInputs: [], outputs: OUTPUT }, home, params, new Map(), Math.log2(CHUNK) + 1);
  }

  /** Runs the function on `count` examples (inferred when not given) and returns a new array of its outputs. */
  async call(inputs: Inputs, count: number | undefined): Promise<Float32Array | Int32Array> {
    const fn = this.fn;
    const where = `function '${fn.name}'`;
    const n = checkInputs(where, fn.inputs, inputs, count, { finite: !this.onDevice });
    const result = fn.output.dtype === "i32" ? new Int32Array(n * this.outputSize) : new Float32Array(n * this.outputSize);
    let at = 0;
    const sizes = new Map(fn.inputs.map((d) => [d.name, exampleSize(d)]));
    for (const size of chunkSizes(n)) {
      const first = at;
      const finite = this.onDevice ? nonFiniteCheck(where, fn.inputs, inputs, (name) => first * sizes.get(name)!) : undefined;
      await this.runInto(this.graphs.at(size), inputs, at, result, finite);
      at += size;
    }
    return result;
  }

  /** Releases the compiled graphs. */
  destroy(): void {
    this.graphs.destroy();
  }

  /** Runs one size's graph on the examples from `first` (views of the caller's arrays where their types match) and copies its output into `result`. */
  private async runInto(c: CompiledSize, inputs: Inputs, first: number, result: Float32Array | Int32Array, finite: FiniteCheck | undefined): Promise<void> {
    const out = (await c.exe.run(feedsOf(c, inputs, first), OUTPUT, finite))["output"]!;
    result.set(out, first * this.outputSize);
  }
}
