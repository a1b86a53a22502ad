/**
 * One function of a model, ready to run any number of examples: its graph at
 * the plan's batch size for full batches and its single-example graph for
 * the rest, each compiled on first use, each with input arrays of its own
 * that are refilled on every run. A call allocates only its result.
 */
import type { Backend, Executable, TensorFeed } from "../backends/backend.js";
import type { KernelGraph } from "../kernel/graph.js";
import { checkInputs, copyExamples, exampleSize, inputScratch, type InputScratch, type Inputs } from "./inputs.js";
import type { PlanFunction } from "./plan.js";
import { checkGraph } from "./plan-check.js";
import type { ModelTensor } from "./weights.js";

/** A compiled graph of a function and the feeds it runs from. */
interface Compiled {
  readonly exe: Executable;
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
    private readonly backend: Backend,
  ) {
    this.outputSize = exampleSize(fn.output);
  }

  /** Runs the function on `count` examples (inferred when not given) and returns a new array of its outputs. */
  call(inputs: Inputs, count: number | undefined, params: ReadonlyMap<string, ModelTensor>): Float32Array | Int32Array {
    const fn = this.fn;
    const n = checkInputs(`function '${fn.name}'`, fn.inputs, inputs, count);
    const result = fn.output.dtype === "i32" ? new Int32Array(n * this.outputSize) : new Float32Array(n * this.outputSize);
    const full = Math.floor(n / fn.batch);
    let at = 0;
    if (full > 0) {
      const c = (this.batched ??= this.compile(fn.graph, fn.batch, params));
      for (let b = 0; b < full; b++, at += fn.batch) this.runInto(c, inputs, at, params, result);
    }
    if (at < n) {
      const c = (this.single ??= this.compile(fn.single, 1, params));
      for (; at < n; at++) this.runInto(c, inputs, at, params, result);
    }
    return result;
  }

  /** Runs one graph on the examples from `first` and copies its output into `result`. */
  private runInto(c: Compiled, inputs: Inputs, first: number, params: ReadonlyMap<string, ModelTensor>, result: Float32Array | Int32Array): void {
    for (let i = 0; i < c.inputs.length; i++) {
      const s = c.inputs[i]!;
      copyExamples(inputs[s.name]!, first, s.size, s.feed.data);
    }
    const out = c.exe.run(c.feeds, params)["output"]!;
    result.set(out.data, first * this.outputSize);
  }

  private compile(graph: KernelGraph, examples: number, params: ReadonlyMap<string, ModelTensor>): Compiled {
    checkGraph(`function '${this.fn.name}'`, graph, this.fn.inputs.map((i) => i.name), ["output"], params);
    const inputs = inputScratch(this.fn.inputs, examples);
    return { exe: this.backend.compile(graph), inputs, feeds: new Map(inputs.map((s) => [s.name, s.feed])) };
  }
}
