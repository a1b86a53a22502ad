/**
 * A model being lowered: its graph in two worlds — `masked` (masks drawn,
 * views augmented: what losses see) and `plain` (masks and views off: what
 * the prediction sees) — and what its layers ask of it: parts (with replaced
 * heads and per-part modes), masks, views and block bodies.
 */
import type { ApplyNode, BlockNode, CheckedModel, CheckedPart, LayerNode, MaskNode, NodeId, ViewsNode } from "../check/program.js";
import { coveredBy } from "../check/frozen-layers.js";
import { LowerError, layerName, record, type LayerCtx, type Recorder, type LoweredMask, type Mode, type ModelScope, type Session, type Val, type ValueScope, type World } from "./context.js";
import { GraphLowerer } from "./graph.js";
import { layerTask } from "./layers.js";
import { lowerMask, unmaskedInput } from "./masks.js";
import { bodyLayers } from "./names.js";
import { nodeArg } from "./rule.js";
import { run, type Task } from "./task.js";
import { augmentOptions, augmentView } from "./views.js";

/** How the parts of a model run in one step. */
export interface PartSettings {
  /** The step's mode: `eval` runs every layer in inference mode. */
  readonly mode: Mode;
  /** Frozen parts run in inference mode, unless `partModes` says otherwise. */
  readonly frozen: ReadonlySet<string>;
  /** Per-part modes (`freeze f { train_mode: true }`, `unfreeze f { train_mode: false }`). */
  readonly partModes: ReadonlyMap<string, Mode>;
  /** Heads replaced by `replace W with ...`: their new layers. */
  readonly replaced: ReadonlyMap<string, LayerNode>;
}

/** The model, its worlds and its memo of masks and views. */
export class ModelLowerer implements ModelScope {
  readonly worlds: Readonly<Record<World, GraphLowerer>>;
  private readonly parts: ReadonlyMap<string, CheckedPart>;
  private readonly applications = new Map<NodeId, number>();
  private readonly masks = new Map<string, LoweredMask>();
  private readonly views = new Map<string, Val>();

  constructor(
    readonly s: Session,
    readonly model: CheckedModel,
    readonly settings: PartSettings,
  ) {
    this.parts = new Map(model.parts.map((p) => [p.name, p]));
    const counts = new Map<string, number>();
    for (const n of model.graph.nodes) {
      if (n.op !== "apply" || n.part === null) continue;
      const k = counts.get(n.part) ?? 0;
      this.applications.set(n.id, k);
      counts.set(n.part, k + 1);
    }
    const world = (w: World): GraphLowerer =>
      new GraphLowerer(s, model.graph, {
        input: (n) => ({ x: s.dataInput(n.name, [s.batch, ...n.type.shape], n.type.dtype === "i32" ? "i32" : "f32"), pos: null }),
        apply: (n, x, scope) => this.applyNode(n, x, scope, w),
        mask: (n) => this.mask(n.id, w),
        view: (n, field) => this.view(n, field, w),
      });
    this.worlds = { masked: world("masked"), plain: world("plain") };
  }

  /** The mode a part runs in this step. */
  partMode(name: string): Mode {
    if (this.settings.mode === "eval") return "eval";
    return this.settings.partModes.get(name) ?? (this.settings.frozen.has(name) ? "eval" : "train");
  }

  /** The mode of a layer inside a part: that of the frozen layer around it (spec/paths.md), else the part's. */
  layerMode(ctx: LayerCtx): Mode {
    if (this.settings.mode === "eval" || ctx.teacher || ctx.owner === null) return ctx.mode;
    const name = layerName(ctx);
    let around: string | null = null;
    for (const f of this.settings.frozen) if (f.includes(".") && coveredBy(name, f) && (around === null || f.length > around.length)) around = f;
    return around === null ? ctx.mode : (this.settings.partModes.get(around) ?? "eval");
  }

  /** The layer a part computes this step (its replacement, if any) and its mode. */
  part(name: string): { layer: LayerNode; mode: Mode } {
    const layer = this.settings.replaced.get(name) ?? this.parts.get(name)?.layer ?? null;
    if (!layer) throw new LowerError(`part '${name}' is never applied, so its shapes are unknown`);
    return { layer, mode: this.partMode(name) };
  }

  /** Applies part `name` to `x` as its `index`-th application (0-based; the tag tells streams apart). */
  applyPart(name: string, x: Val, index: number, world: World, scope: ValueScope = this.worlds[world]): Val {
    return run(this.applyPartTask(name, x, index, world, scope));
  }

  /** `applyPart` as a task (task.ts). */
  applyPartTask(name: string, x: Val, index: number, world: World, scope: ValueScope = this.worlds[world]): Task<Val> {
    const { layer, mode } = this.part(name);
    const ctx: LayerCtx = { s: this.s, owner: name, path: [], mode, tag: index > 0 ? `@${index + 1}` : "", world, scope, model: this };
    return layerTask(ctx, layer, x);
  }

  /** The index of a graph node among the applications of its part. */
  applicationIndex(id: NodeId): number {
    return this.applications.get(id) ?? 0;
  }

  private *applyNode(n: ApplyNode, x: Val, scope: GraphLowerer, world: World): Task<Val> {
    // A layer sees examples: a statistic of the batch goes through it as a batch of one.
    if (!this.model.graph.nodes[n.input]!.type.batched) {
      const y = ((yield this.applyLayerNode(n, { x: this.s.b.unsqueeze(x.x, 0), pos: null }, scope, world)) as Val).x;
      return { x: n.type.batched ? y : this.s.b.squeeze(y, 0), pos: null };
    }
    return (yield this.applyLayerNode(n, x, scope, world)) as Val;
  }

  private applyLayerNode(n: ApplyNode, x: Val, scope: GraphLowerer, world: World): Task<Val> {
    if (n.part !== null) {
      const { layer, mode } = this.part(n.part);
      const index = this.applicationIndex(n.id);
      const ctx: LayerCtx = { s: this.s, owner: n.part, path: [], mode, tag: index > 0 ? `@${index + 1}` : "", world, scope, model: this, record: scope.recorder(n.id, 0) };
      return layerTask(ctx, layer, x);
    }
    // A parameter-free layer written in a value (`x -> dropout(0.1)`): named by its node for streams.
    const ctx: LayerCtx = { s: this.s, owner: null, path: [`#${n.id}`], mode: this.settings.mode, tag: "", world, scope, model: this, record: scope.recorder(n.id, 1) };
    return layerTask(ctx, n.layer, x);
  }

  /** A mask of the model in a world: drawn once per step; with masks off its input is the unmasked form. */
  mask(id: NodeId, world: World): LoweredMask {
    const node = this.model.graph.nodes[id];
    if (node?.op !== "mask") throw new Error(`internal: node ${id} is not a mask`);
    const key = `${world}:${id}`;
    let m = this.masks.get(key);
    if (m) return m;
    if (world === "masked") m = lowerMask(this.s, node as MaskNode, this.worlds.masked.value(node.input));
    else {
      const on = this.mask(id, "masked");
      m = { ...on, input: unmaskedInput(this.s, node as MaskNode, this.worlds.plain.value(node.input), on), restore: null };
    }
    this.masks.set(key, m);
    return m;
  }

  /** One view of a `views` member: augmented in the masked world, the value itself in the plain one. */
  private view(node: ViewsNode, field: string, world: World): Val {
    if (world === "plain") return this.worlds.plain.value(node.input);
    const key = `${node.id}:${field}`;
    let v = this.views.get(key);
    if (!v) {
      const name = node.names[field === "second" ? 1 : 0];
      const source = this.worlds.masked.value(node.input);
      v = { x: augmentView(this.s, source.x, augmentOptions(node.args), name), pos: null };
      this.views.set(key, v);
    }
    return v;
  }

  /** A block applied to `x`: its body lowered as a graph of its own, layers named by `bodyLayers`. */
  block(ctx: LayerCtx, node: BlockNode, x: Val): Task<Val> {
    const segments = new Map(bodyLayers(node).map((l) => [l.node.id, l.segments]));
    const body: GraphLowerer = new GraphLowerer(this.s, node.graph, {
      input: (n) => {
        if (n.id === 0) return x;
        const outer = nodeArg(node, n.name);
        if (outer === null) throw new LowerError(`block '${node.name}' was given no value for its input '${n.name}'`);
        return ctx.scope.value(outer);
      },
      apply: (n, v, scope): Task<Val> => {
        const path = [...ctx.path, ...(segments.get(n.id) ?? [])];
        // What the layer records goes to the application outside, and to this body's own inner values.
        return layerTask({ ...ctx, path, scope, record: both(ctx.record, body.recorder(n.id, path.length)) }, n.layer, v);
      },
      mask: () => {
        throw new Error("internal: a mask inside a block body");
      },
      view: () => {
        throw new Error("internal: views inside a block body");
      },
    });
    // A data-flow body's inputs and lets are readable by path from outside, lowered only when asked.
    for (const [name, id] of Object.entries(node.values ?? {})) record(ctx, () => body.value(id), name);
    return body.valueTask(node.result);
  }

  /** The applications of a part in the model graph, in order. */
  applicationsOf(part: string): ApplyNode[] {
    return this.model.graph.nodes.filter((n): n is ApplyNode => n.op === "apply" && n.part === part);
  }
}

/** A recorder that records into both, or the one that exists. */
function both(a: Recorder | undefined, b: Recorder): Recorder {
  if (!a) return b;
  return {
    put: (path, v) => {
      a.put(path, v);
      b.put(path, v);
    },
  };
}
