/**
 * Checking a momentum teacher, `part t = ema(f -> g, momentum: 0.99)`
 * (spec/teachers.md): its argument is applied like any layer, so the
 * teacher computes what it names, with the same shapes; every layer in it
 * that has parameters must be a part, whose tensors the teacher mirrors and
 * follows, and at least one of them must have learned parameters.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { toArgs } from "./arg-values.js";
import type { LayerArg } from "../builtins/spec.js";
import type { Applied, Evaluator, Typed } from "./evaluator.js";
import type { BuiltinLayerNode, CheckedPart, LayerNode, Location } from "./program.js";
import { describeLayer, type LayerValue } from "./values.js";

type Apply = (ev: Evaluator, layer: LayerValue, x: Typed, site: Location, within: string | null) => Applied | null;

/** Applies `ema(of, momentum)`; `apply` is `applyLayer` (apply.ts imports this module). */
export function applyTeacher(ev: Evaluator, layer: Extract<LayerValue, { kind: "builtin" }>, x: Typed, site: Location, within: string | null, apply: Apply): Applied | null {
  const child = layer.layerArgs[(layer.args["of"] as LayerArg).id]!;
  const r = apply(ev, child, x, site, within);
  if (!r) return null;
  const at = layer.argSpans.get("of");
  const where = at ? ev.loc(at) : layer.location;
  const own = firstWithParameters(r.node);
  if (own) {
    const text = own.location.source.slice(own.location.span);
    ev.reportAt(messages.teacherOfLayers, where, { layer: text }, {
      help: [`declare it as a part, e.g. 'part p = ${text}', and follow p by name`],
    });
    return null;
  }
  if (followedParts(child).length === 0) {
    ev.reportAt(messages.teacherFollowsNothing, where, { of: describeLayer(child) }, {
      notes: ["a teacher follows the learned weights of parts; a teacher's own weights are not learned, so it cannot be followed"],
    });
    return null;
  }
  return {
    node: {
      kind: "builtin",
      name: "ema",
      category: "layer",
      args: { ...toArgs(layer.args), of: { layer: describeLayer(child) } },
      children: [r.node],
      input: x.type,
      output: r.output,
      params: 0,
      location: layer.location,
    },
    output: r.output,
  };
}

/** The first layer in an applied tree that has parameters of its own (a part's are the part's), for messages. */
function firstWithParameters(node: LayerNode): LayerNode | null {
  if (node.params === 0) return null;
  const inner = node.kind === "builtin" ? node.children : node.kind === "sequence" ? node.layers : [];
  return inner.map(firstWithParameters).find((n) => n !== null) ?? node;
}

/**
 * The parts whose learned weights a teacher's argument reads: the parts it
 * names and those they use in turn, except teachers (whose weights are not
 * learned). With a stack of its own: parts may use parts deeply.
 */
export function followedParts(of: LayerValue): string[] {
  const found: string[] = [];
  const seen = new Set<object>();
  const stack: LayerValue[] = [of];
  while (stack.length > 0) {
    const l = stack.pop()!;
    switch (l.kind) {
      case "sequence":
        stack.push(...l.layers);
        break;
      case "builtin":
        if (!l.def.follows) stack.push(...l.layerArgs);
        break;
      case "block":
        for (const v of l.args.values()) if (v.kind === "layer") stack.push(v.layer);
        break;
      case "part": {
        if (seen.has(l.part)) break;
        seen.add(l.part);
        const layer = l.part.define();
        if (!layer || (layer.kind === "builtin" && layer.def.follows)) break;
        if ((l.part.first?.node.params ?? 0) > 0) found.push(l.part.decl.name.text);
        stack.push(layer);
        break;
      }
    }
  }
  return found;
}

/** The teacher's `ema` node, when a checked part's layer is one. */
export function teacherNode(layer: LayerNode | null): BuiltinLayerNode | null {
  return layer?.kind === "builtin" && layer.name === "ema" ? layer : null;
}

/**
 * The parts a teacher follows, in the order its layer tree names them: the
 * parts it refers to and the parts those use in turn, teachers excepted.
 */
export function followedPartsOf(node: BuiltinLayerNode, parts: ReadonlyMap<string, CheckedPart>): string[] {
  const found: string[] = [];
  const stack: LayerNode[] = [...node.children].reverse();
  while (stack.length > 0) {
    const n = stack.pop()!;
    switch (n.kind) {
      case "sequence":
        for (let i = n.layers.length - 1; i >= 0; i--) stack.push(n.layers[i]!);
        break;
      case "builtin":
        if (n.name !== "ema") for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
        // A tied layer reads another part's weight: the teacher needs a copy of that part too.
        if (n.name === "tied") stack.push({ kind: "part", name: String(n.args["part"]), input: n.input, output: n.output, params: 0, location: n.location });
        break;
      case "block":
        for (let i = n.graph.nodes.length - 1; i >= 0; i--) {
          const g = n.graph.nodes[i]!;
          if (g.op === "apply") stack.push(g.layer);
        }
        break;
      case "part": {
        const layer = parts.get(n.name)?.layer ?? null;
        if (found.includes(n.name) || !layer || teacherNode(layer)) break;
        found.push(n.name);
        stack.push(layer);
        break;
      }
    }
  }
  return found;
}
