/**
 * Checking a tied layer, `tied(f.2)` (spec/paths.md): the path must name a
 * dense, classifier or embedding layer of a part that was applied, so that
 * its weight's shape is known; the tied layer maps what that layer makes
 * back to what it takes: dense `[..., units] → [..., in]`, embedding
 * `[..., dim] → [..., vocab]` (scores over the vocabulary).
 */
import { messages } from "../../language/diagnostics/messages.js";
import type { PathArg } from "../builtins/spec.js";
import type { Applied, Evaluator, Typed } from "./evaluator.js";
import { describeSegments, layerAtPath } from "./layer-paths.js";
import type { Location } from "./program.js";
import { describeType, type TensorType } from "./types.js";
import type { LayerValue } from "./values.js";

/** The layers whose weight can be tied, and what the weight maps. */
const TIEABLE = new Set(["dense", "classifier", "embedding"]);

/** Applies `tied(of)` to `x`. */
export function applyTied(ev: Evaluator, layer: Extract<LayerValue, { kind: "builtin" }>, x: Typed, site: Location): Applied | null {
  const of = layer.args["of"] as PathArg;
  const text = [of.part, ...of.segments].join(".");
  const at = layer.argSpans.get("of");
  const where = at ? ev.loc(at) : layer.location;
  const binding = ev.scope.lookup(of.part)?.get(where.span);
  const part = binding?.kind === "layer" && binding.layer.kind === "part" ? binding.layer.part : null;
  if (!part) return null;
  part.used = true;
  const first = part.first;
  if (!first) {
    ev.reportAt(messages.tiedBeforeApplied, where, { of: text, part: `${part.decl.role} '${part.decl.name.text}'` }, {
      notes: ["a tied layer's shapes are those of the layer it ties to, which its part's first application fixes: apply the part first, as in g(f(x))"],
    });
    return null;
  }
  const found = layerAtPath(first.node, of.segments);
  if ("at" in found) {
    ev.reportAt(messages.noSuchLayer, where, { target: text, why: `'${[of.part, ...of.segments.slice(0, found.at)].join(".")}' ${describeSegments(found.known)}` });
    return null;
  }
  const target = found.node;
  if (target.kind !== "builtin" || !TIEABLE.has(target.name)) {
    const actual = target.kind === "builtin" ? target.name : target.kind === "part" ? `the part '${target.name}'` : target.kind === "block" ? `block '${target.name}'` : "a pipe";
    ev.reportAt(messages.tiedNotLinear, where, { of: text, actual });
    return null;
  }
  // dense and classifier store [out, in] and map in → out; embedding stores [vocab, dim] and maps ids → dim.
  const embedding = target.name === "embedding";
  const outer = embedding ? (target.args["dim"] as number) : target.output.shape[target.output.shape.length - 1]!;
  const inner = embedding ? (target.args["vocab"] as number) : target.input.shape[target.input.shape.length - 1]!;
  const last = x.type.shape[x.type.shape.length - 1];
  if (x.type.dtype !== "f32" || last !== outer) {
    const expected = `f32[..., ${outer}] (what '${text}' makes)`;
    ev.reportAt(messages.layerInput, layer.location, { layer: `tied(${text})`, expected, origin: x.origin, actual: describeType(x.type) }, {
      related: site.span === layer.location.span ? [] : [{ source: site.source, span: site.span, message: `applied here to ${x.origin}` }],
    });
    return null;
  }
  const output: TensorType = { ...x.type, shape: [...x.type.shape.slice(0, -1), inner] };
  return {
    node: {
      kind: "builtin",
      name: "tied",
      category: "layer",
      args: { of: text, part: of.part, path: [...found.segments], layer: target.name },
      children: [],
      input: x.type,
      output,
      params: 0,
      location: layer.location,
    },
    output,
  };
}
