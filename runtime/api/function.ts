/**
 * One function of a model, ready to run any number of examples: its graph at
 * the plan's batch size for full batches and its single-example graph for
 * the rest, each compiled on first use, each with input arrays of its own
 * that are refilled on every run. A call allocates only its result.
 */
import type { TensorFeed } from "../backends/backend.js";
import type { KernelGraph } from "../kernel/graph.js";
import type { HomeGraph, HomeTensor, TensorHome } from "./home.js";
import { checkInputs, copyExamples, exampleSize, inputScratch, type InputScratch, type Inputs } from "./inputs.js";
import type { PlanFunction } from "./plan.js";
import { checkGraph } from "./plan-check.js";

const OUTPUT = ["output"] as const;

/** A compiled graph of a function and the feeds it runs from. */
interface Compiled {
  readonly exe: HomeGraph;
  readonly inputs: readonly InputScratch[];
  readonly feeds: ReadonlyMap<string, TensorFeed>;
}

/** A function of a model, compiled lazily. */
export class FunctionRunner {
  private batched: Compiled | undefined;
  private single: Compiled | undefined;
  private readonly outputSize: number;

  constructor(
    readonly fn: PlanFunction,
    private readonly home: TensorHome,
    private readonly params: ReadonlyMap<string, HomeTensor>,
  ) {
    this.outputSize = exampleSize(fn.output);
  }

  /** Runs the function on `count` examples (inferred when not given) and returns a new array of its outputs. */
  async call(inputs: Inputs, count: number | undefined): Promise<Float32Array | Int32Array> {
    const fn = this.fn;
    const n = checkInputs(`function '${fn.name}'`, fn.inputs, inputs, count);
    const result = fn.output.dtype === "i32" ? new Int32Array(n * this.outputSize) : new Float32Array(n * this.outputSize);
    const full = Math.floor(n / fn.batch);
    let at = 0;
    if (full > 0) {
      const c = (this.batched ??= this.compile(fn.graph, fn.batch));
      for (let b = 0; b < full; b++, at += fn.batch) await this.runInto(c, inputs, at, result);
    }
    if (at < n) {
      const c = (this.single ??= this.compile(fn.single, 1));
      for (; at < n; at++) await this.runInto(c, inputs, at, result);
    }
    return result;
  }

  /** Runs one graph on the examples from `first` and copies its output into `result`. */
  private async runInto(c: Compiled, inputs: Inputs, first: number, result: Float32Array | Int32Array): Promise<void> {
    for (let i = 0; i < c.inputs.length; i++) {
      const s = c.inputs[i]!;
      copyExamples(inputs[s.name]!, first, s.size, s.feed.data);
    }
    const out = (await c.exe.run(c.feeds, OUTPUT))["output"]!;
    result.set(out, first * this.outputSize);
  }

  private compile(graph: KernelGraph, examples: number): Compiled {
    checkGraph(`function '${this.fn.name}'`, graph, this.fn.inputs.map((i) => i.name), OUTPUT, this.params);
    const inputs = inputScratch(this.fn.inputs, examples);
    const params = new Map(graph.params.map((p) => [p.name, this.params.get(p.name)!]));
    return { exe: this.home.compile(graph, params), inputs, feeds: new Map(inputs.map((s) => [s.name, s.feed])) };
  }
}
