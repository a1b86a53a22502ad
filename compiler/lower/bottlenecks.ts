/**
 * Bottlenecks (spec/bottlenecks.md): a dense projection `u = x·Wᵀ + b` to
 * `dim` features, then
 *
 * - `plain`: z = u;
 * - `noisy`: z = u + sigma·ε in training mode (ε from the stream `noise/<part>`);
 * - `variational`: μ and log σ² from two projections; z = μ + σ⊙ε in training
 *   mode (the reparameterization trick), μ in inference mode; the objective
 *   gains beta·KL(N(μ, σ²) ‖ N(0, I)), summed over the code and averaged over
 *   the batch;
 * - `sparse`: z = u; the objective gains l1·Σ|z|, averaged over the batch;
 * - `normalized`: z = u / max(‖u‖₂, 1e−12).
 *
 * Terms are added only in training mode, once per application lowered while
 * the objective is lowered (spec/bottlenecks.md, "When the extra term is added").
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { layerName, type LayerCtx } from "./context.js";
import { l2Normalize } from "./activations.js";
import { denseParams } from "./layers-dense.js";
import { linear } from "./ops.js";
import { lastDim, numArg, type LayerRule } from "./rule.js";

/** Sums every axis but the batch (axis 0) and averages over the batch: a scalar. */
export function perExampleMean(b: IRBuilder, x: Node): Node {
  const perExample = x.shape.length > 1 ? b.sum(x, x.shape.slice(1).map((_, i) => i + 1)) : x;
  return b.mean(perExample);
}

/** KL(N(μ, σ²) ‖ N(0, I)) = ½ Σ (μ² + σ² − log σ² − 1) per example, averaged over the batch. */
export function gaussianKl(b: IRBuilder, mu: Node, logvar: Node): Node {
  const inner = b.sub(b.sub(b.add(b.mul(mu, mu), b.exp(logvar)), logvar), 1);
  return b.mul(perExampleMean(b, inner), 0.5);
}

/**
 * The name of a bottleneck, for its noise stream `noise/<part>` and its terms
 * (`<part>.kl`; a second application's is `<part>.kl@2`). The stream is the
 * same for every application: a part applied twice to one value gives one
 * result (spec/models.md); applied to two values it draws at each value's own
 * elements.
 */
function site(ctx: LayerCtx): string {
  return layerName(ctx);
}

const projection: LayerRule["params"] = (node) => denseParams(lastDim(node.input.shape), numArg(node, "dim"), true);

const project = (ctx: LayerCtx, x: Node, p: Parameters<LayerRule["lower"]>[3], prefix = ""): Node =>
  linear(ctx.s.b, x, p.get(`${prefix}weight`), p.get(`${prefix}bias`));

const plain: LayerRule = { params: projection, lower: (ctx, _node, x, p) => project(ctx, x.x, p) };

const noisy: LayerRule = {
  params: projection,
  lower(ctx, node, x, p) {
    const b = ctx.s.b;
    const u = project(ctx, x.x, p);
    if (ctx.mode !== "train") return u;
    return b.add(u, b.mul(b.normal(u.shape, ctx.s.key("noise", site(ctx))), numArg(node, "sigma")));
  },
};

const variational: LayerRule = {
  params: (node) => {
    const [inF, dim] = [lastDim(node.input.shape), numArg(node, "dim")];
    return [...denseParams(inF, dim, true, "mu."), ...denseParams(inF, dim, true, "logvar.")];
  },
  lower(ctx, node, x, p) {
    const b = ctx.s.b;
    const mu = project(ctx, x.x, p, "mu.");
    if (ctx.mode !== "train") return mu;
    const logvar = project(ctx, x.x, p, "logvar.");
    const eps = b.normal(mu.shape, ctx.s.key("noise", site(ctx)));
    ctx.s.term(`${site(ctx)}.kl`, b.mul(gaussianKl(b, mu, logvar), numArg(node, "beta", 1)));
    return b.add(mu, b.mul(b.exp(b.mul(logvar, 0.5)), eps));
  },
};

const sparse: LayerRule = {
  params: projection,
  lower(ctx, node, x, p) {
    const b = ctx.s.b;
    const z = project(ctx, x.x, p);
    if (ctx.mode === "train") ctx.s.term(`${site(ctx)}.l1`, b.mul(perExampleMean(b, b.abs(z)), numArg(node, "l1")));
    return z;
  },
};

const normalized: LayerRule = {
  params: projection,
  lower: (ctx, _node, x, p) => l2Normalize(ctx.s.b, project(ctx, x.x, p), -1),
};

/** Lowerings of the bottlenecks, by name. */
export const bottleneckRules: Readonly<Record<string, LayerRule>> = { plain, noisy, variational, sparse, normalized };
