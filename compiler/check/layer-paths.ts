/**
 * Layer paths inside a part, as spec/checkpoints.md ("Parameter names") fixes
 * them: a pipe numbers its stages, `repeat` numbers its copies, a block adds
 * nothing itself; a sequential block body is its expression, and a data-flow
 * body numbers the layers written in its statements in the order they appear
 * in the text. Lowering and the parameter declaration walk both use these,
 * and programs write them (spec/paths.md): `freeze f.0..2`, `tied(f.2)`,
 * `f(x).2.1.weights`.
 */
import type { ApplyNode, BlockNode, LayerNode, Location } from "./program.js";

function sameLocation(a: Location, b: Location): boolean {
  return a.source === b.source && a.span.start === b.span.start && a.span.end === b.span.end;
}

/**
 * True when a block's body is one layer expression (`dense(h) -> act ->
 * dense(o)`) rather than inputs, lets and an output. The checker gives a
 * sequential body one implicit input located at the block's use.
 */
export function isSequentialBody(block: BlockNode): boolean {
  const first = block.graph.nodes[0];
  return first !== undefined && first.op === "input" && sameLocation(first.location, block.location);
}

/** A layer application of a block body with the path segments it adds. */
export interface BodyLayer {
  readonly node: ApplyNode;
  readonly segments: readonly string[];
}

/**
 * The layers of a block body with their path segments: the one expression
 * of a sequential body adds none; a data-flow body numbers its applications
 * 0, 1, 2, ... by where they are written.
 */
export function bodyLayers(block: BlockNode): BodyLayer[] {
  const applies = block.graph.nodes.filter((n): n is ApplyNode => n.op === "apply");
  if (isSequentialBody(block)) return applies.map((node) => ({ node, segments: [] }));
  const ordered = [...applies].sort((a, b) => a.location.span.start - b.location.span.start || a.id - b.id);
  return ordered.map((node, i) => ({ node, segments: [String(i)] }));
}

/** A layer one level below another, with the path segment that reaches it. */
export interface SubLayer {
  readonly segment: string;
  readonly node: LayerNode;
  /** Its name in the pipe (`dense(64) as proj`), which a path may use instead of the number. */
  readonly name?: string;
}

/**
 * What a layer's path names below it, as its tensors' names count
 * (spec/checkpoints.md): a pipe's stages, `repeat`'s copies, a data-flow
 * body's layers; a block with a sequential body is its expression, so it
 * adds no level. Null for a layer with nothing inside: a built-in, or
 * another part used by name (its layers are that part's).
 */
export function subLayers(node: LayerNode): SubLayer[] | null {
  const n = throughSequential(node);
  switch (n.kind) {
    case "sequence":
      return n.layers.map((l, i) => ({ segment: String(i), node: l, ...(n.names?.[i] ? { name: n.names[i]! } : {}) }));
    case "builtin":
      return n.name === "repeat" ? n.children.map((c, i) => ({ segment: String(i), node: c })) : null;
    case "block":
      return bodyLayers(n).map((l) => ({ segment: l.segments[0]!, node: l.node.layer }));
    case "part":
      return null;
  }
}

/** The layer a block with a sequential body is (its expression), through any number of such blocks; other layers as they are. */
export function throughSequential(node: LayerNode): LayerNode {
  let n = node;
  while (n.kind === "block" && isSequentialBody(n)) {
    const body = bodyLayers(n)[0];
    if (!body) return n;
    n = body.node.layer;
  }
  return n;
}

/** Why a path does not name a layer, at which of its segments. */
export interface PathMiss {
  /** The index of the segment that fails. */
  readonly at: number;
  /** The layer the path reached before it (the part's own layer when `at` is 0). */
  readonly node: LayerNode;
  /** The segments that would have been valid there (none below a leaf). */
  readonly known: readonly string[];
}

/**
 * The layer a path names below `root` — each segment a number or a stage's
 * name — with the path in numbers, as tensors are named; or where and why
 * it names none.
 */
export function layerAtPath(root: LayerNode, path: readonly string[]): { readonly node: LayerNode; readonly segments: readonly string[] } | PathMiss {
  let node = root;
  const segments: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const below = subLayers(node) ?? [];
    const next = below.find((l) => l.segment === path[i]) ?? below.find((l) => l.name === path[i]);
    if (!next) return { at: i, node, known: below.map((l) => (l.name ? `${l.segment} (${l.name})` : l.segment)) };
    segments.push(next.segment);
    node = next.node;
  }
  return { node, segments };
}

/** How messages describe the layers below a path: `has layers 0 to 3`, `has no layers inside`. */
export function describeSegments(known: readonly string[]): string {
  if (known.length === 0) return "has no layers inside";
  if (known.length === 1) return `has only layer ${known[0]}`;
  // Named stages are listed; plain numbers as a range.
  return known.some((k) => k.includes("(")) ? `has layers ${known.join(", ")}` : `has layers ${known[0]} to ${known[known.length - 1]}`;
}
