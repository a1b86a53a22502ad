/**
 * Layer paths inside a part, as spec/checkpoints.md ("Parameter names") fixes
 * them: a pipe numbers its stages, `repeat` numbers its copies, a block adds
 * nothing itself; a sequential block body is its expression, and a data-flow
 * body numbers the layers written in its statements in the order they appear
 * in the text. Lowering and the parameter declaration walk both use these.
 */
import type { ApplyNode, BlockNode, Location } from "../check/program.js";

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
