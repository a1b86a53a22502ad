/**
 * One training step of a model, ready to run updates: its graph compiled on
 * first use, its optimizer state (zero at the start) and update counter, the
 * batch arrays it is fed from, and the list of `new:` outputs it copies back.
 *
 * The graph reads the batch, the counter `step`, the seed `seed`, the
 * model's tensors and the optimizer state; an update copies every
 * `new:<tensor>` output back unless that tensor belongs to a part the model
 * has frozen (`Model.freeze`), so such a part stays exactly as it was.
 */
import type { TensorFeed } from "../backends/backend.js";
import { ReprError } from "./errors.js";
import type { HomeGraph, HomeTensor, TensorHome } from "./home.js";
import { gatherExamples, copyExamples, inputScratch, type InputScratch, type Inputs } from "./inputs.js";
import type { PlanTensor, PlanTraining } from "./plan.js";
import { checkGraph } from "./plan-check.js";
import { stepFeedNames, stepFeeds } from "./step-feeds.js";

/** The graph inputs a training step reads besides its data: the update counter and the seed. */
const STEP_INPUT = "step";
const SEED_INPUT = "seed";
/** The prefix of a training graph's outputs that are a tensor's next value. */
const NEW_PREFIX = "new:";

const LOSS = ["loss"] as const;

/** One `new:` output and where it goes. */
interface Write {
  readonly output: string;
  readonly tensor: HomeTensor;
  /** The part owning the tensor (or, for optimizer state, the tensor it belongs to). */
  readonly part: string;
}

interface Compiled {
  readonly exe: HomeGraph;
  readonly inputs: readonly InputScratch[];
  readonly feeds: Map<string, TensorFeed>;
  readonly stepFeed: { readonly shape: readonly number[]; readonly data: Int32Array };
  readonly writes: readonly Write[];
}

/** A training step of a model, compiled lazily. */
export class StepRunner {
  /** Updates this step has applied since the model was made, loaded or its head replaced: the graph's `step` input. */
  counter = 0;
  private compiled: Compiled | undefined;
  private readonly state = new Map<string, HomeTensor>();

  constructor(
    readonly step: PlanTraining,
    private readonly home: TensorHome,
    private readonly tensors: ReadonlyMap<string, HomeTensor>,
    private readonly planTensors: readonly PlanTensor[],
    private readonly seed: number,
  ) {
    for (const s of step.state) this.state.set(s.name, home.create(s.shape, "f32"));
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
    const c = this.get();
    for (const [name, feed] of feeds) c.feeds.set(name, feed);
  }

  /** Makes the run feeds from `data` if no run has given them yet (a `trainStep` or `evaluate` before any `fit`). */
  ensureFeeds(data: Inputs): void {
    const c = this.get();
    if (stepFeedNames(this.step).some((name) => !c.feeds.has(name))) this.useFeeds(stepFeeds(this.step, data, Math.max(this.step.updates, 1)));
  }

  /** Copies the first `batch` examples of `inputs` into the batch arrays. */
  fill(inputs: Inputs): void {
    for (const s of this.get().inputs) copyExamples(inputs[s.name]!, 0, s.size, s.feed.data);
  }

  /** Copies the examples `indices` of `inputs` into the batch arrays. */
  gather(inputs: Inputs, indices: ArrayLike<number>): void {
    for (const s of this.get().inputs) gatherExamples(inputs[s.name]!, indices, s.size, s.feed.data);
  }

  /**
   * Runs the graph on the batch arrays and returns the loss. With `apply`, a
   * finite loss's update is copied back (except for tensors of the parts
   * `frozen` holds) and the counter advances; a non-finite loss is a
   * `ReprError` and changes nothing.
   */
  async run(apply: boolean, frozen: ReadonlySet<string>): Promise<number> {
    const c = this.get();
    c.stepFeed.data[0] = this.counter;
    const loss = (await c.exe.run(c.feeds, LOSS))["loss"]![0]!;
    if (!apply) return loss;
    if (!Number.isFinite(loss)) {
      throw new ReprError(
        `training step '${this.step.name}': the loss is ${loss} at update ${this.counter + 1}; the update was not applied, ` +
          `so the weights are as they were before it (a smaller learning rate or \`clip\` may help)`,
      );
    }
    c.exe.commit(frozen.size === 0 ? c.writes : c.writes.filter((w) => !frozen.has(w.part)));
    this.counter++;
    return loss;
  }

  private get(): Compiled {
    return (this.compiled ??= this.compile());
  }

  private compile(): Compiled {
    const step = this.step;
    const where = `training step '${step.name}'`;
    const params = new Map<string, HomeTensor>([...this.tensors, ...this.state]);
    checkGraph(where, step.graph, [...step.inputs.map((i) => i.name), STEP_INPUT, SEED_INPUT, ...stepFeedNames(step)], LOSS, params);
    const inputs = inputScratch(step.inputs, step.batch);
    const feeds = new Map<string, TensorFeed>(inputs.map((s) => [s.name, s.feed]));
    const stepFeed = { shape: [] as number[], data: new Int32Array(1) };
    feeds.set(STEP_INPUT, stepFeed);
    feeds.set(SEED_INPUT, { shape: [], data: Int32Array.of(this.seed | 0) });
    const owners = new Map(this.planTensors.map((t) => [t.name, t.owner]));
    const writes: Write[] = [];
    for (const o of step.graph.outputs) {
      if (!o.name.startsWith(NEW_PREFIX)) continue;
      const name = o.name.slice(NEW_PREFIX.length);
      const target = params.get(name);
      if (target === undefined) throw new ReprError(`${where}: its graph updates '${name}', which is neither a tensor of the model nor optimizer state of the step`);
      // Optimizer state is named after its tensor (`f.0.weight.adam.m`), so it goes with that tensor's part.
      const owner = owners.get(name) ?? [...owners].find(([t]) => name.startsWith(`${t}.`))?.[1] ?? name.split(".")[0]!;
      writes.push({ output: o.name, tensor: target, part: owner });
    }
    const bound = new Map(step.graph.params.map((p) => [p.name, params.get(p.name)!]));
    return { exe: this.home.compile(step.graph, bound), inputs, feeds, stepFeed, writes };
  }
}
