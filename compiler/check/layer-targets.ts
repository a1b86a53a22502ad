/**
 * The layers a `freeze` or `unfreeze` target names (spec/paths.md): a whole
 * part (`f`), a layer inside it by path (`f.2`, `f.2.1`), or a range of
 * stages (`f.0..2`, the stages 0, 1 and 2). Each comes out as the paths
 * that `FrozenLayers` keeps, which are the prefixes of the tensors' names.
 */
import type { LayerTarget } from "../../language/ast.js";
import { describeSegments, layerAtPath, subLayers } from "./layer-paths.js";
import type { CheckedModel } from "./program.js";

/** A target resolved: the paths it names, or why it names none. */
export type ResolvedTarget = { readonly paths: readonly string[] } | { readonly miss: string };

/** The layers `target` names in `model`; null when its part is not a part of the model (reported elsewhere, RC209). */
export function resolveTarget(model: CheckedModel, target: LayerTarget): ResolvedTarget | null {
  const part = model.parts.find((p) => p.name === target.part.text);
  if (!part) return null;
  const segments = target.path.map((s) => s.text);
  if (segments.length === 0) return { paths: [part.name] };
  if (!part.layer) return { miss: `${part.role} '${part.name}' is never applied, so its layers are unknown` };
  const fixed = target.to ? segments.slice(0, -1) : segments;
  const found = layerAtPath(part.layer, fixed);
  if ("at" in found) {
    const where = [part.name, ...segments.slice(0, found.at)].join(".");
    return { miss: `'${where}' ${describeSegments(found.known)}` };
  }
  // Stage names become numbers: the paths are the prefixes of the tensors' names.
  const base = [part.name, ...found.segments].join(".");
  if (!target.to) return { paths: [base] };
  // A range of the stages of the layer the path reaches first: `f.0..2` is f's stages 0, 1 and 2.
  const below = subLayers(found.node) ?? [];
  const known = below.map((l) => l.segment);
  const start = segments[segments.length - 1]!;
  const first = below.find((l) => l.segment === start) ?? below.find((l) => l.name === start);
  if (!first) return { miss: `'${base}' ${describeSegments(below.map((l) => (l.name ? `${l.segment} (${l.name})` : l.segment)))}` };
  const [from, to] = [Number(first.segment), Number(target.to.text)];
  const parent = base;
  if (!(from <= to)) return { miss: `the range ${from}..${to} runs backwards` };
  const range = Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
  const missing = range.find((s) => !known.includes(s));
  if (missing !== undefined) return { miss: `'${parent}' ${describeSegments(known)}` };
  return { paths: range.map((s) => `${parent}.${s}`) };
}

/** The segments one level below a path of `model` (`f`, `f.2`), for splitting a frozen layer; null below a leaf. */
export function segmentsBelow(model: CheckedModel, path: string): string[] | null {
  const [name, ...segments] = path.split(".");
  const layer = model.parts.find((p) => p.name === name)?.layer;
  if (!layer) return null;
  const found = layerAtPath(layer, segments);
  return "at" in found ? null : ((subLayers(found.node) ?? []).map((l) => l.segment));
}
