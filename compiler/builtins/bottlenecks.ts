/**
 * Bottlenecks: the narrow code z of an autoencoder. Each projects its input's
 * last axis to `dim` and then shapes the code: adds noise, samples it, makes
 * it sparse or puts it on the unit sphere.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { withShape } from "../check/types.js";
import { NONNEG_FLOAT, POS_FLOAT, POS_INT, fail, num, type BoundArgs, type LayerDef, type ParamSpec } from "./spec.js";

const dimParam: ParamSpec = { name: "dim", type: POS_INT, doc: "Size of the code z." };

function bottleneck(
  name: string,
  doc: string,
  extra: readonly ParamSpec[],
  options: { projections?: number; regularizer?: (args: BoundArgs) => string | null } = {},
): LayerDef {
  const projections = options.projections ?? 1;
  return {
    category: "bottleneck",
    name,
    doc,
    params: [dimParam, ...extra],
    rowwise: true,
    ...(options.regularizer ? { regularizer: options.regularizer } : {}),
    shape(input, args) {
      if (input.shape.length === 0) return fail(messages.layerInput, { expected: "features [..., D]" });
      return withShape(input, [...input.shape.slice(0, -1), num(args, "dim")]);
    },
    paramCount(input, args) {
      const d = num(args, "dim");
      return projections * (input.shape[input.shape.length - 1]! * d + d);
    },
  };
}

/** The bottleneck kinds. */
export const bottlenecks: readonly LayerDef[] = [
  bottleneck("plain", "A linear projection to `dim` features.", []),
  bottleneck("noisy", "A projection plus Gaussian noise of scale `sigma` while training.", [
    { name: "sigma", type: POS_FLOAT, doc: "Standard deviation of the noise; > 0." },
  ]),
  // Two projections: the mean and the log-variance of q(z|x).
  bottleneck(
    "variational",
    "Samples z from N(μ, σ²) predicted from the input; adds beta·KL(q(z|x) ‖ N(0, I)) to the objective.",
    [{ name: "beta", type: NONNEG_FLOAT, default: 1, doc: "Weight of the KL term; >= 0." }],
    { projections: 2, regularizer: (args) => `${num(args, "beta")}·KL(q(z|x) ‖ N(0, I))` },
  ),
  bottleneck(
    "sparse",
    "A projection whose activations are pushed towards zero by an L1 penalty l1·|z|.",
    [{ name: "l1", type: NONNEG_FLOAT, doc: "Weight of the L1 penalty; >= 0." }],
    { regularizer: (args) => `${num(args, "l1")}·|z|₁` },
  ),
  bottleneck("normalized", "A projection scaled to unit L2 norm.", []),
];
