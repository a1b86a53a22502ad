/**
 * One training step of a model, ready to run updates at any batch size: its
 * graph compiled per size (`SizedGraph`), its optimizer state (zero at the
 * start), its update counter, and the list of `new:` outputs an update
 * copies back.
 *
 * The graph reads the batch, the counter `step`, the seed `seed`, the
 * model's tensors and the optimizer state, and the feeds made from a run's
 * data (step-feeds.ts). `commit` copies every `new:<tensor>` output of the
 * last run back, except into tensors of the parts `frozen` names (so such a
 * part stays exactly as it was), and advances the counter.
 */
import type { TensorFeed } from "../backends/backend.js";
import { ReprError } from "../api/errors.js";
import type { FiniteCheck, HomeData, HomeTensor, TensorHome } from "../api/home.js";
import { gatherExamples, type Inputs } from "../api/inputs.js";
import type { PlanTensor, PlanTraining } from "../api/plan.js";
import { stepFeedNames, stepFeeds } from "../api/step-feeds.js";
import { batchGraphOutputs } from "../ir/batch-graph.js";
import type { ModelTensor } from "../api/weights.js";
import { feedsOf, SizedGraph, type CompiledSize } from "./sized-graph.js";

/** The graph inputs a training step reads besides its data: the update counter and the seed. */
export const STEP_INPUT = "step";
export const SEED_INPUT = "seed";
/** The prefix of a training graph's outputs that are a tensor's next value. */
export const NEW_PREFIX = "new:";

const LOSS = ["loss"] as const;

/** One `new:` output and where it goes. */
interface Write {
  readonly output: string;
  readonly tensor: HomeTensor;
  /** The part owning the tensor (for optimizer state, the part of the tensor it belongs to). */
  readonly part: string;
}

/** The part that owns tensor or optimizer state `name` (`f.0.weight.adam.m` goes with `f.0.weight`). */
export function ownerOf(name: string, owners: ReadonlyMap<string, string>): string {
  const own = owners.get(name);
  if (own !== undefined) return own;
  for (const [tensor, part] of owners) if (name.startsWith(`${tensor}.`)) return part;
  return name.split(".")[0]!;
}

/** A training step bound to a model's tensors on a home. */
export class TrainingRunner {
  /** Updates applied since the start (or the last `reset`): the graph's `step` input. */
  counter = 0;
  /** The optimizer state tensors, by name. */
  readonly state = new Map<string, HomeTensor>();
  private readonly graphs: SizedGraph;
  private readonly counterFeed = { shape: [] as number[], data: new Int32Array(1) };
  private readonly writes: readonly Write[];
  private readonly feedsGiven = new Set<string>();
  private last: CompiledSize | null = null;

  constructor(
    readonly step: PlanTraining,
    private readonly home: TensorHome,
    tensors: ReadonlyMap<string, HomeTensor>,
    planTensors: readonly PlanTensor[],
    seed: number,
  ) {
    const where = `training step '${step.name}'`;
    for (const s of step.state) this.state.set(s.name, home.create(s.shape, "f32"));
    const bound = new Map<string, HomeTensor>([...tensors, ...this.state]);
    const owners = new Map(planTensors.map((t) => [t.name, t.owner]));
    const writes: Write[] = [];
    for (const output of batchGraphOutputs(step.graph)) {
      if (!output.startsWith(NEW_PREFIX)) continue;
      const name = output.slice(NEW_PREFIX.length);
      const tensor = bound.get(name);
      if (tensor === undefined) throw new ReprError(`${where}: its graph updates '${name}', which is neither a tensor of the model nor optimizer state of the step`);
      writes.push({ output, tensor, part: ownerOf(name, owners) });
    }
    this.writes = writes;
    const shared = new Map<string, TensorFeed>([
      [STEP_INPUT, this.counterFeed],
      [SEED_INPUT, { shape: [], data: Int32Array.of(seed | 0) }],
    ]);
    this.graphs = new SizedGraph(
      { where, graph: step.graph, inputs: step.inputs, extraInputs: [STEP_INPUT, SEED_INPUT, ...stepFeedNames(step)], outputs: LOSS },
      home,
      bound,
      shared,
    );
  }

  /** Zeroes the optimizer state and the update counter. */
  reset(): void {
    for (const s of this.state.values()) this.home.zero(s);
    this.counter = 0;
  }

  /**
   * Feeds made from a run's data (step-feeds.ts: noise tables, the run's
   * number of updates); they replace those of the same names and stay until
   * replaced.
   */
  useFeeds(feeds: ReadonlyMap<string, TensorFeed>): void {
    for (const [name, feed] of feeds) {
      this.graphs.share(name, feed);
      this.feedsGiven.add(name);
    }
  }

  /** Makes the run feeds from `data` if no run has given them yet (a `trainStep` or `evaluate` before any `fit`). */
  ensureFeeds(data: Inputs): void {
    if (stepFeedNames(this.step).some((name) => !this.feedsGiven.has(name))) this.useFeeds(stepFeeds(this.step, data, Math.max(this.step.updates, 1)));
  }

  /** Runs the graph on the examples `indices` of `data` and resolves with the loss; nothing is applied until `commit`. */
  run(data: Inputs, indices: ArrayLike<number>): Promise<number> {
    const c = this.graphs.at(indices.length);
    for (const s of c.inputs) gatherExamples(data[s.name]!, indices, s.size, s.feed.data);
    return this.runCompiled(c);
  }

  /**
   * Runs the graph on the first `count` examples of `data` (fed as views of
   * the caller's arrays where their types match: no copy); nothing is applied
   * until `commit`. `finite`: the inputs the home checks on the device.
   */
  async runFirst(data: Inputs, count: number, finite?: FiniteCheck): Promise<number> {
    const c = this.graphs.at(count);
    this.counterFeed.data[0] = this.counter;
    this.last = c;
    return (await c.exe.run(feedsOf(c, data, 0), LOSS, finite))["loss"]![0]!;
  }

  /**
   * Queues an update on examples `order[begin .. end)` of a data set held on
   * the device, as the `counter`-th update: its batch gathered there, its
   * writes (but to the tensors of `frozen` parts) committed there unless its
   * loss or an earlier one of the window is not finite. The counter does not
   * advance until `advance`.
   */
  async enqueue(data: HomeData, begin: number, end: number, counter: number, frozen: ReadonlySet<string>): Promise<void> {
    const c = this.graphs.at(end - begin);
    this.counterFeed.data[0] = counter;
    this.last = null;
    const writes = frozen.size === 0 ? this.writes : this.writes.filter((w) => !frozen.has(w.part));
    await data.enqueue({ graph: c.exe, feeds: c.feeds, inputs: c.inputs.map((s) => s.name), loss: "loss", writes }, begin, end);
  }

  /** Counts `updates` updates applied on the device (`enqueue`). */
  advance(updates: number): void {
    this.counter += updates;
  }

  /** Applies the last run's update, except to the tensors of `frozen` parts, and advances the counter. */
  commit(frozen: ReadonlySet<string> = new Set()): void {
    if (this.last === null) throw new Error("internal error: commit without a run");
    this.last.exe.commit(frozen.size === 0 ? this.writes : this.writes.filter((w) => !frozen.has(w.part)));
    this.counter++;
  }

  /** A copy of the optimizer state, by name (for a resume checkpoint). */
  async readState(): Promise<Map<string, ModelTensor>> {
    const out = new Map<string, ModelTensor>();
    for (const [name, t] of this.state) out.set(name, { shape: [...t.shape], data: await this.home.read(t) });
    return out;
  }

  /** Sets the optimizer state from a resume checkpoint: every state tensor must be there with its shape. */
  writeState(values: ReadonlyMap<string, ModelTensor>): void {
    for (const [name, t] of this.state) {
      const v = values.get(name);
      if (v === undefined || v.shape.join() !== t.shape.join()) {
        throw new ReprError(`training step '${this.step.name}': the optimizer state '${name}' is ${v === undefined ? "missing" : `[${v.shape.join(", ")}], not [${t.shape.join(", ")}]`}`);
      }
      this.home.write(t, v.data);
    }
  }

  /** Releases the compiled graphs and the optimizer state. */
  destroy(): void {
    this.graphs.destroy();
    for (const t of this.state.values()) this.home.free(t);
    this.state.clear();
  }

  private async runCompiled(c: CompiledSize): Promise<number> {
    this.counterFeed.data[0] = this.counter;
    this.last = c;
    return (await c.exe.run(c.feeds, LOSS))["loss"]![0]!;
  }
}
