/**
 * Floating-point operations per example of a model part: the part lowered
 * alone at a batch of one (as `encode` would run it) and its IR counted.
 *
 * Counting: a matmul is 2·k per output element (a multiply and an add per
 * term), an elementwise op on floats one per output element, a reduction
 * one per input element, a scatter-add one per added element. Moving,
 * gathering, sorting, casting and drawing random numbers count nothing.
 */
import { graphNodes, type Graph } from "../../runtime/ir/node.js";
import { OPS } from "../../runtime/ir/ops.js";
import type { CheckedModel, CheckedPart } from "../../compiler/check/check.js";
import { lowerPartAlone } from "../../compiler/plan/functions.js";

const elements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The floating-point operations one run of a graph does. */
export function countFlops(graph: Graph): number {
  let total = 0;
  for (const n of graphNodes(graph)) {
    const group = OPS[n.op].group;
    switch (group) {
      case "matmul": {
        const a = n.inputs[0]!;
        total += 2 * a.shape[a.shape.length - 1]! * elements(n.shape);
        break;
      }
      case "unary":
      case "binary":
      case "ternary":
        if (n.op !== "detach" && n.inputs.some((i) => i.dtype === "f32")) total += elements(n.shape);
        break;
      case "reduce":
        if (n.inputs[0]!.dtype === "f32") total += elements(n.inputs[0]!.shape);
        break;
      case "index":
        if (n.op === "scatter_add" && n.dtype === "f32") total += elements(n.inputs[2]!.shape);
        break;
      default:
        break;
    }
  }
  return total;
}

/** A part's floating-point operations per example; null when it cannot be lowered alone (never applied, or it reads other values). */
export function partFlops(model: CheckedModel, part: CheckedPart): number | null {
  try {
    const f = lowerPartAlone(model, part, "x", 1, new Map());
    return f ? countFlops(f.graph) : null;
  } catch {
    return null;
  }
}

/** `1.2 MFLOPs`, `350 FLOPs`. */
export function formatFlops(n: number): string {
  const units: [number, string][] = [
    [1e12, "TFLOPs"],
    [1e9, "GFLOPs"],
    [1e6, "MFLOPs"],
    [1e3, "kFLOPs"],
  ];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toPrecision(3).replace(/\.?0+$/, "")} ${unit}`;
  return `${n} FLOPs`;
}
