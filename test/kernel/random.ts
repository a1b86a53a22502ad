/**
 * Random IR graphs with several outputs, for the kernel-graph and backend
 * property tests: the random graphs of the autodiff tests, their gradients,
 * and a few intermediate nodes as extra outputs.
 */
import { grad } from "../../compiler/autodiff/grad.js";
import type { Graph, Node } from "../../runtime/ir/node.js";
import { randomFeeds, rng } from "../autodiff/fd.js";
import { buildGraph, type GraphSpec } from "../autodiff/random-graph.js";

/** A random graph with several outputs: the loss, the gradients of every leaf, and a few intermediate nodes. */
export function randomGraph(spec: GraphSpec, extra: number): { graph: Graph; feeds: ReturnType<typeof randomFeeds>; nodes: readonly Node[] } {
  const { b, loss, leaves } = buildGraph(spec);
  const grads = grad(b, loss, leaves);
  const nodes = b.nodes;
  const outputs: Record<string, Node> = { loss };
  grads.forEach((g, i) => (outputs[`grad_x${i}`] = g));
  for (let i = 0; i < 3; i++) outputs[`extra${i}`] = nodes[(extra * (i + 7)) % nodes.length]!;
  return { graph: b.graph(outputs), nodes, feeds: randomFeeds(leaves, rng(spec.seed ^ 0x5eed)) };
}

