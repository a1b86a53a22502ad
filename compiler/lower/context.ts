/**
 * The state one lowering shares: the IR builder, the tensors declared so far,
 * the running statistics a training step updates, the terms bottlenecks add to
 * the objective, and the random streams drawn from.
 *
 * Values carry the batch axis first: a checker type `f32[1, 28, 28]` is the IR
 * type `f32[B, 1, 28, 28]`.
 */
import { IRBuilder, type RandomKey } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { streamCollisions, streamId, type RngPurpose } from "../../runtime/rng/index.js";
import type { BlockNode, LayerNode, NodeId } from "../check/program.js";
import type { ParamInfo } from "./init.js";
import type { Task } from "./task.js";
import type { TeacherCtx } from "./teacher.js";

/** Training mode (dropout, batch statistics, noise) or inference mode. */
export type Mode = "train" | "eval";

/** A model that cannot be lowered as asked (an unknown loss, a bad option, a construct not supported). */
export class LowerError extends Error {
  override readonly name = "LowerError";
}

/** A lowered value: its IR node (batch axis first) and where its rows came from. */
export interface Val {
  readonly x: Node;
  /**
   * For a sequence whose rows are a subset of a longer one (the visible patches
   * of a `random_patches` mask): i32 [B, rows], each row's original position.
   */
  readonly pos: Node | null;
}

/** A value with no position information. */
export function val(x: Node): Val {
  return { x, pos: null };
}

/**
 * The i32 scalar inputs every random draw reads: the step's seed and the
 * update counter (spec/random.md). `step` is also the input the optimizer's
 * schedules read (compiler/optim/), so one training-step graph has one counter.
 */
export const SEED_INPUT = "seed";
export const STEP_INPUT = "step";

/** One term a bottleneck adds to the objective (KL, L1), with the application it belongs to. */
export interface Term {
  readonly name: string;
  readonly node: Node;
}

/** A position-wise objective of a loss: what it compares, its `on` weights and its value. */
export interface LoweredObjective {
  readonly loss: string;
  /** `mse`, `bce`, `cross_entropy` or `kl`. */
  readonly name: string;
  readonly pred: Node;
  readonly target: Node;
  readonly on: Node | null;
  /** The objective's scalar value. */
  readonly value: Node;
}

/** What the whole lowering shares. */
export class Session {
  readonly b = new IRBuilder();
  private readonly declared = new Map<string, ParamInfo>();
  private readonly current = new Map<string, Node>();
  private readonly streams = new Set<string>();
  private seedNode: Node | null = null;
  private stepNode: Node | null = null;
  /** Terms bottlenecks add to the objective, in the order they were lowered. */
  readonly terms: Term[] = [];
  /** True while lowering the objective: state updates and bottleneck terms are recorded only then. */
  recording = false;
  /** Every position-wise objective of the losses, in lowering order (see `LowerOptions.pictures`). */
  readonly objectives: LoweredObjective[] = [];

  constructor(
    readonly batch: number,
    private readonly seed: number | null,
  ) {}

  /** Declares a tensor (or finds it again) and returns its `param` node; a conflicting declaration is a bug. */
  param(info: ParamInfo): Node {
    const known = this.declared.get(info.name);
    if (known && (known.shape.join() !== info.shape.join() || known.dtype !== info.dtype)) {
      throw new LowerError(`internal: parameter '${info.name}' declared as [${known.shape}] and as [${info.shape}]`);
    }
    if (!known) this.declared.set(info.name, info);
    return this.b.param(info.name, info.shape, info.dtype);
  }

  /** Every tensor the lowering declared, in declaration order. */
  params(): ParamInfo[] {
    return [...this.declared.values()];
  }

  /** The latest value of a state tensor in this step: its param, or its last recorded update. */
  state(info: ParamInfo): Node {
    return this.current.get(info.name) ?? this.param(info);
  }

  /** Records a state tensor's new value (only while lowering the objective). */
  update(name: string, value: Node): void {
    if (this.recording) this.current.set(name, this.b.detach(value));
  }

  /** The state tensors this step changes, with their new values. */
  updates(): Map<string, Node> {
    return new Map(this.current);
  }

  /** Records a term of the objective (only while lowering the objective). */
  term(name: string, node: Node): void {
    // Applications that compute the same value (a part applied twice to one value) share one term.
    if (!this.recording || this.terms.some((t) => t.node === node)) return;
    const count = this.terms.filter((t) => t.name === name || t.name.startsWith(`${name}@`)).length;
    this.terms.push({ name: count === 0 ? name : `${name}@${count + 1}`, node });
  }

  /** The key of a draw from the stream `purpose/name` (spec/random.md, "Streams"). */
  key(purpose: RngPurpose, name: string): RandomKey {
    const full = `${purpose}/${name}`;
    this.streams.add(full);
    return { seed: this.seedValue(), step: this.stepValue(), stream: streamId(full) };
  }

  /** Every stream name drawn from, for the collision check. */
  streamNames(): string[] {
    return [...this.streams];
  }

  /** Throws when two stream names hash to one number (they would draw the same numbers). */
  checkStreams(): void {
    const clash = streamCollisions(this.streams);
    if (clash.length > 0) throw new LowerError(`random streams '${clash[0]![0]}' and '${clash[0]![1]}' have the same number`);
  }

  private seedValue(): Node {
    // A seed above 2^31 − 1 is held as the i32 with the same 32 bits; backends read it as u32.
    this.seedNode ??= this.seed === null ? this.counter(SEED_INPUT) : this.b.constant(this.seed | 0, [], "i32");
    return this.seedNode;
  }

  private stepValue(): Node {
    this.stepNode ??= this.counter(STEP_INPUT);
    return this.stepNode;
  }

  private counter(name: string): Node {
    if (this.b.leaf(name)) throw reservedInput(name);
    return this.b.input(name, [], "i32");
  }

  /** A model input's node; `seed` and `step` cannot be model inputs of a model that draws random numbers. */
  dataInput(name: string, shape: readonly number[], dtype: "f32" | "i32"): Node {
    if ((name === SEED_INPUT && this.seedNode) || (name === STEP_INPUT && this.stepNode)) throw reservedInput(name);
    return this.b.input(name, shape, dtype);
  }
}

function reservedInput(name: string): LowerError {
  return new LowerError(`the model input '${name}' has the name of the random generator's '${name}' input; rename the input`);
}

/** Masks and views as lowered in one world, and where masks are off. */
export type World = "masked" | "plain";

/** A `random_patches`, `tokens`, ... mask, lowered. */
export interface LoweredMask {
  readonly strategy: string;
  readonly input: Val;
  readonly target: Val;
  /** f32 0/1 with the target's positions: 1 where hidden. */
  readonly masked: Node;
  /**
   * For `random_patches` with `encoder_sees: visible` and the mask on: the
   * inverse permutation i32 [B, N] that puts [visible rows, hidden rows] back
   * in position order (`unmask` gathers with it). Null with the mask off.
   */
  readonly restore: Node | null;
}

/** What layers may ask of the model they are lowered in. */
export interface ModelScope {
  /** A mask of the model, lowered in `world`. */
  mask(id: NodeId, world: World): LoweredMask;
  /** The layer a part computes (its replacement, if the step replaced it) and the mode it runs in. */
  part(name: string): { readonly layer: LayerNode; readonly mode: Mode };
  /** The mode a layer runs in: a frozen layer's inside its part (spec/paths.md), else `ctx.mode`. */
  layerMode(ctx: LayerCtx): Mode;
  /** Lowers a block applied to `x` (its body is a graph of its own), as a task (task.ts). */
  block(ctx: LayerCtx, node: BlockNode, x: Val): Task<Val>;
}

/** Resolves values of the graph a layer is applied in (attention's context, a block's further inputs). */
export interface ValueScope {
  value(id: NodeId): Val;
}

/** Where a layer is lowered: its owner, its path (for parameter and stream names) and its mode. */
export interface LayerCtx {
  readonly s: Session;
  /** The part (or mask) whose tensors these are; null outside parts. */
  readonly owner: string | null;
  /** Path segments below the owner (spec/checkpoints.md, "Parameter names"). */
  readonly path: readonly string[];
  readonly mode: Mode;
  /** Tells applications of one part apart in stream names: "" for the first, "@2", ... */
  readonly tag: string;
  readonly world: World;
  readonly scope: ValueScope;
  readonly model: ModelScope;
  /** Set inside a momentum teacher: its tensors are the teacher's copies (teacher.ts). */
  readonly teacher?: TeacherCtx;
  /** Where the application being lowered records its inner values (spec/paths.md); absent inside another part. */
  readonly record?: Recorder;
}

/** Records the values inside one application, given at their full `LayerCtx.path` (each recorder knows where its application starts). */
export interface Recorder {
  put(path: readonly string[], v: Val | (() => Val)): void;
}

/** Records `v` at the layer's own path (plus `suffix`: a value it names) in its application, if anything records. */
export function record(ctx: LayerCtx, v: Val | (() => Val), ...suffix: string[]): void {
  ctx.record?.put([...ctx.path, ...suffix], v);
}

/** The dotted name of a layer: owner and path. */
export function layerName(ctx: Pick<LayerCtx, "owner" | "path">): string {
  return [ctx.owner ?? "", ...ctx.path].filter((s) => s !== "").join(".");
}

/** A context one level deeper. */
export function child(ctx: LayerCtx, segment: string | number): LayerCtx {
  return { ...ctx, path: [...ctx.path, String(segment)] };
}
