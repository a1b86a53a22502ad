/**
 * A graph symbolic in the batch size (`BatchGraph`) made runnable at any
 * number of examples: at each size it is run at, it is instantiated, planned
 * (kernels and memory) and compiled against a home's tensors once, with input
 * arrays of its own that are refilled before every run. The few sizes a run
 * meets (a full batch, the last batch of a pass, an odd call) stay compiled;
 * beyond `KEEP` sizes, the least recently used is dropped.
 *
 * Invariant: the compiled graph at size B computes exactly what the compiler
 * would have lowered at batch size B (test/plan/batch-fit.test.ts), so a run
 * never pads a batch and never changes its statistics.
 */
import type { TensorFeed } from "../backends/backend.js";
import { instantiateBatchGraph, type BatchGraph } from "../ir/batch-graph.js";
import type { KernelGraph } from "../kernel/graph.js";
import { planKernelGraph } from "../kernel/plan.js";
import type { HomeGraph, HomeTensor, TensorHome } from "../api/home.js";
import { copyExamples, inputScratch, type Inputs, type InputScratch } from "../api/inputs.js";
import type { PlanInput } from "../api/plan.js";
import { checkGraph } from "../api/plan-check.js";
import { ReprError } from "../api/errors.js";

/** How many batch sizes stay compiled by default. */
const KEEP = 4;

/** The graph at one batch size, ready to run. */
export interface CompiledSize {
  readonly batch: number;
  readonly graph: KernelGraph;
  readonly exe: HomeGraph;
  /** The data inputs' arrays (`batch` examples each). */
  readonly inputs: readonly InputScratch[];
  /** Every feed by input name: the data inputs' arrays and whatever `feed` adds. */
  readonly feeds: Map<string, TensorFeed>;
}

/** What a sized graph reads and must produce. */
export interface SizedGraphSpec {
  /** Messages name it: `training step 'pretrain'`. */
  readonly where: string;
  readonly graph: BatchGraph;
  /** The data inputs a batch feeds. */
  readonly inputs: readonly PlanInput[];
  /** The other inputs the graph may read (`step`, `seed`, noise tables …). */
  readonly extraInputs: readonly string[];
  /** Outputs it must have. */
  readonly outputs: readonly string[];
}

/** A batch graph compiled per size against one set of tensors. */
export class SizedGraph {
  private readonly sizes = new Map<number, CompiledSize>();

  constructor(
    private readonly spec: SizedGraphSpec,
    private readonly home: TensorHome,
    /** The tensors its params are bound to, by name. */
    private readonly tensors: ReadonlyMap<string, HomeTensor>,
    /** Feeds shared by every size (the seed, noise tables, the counter's array): set on each new size. */
    private readonly shared: Map<string, TensorFeed>,
    /** How many sizes stay compiled. */
    private readonly keep: number = KEEP,
  ) {}

  /** The graph at `batch` examples, compiled on first use. */
  at(batch: number): CompiledSize {
    let c = this.sizes.get(batch);
    if (c !== undefined) {
      // Most recently used last.
      this.sizes.delete(batch);
      this.sizes.set(batch, c);
      return c;
    }
    c = this.compile(batch);
    this.sizes.set(batch, c);
    if (this.sizes.size > this.keep) {
      const oldest = this.sizes.keys().next().value!;
      this.sizes.get(oldest)!.exe.destroy();
      this.sizes.delete(oldest);
    }
    return c;
  }

  /** Releases every compiled size. */
  destroy(): void {
    for (const c of this.sizes.values()) c.exe.destroy();
    this.sizes.clear();
  }

  /** Sets a feed shared by every size, now and later. */
  share(name: string, feed: TensorFeed): void {
    for (const c of this.sizes.values()) this.checkFeed(c.graph, name, feed);
    this.shared.set(name, feed);
    for (const c of this.sizes.values()) c.feeds.set(name, feed);
  }

  /**
   * A shared feed (made from the plan: a noise table, the number of updates)
   * must have the shape and type of the graph's input of that name: a plan
   * whose graph disagrees was not made by a matching compiler.
   */
  private checkFeed(graph: KernelGraph, name: string, feed: TensorFeed): void {
    const input = graph.inputs.find((i) => i.name === name);
    if (input === undefined) return;
    const dtype = feed.data instanceof Int32Array ? "i32" : "f32";
    if (input.dtype !== dtype || input.shape.join() !== feed.shape.join()) {
      throw new ReprError(
        `${this.spec.where}: the plan feeds '${name}' as ${dtype}[${feed.shape.join(", ")}], but its graph has ${input.dtype}[${input.shape.join(", ")}]; compile the model again with this version of repr`,
      );
    }
  }

  private compile(batch: number): CompiledSize {
    const { where, inputs: declared } = this.spec;
    const graph = planKernelGraph(instantiateBatchGraph(this.spec.graph, batch), this.home.plan);
    checkGraph(where, graph, [...declared.map((i) => i.name), ...this.spec.extraInputs], this.spec.outputs, this.tensors);
    for (const [name, feed] of this.shared) this.checkFeed(graph, name, feed);
    const inputs = inputScratch(declared, batch);
    const feeds = new Map<string, TensorFeed>([...this.shared, ...inputs.map((s) => [s.name, s.feed] as const)]);
    const params = new Map(graph.params.map((p) => [p.name, this.tensors.get(p.name)!]));
    return { batch, graph, exe: this.home.compile(graph, params), inputs, feeds };
  }
}

/**
 * The feeds of `c` for examples `first .. first + c.batch − 1` of `data`: an
 * input given as an array of its own type is fed as a view of it (no copy on
 * the host: a GPU's queue takes the numbers from there); any other is copied
 * into the size's own array.
 */
export function feedsOf(c: CompiledSize, data: Inputs, first: number): Map<string, TensorFeed> {
  const feeds = new Map(c.feeds);
  for (const s of c.inputs) {
    const given = data[s.name]!;
    const n = s.feed.data.length;
    const begin = first * s.size;
    if ((s.feed.data instanceof Float32Array && given instanceof Float32Array) || (s.feed.data instanceof Int32Array && given instanceof Int32Array)) {
      feeds.set(s.name, { shape: s.feed.shape, data: given.subarray(begin, begin + n) });
    } else copyExamples(given, first, s.size, s.feed.data);
  }
  return feeds;
}
