/**
 * Applying a layer to a value of a known type: runs the layer's shape rule,
 * counts its parameters and builds the resolved layer node. A part records its
 * first application; later ones must be compatible with it.
 */
import type { Span } from "../../language/ast.js";
import type { MessageArgs, RelatedSpan } from "../../language/diagnostics/diagnostic.js";
import { messages } from "../../language/diagnostics/messages.js";
import { toArgs } from "./arg-values.js";
import { isFailure, type BoundArgs, type LayerArg, type ShapeFailure } from "../builtins/spec.js";
import { instantiateBlock } from "./blocks.js";
import { MAX_LAYERS } from "./env.js";
import { applyTeacher } from "./teacher.js";
import { applyTied } from "./tied.js";
import type { Applied, Evaluator, Typed } from "./evaluator.js";
import type { LayerNode, Location } from "./program.js";
import { describeType, elementCount, formatShape, sameShape, shapeFits, type TensorType } from "./types.js";
import { describeLayer, type LayerValue, type PartState } from "./values.js";

function within(location: Location, site: Location): boolean {
  return location.source === site.source && location.span.start >= site.span.start && location.span.end <= site.span.end;
}

/** Reports a rule's refusal at the argument at fault (or the layer), noting where it was applied. */
export function reportFailure(
  ev: Evaluator,
  failure: ShapeFailure,
  defaults: MessageArgs,
  location: Location,
  argSpans: ReadonlyMap<string, Span>,
  site: Location | null,
  origin?: string,
): void {
  const argSpan = failure.arg ? argSpans.get(failure.arg) : undefined;
  const at = argSpan ? { source: location.source, span: argSpan } : location;
  const related: RelatedSpan[] = [];
  if (site && !within(location, site)) {
    related.push({ source: site.source, span: site.span, message: `applied here${origin ? ` to ${origin}` : ""}` });
  }
  // A fix on an argument shows the argument as written, with the layer to apply after it.
  const help = [...(failure.help ?? [])];
  for (const fix of failure.fixes ?? []) {
    const span = argSpans.get(fix.arg);
    if (span) help.push(`write '${location.source.slice(span)} -> ${fix.then}'`);
  }
  ev.reportAt(failure.failure, at, { ...defaults, ...failure.args }, { notes: failure.notes ?? [], related, help });
}

/**
 * Applies any layer; `within` names the part it belongs to, for messages.
 *
 * Layers nest (parts in parts, blocks in blocks), so this function, the ones
 * it dispatches to and `applyPart` recurse once per level of nesting: they
 * are kept small, each with few locals, so that deep nesting fits the stack
 * (see `MAX_NESTING` in env.ts).
 */
export function applyLayer(ev: Evaluator, layer: LayerValue, x: Typed, site: Location, within: string | null): Applied | null {
  switch (layer.kind) {
    case "builtin":
      return applyBuiltin(ev, layer, x, site, within);
    case "sequence":
      return applySequence(ev, layer, x, site, within);
    case "block":
      // The block's own call is the clearest "use" to point at (`mlp(256, 10)`).
      return instantiateBlock(ev, layer, x, layer.location, applyLayer);
    case "part":
      return partNode(layer, x, applyPart(ev, layer.part, x, site));
  }
}

/** Layers one after the other. */
function applySequence(ev: Evaluator, layer: Extract<LayerValue, { kind: "sequence" }>, x: Typed, site: Location, within: string | null): Applied | null {
  const nodes: LayerNode[] = [];
  let current = x;
  for (const l of layer.layers) {
    // A part in a sequence goes straight to applyPart: one stack frame less per level of parts in parts.
    const r = l.kind === "part" ? partNode(l, current, applyPart(ev, l.part, current, site)) : applyLayer(ev, l, current, site, within);
    if (!r) return null;
    nodes.push(r.node);
    current = { type: r.output, origin: `the output of ${describeLayer(l)}` };
  }
  return sequenceNode(layer, nodes, x, current);
}

function sequenceNode(layer: Extract<LayerValue, { kind: "sequence" }>, nodes: LayerNode[], x: Typed, last: Typed): Applied {
  const params = nodes.reduce((sum, n) => sum + n.params, 0);
  const names = layer.names ? { names: layer.names } : {};
  return { node: { kind: "sequence", layers: nodes, input: x.type, output: last.type, params, location: layer.location, ...names }, output: last.type };
}

/** A use of a part inside a layer: the part by name (its own node is its first application). */
function partNode(layer: Extract<LayerValue, { kind: "part" }>, x: Typed, r: Applied | null): Applied | null {
  if (!r) return null;
  return { node: { kind: "part", name: layer.part.decl.name.text, input: x.type, output: r.output, params: 0, location: layer.location }, output: r.output };
}

function applyBuiltin(ev: Evaluator, layer: Extract<LayerValue, { kind: "builtin" }>, x: Typed, site: Location, within: string | null): Applied | null {
  const def = layer.def;
  const label = within ? `${def.name} in ${within}` : def.name;
  const relatedSite = (l: Location): RelatedSpan[] =>
    withinSite(l, site) ? [] : [{ source: site.source, span: site.span, message: `applied here to ${x.origin}` }];
  const want = def.accepts ?? "f32";
  if (x.type.dtype !== want) {
    const notes =
      want === "f32" && x.type.dtype === "i32"
        ? ["integer ids become vectors through an embedding first, e.g. embedding(vocab: ..., dim: ...)"]
        : want === "i32"
          ? ["embedding looks up integer ids; float features go through dense"]
          : [];
    ev.reportAt(messages.dtypeMismatch, layer.location, { construct: label, expected: want === "f32" ? "f32 values" : "token ids (i32)", origin: x.origin, actual: describeType(x.type) }, { notes, related: relatedSite(layer.location) });
    return null;
  }
  for (const v of Object.values(layer.args)) {
    if (typeof v === "object" && v !== null && "kind" in v && v.kind === "tensor" && v.graph !== ev.graph) {
      ev.reportAt(messages.valueFromOtherScope, layer.location, { construct: label, origin: v.origin, block: ev.sites[ev.sites.length - 1]?.block ?? "?" });
      return null;
    }
  }
  if (def.repeats) return applyRepeat(ev, layer, x, site, within);
  if (def.follows) return applyTeacher(ev, layer, x, site, within, applyLayer);
  if (def.ties) return applyTied(ev, layer, x, site);
  if (!ev.env.makeLayer(layer.location, ev.sites)) return null;
  const out = def.shape(x.type, layer.args);
  if (isFailure(out)) {
    reportFailure(ev, out, { layer: label, origin: x.origin, actual: describeType(x.type) }, layer.location, layer.argSpans, site, x.origin);
    return null;
  }
  const keepPositions =
    def.rowwise && x.type.positions !== undefined && out.shape.length === x.type.shape.length && out.shape[0] === x.type.shape[0];
  const output: TensorType = keepPositions ? { ...out, positions: x.type.positions! } : withoutPositions(out);
  const params = def.paramCount(x.type, layer.args, output);
  if (!fitsExactly(ev, label, layer.location, output, params)) return null;
  return {
    node: { kind: "builtin", name: def.name, category: def.category, args: toArgs(layer.args), children: [], input: x.type, output, params, location: layer.location },
    output,
  };
}

/** Whether a layer's output and parameter count can be represented exactly; reports RC419 or RC420 when not. */
function fitsExactly(ev: Evaluator, label: string, location: Location, output: TensorType, params: number): boolean {
  if (!shapeFits(output.shape)) {
    ev.reportAt(messages.shapeTooLarge, location, { construct: `the output of ${label}`, shape: formatShape(output), count: elementCount(output.shape).toExponential(2) });
    return false;
  }
  if (!Number.isSafeInteger(params)) {
    ev.reportAt(messages.paramsTooLarge, location, { construct: label, count: params.toExponential(2) });
    return false;
  }
  return true;
}

function withinSite(l: Location, site: Location): boolean {
  return within(l, site);
}

function withoutPositions(t: TensorType): TensorType {
  if (t.positions === undefined) return t;
  const { positions: _, ...rest } = t;
  return rest;
}

/**
 * `repeat(n, layer)`: n copies applied in sequence, each with its own
 * parameters. The first copy shows how many layers one copy makes; the
 * other n - 1 are made only if they fit the program's limit (MAX_LAYERS), so
 * `repeat(1000, repeat(1000, ...))` is refused after one inner copy, not after
 * a billion.
 */
function applyRepeat(ev: Evaluator, layer: Extract<LayerValue, { kind: "builtin" }>, x: Typed, site: Location, within: string | null): Applied | null {
  const n = layer.args["n"] as number;
  const child = layer.layerArgs[(layer.args["layer"] as LayerArg).id]!;
  const children: LayerNode[] = [];
  let current = x;
  const before = ev.env.layersMade;
  for (let i = 0; i < n; i++) {
    if (i === 1 && !fitsCopies(ev, layer, n, ev.env.layersMade - before)) return null;
    const r = applyLayer(ev, child, current, site, within);
    if (!r) return null;
    children.push(r.node);
    current = { type: r.output, origin: `copy ${i + 1} of ${describeLayer(child)}` };
  }
  const args: BoundArgs = { n, layer: layer.args["layer"] ?? null };
  return {
    node: {
      kind: "builtin",
      name: "repeat",
      category: "layer",
      args: { ...toArgs(args), layer: { layer: describeLayer(child) } },
      children,
      input: x.type,
      output: current.type,
      params: children.reduce((s, c) => s + c.params, 0),
      location: layer.location,
    },
    output: current.type,
  };
}

/** Whether the n - 1 copies after the first, each making `each` layers, fit the program's limit; reports RC533 when not. */
function fitsCopies(ev: Evaluator, layer: Extract<LayerValue, { kind: "builtin" }>, n: number, each: number): boolean {
  if (ev.env.layersMade + (n - 1) * each <= MAX_LAYERS) return true;
  ev.reportAt(messages.repeatTooLarge, layer.location, {
    count: (n * each).toLocaleString("en-US"),
    n: n.toLocaleString("en-US"),
    each: each === 1 ? "1 layer" : `${each.toLocaleString("en-US")} layers`,
    limit: MAX_LAYERS.toLocaleString("en-US"),
  });
  ev.env.refuseExpansion();
  return false;
}

/**
 * Applies a model part. The first application fixes the part's weights; a
 * later one may differ only where no weight depends on it (sequence length).
 */
export function applyPart(ev: Evaluator, part: PartState, x: Typed, site: Location): Applied | null {
  part.used = true;
  const layer = part.define();
  if (!layer) return null;
  if (part.applying) {
    ev.reportAt(messages.selfReference, part.location, { name: part.decl.name.text });
    return null;
  }
  if (!ev.env.enter(site)) return null;
  part.applying = true;
  try {
    if (part.first) return applyPartAgain(ev, part, layer, x, site);
    // The first application fixes the part's weights. A sequence goes straight to applySequence (one frame less per level).
    const within = `${part.decl.role} '${part.decl.name.text}'`;
    const r = layer.kind === "sequence" ? applySequence(ev, layer, x, site, within) : applyLayer(ev, layer, x, site, within);
    if (r) part.first = { input: x.type, node: r.node, location: site };
    return r;
  } finally {
    part.applying = false;
    ev.env.leave();
  }
}

function applyPartAgain(ev: Evaluator, part: PartState, layer: LayerValue, x: Typed, site: Location): Applied | null {
  const label = `${part.decl.role} '${part.decl.name.text}'`;
  const first = part.first!;
  if (sameShape(first.input.shape, x.type.shape) && first.input.dtype === x.type.dtype && first.input.positions === x.type.positions) {
    return { node: first.node, output: first.node.output };
  }
  const again = ev.env.capture(() => applyLayer(ev, layer, x, site, label));
  const errors = again.diagnostics.filter((d) => d.severity === "error");
  if (again.result && errors.length === 0 && again.result.node.params === first.node.params) return again.result;
  ev.reportAt(
    messages.partInputMismatch,
    site,
    { part: label, expected: formatShape(first.input), origin: x.origin, actual: formatShape(x.type) },
    {
      related: [{ source: first.location.source, span: first.location.span, message: `first used here, with input ${formatShape(first.input)}` }],
      notes: errors.length > 0 ? [errors[0]!.message] : [`its parameters would change from ${first.node.params.toLocaleString("en-US")} to ${again.result?.node.params.toLocaleString("en-US") ?? "?"}`],
    },
  );
  return null;
}
