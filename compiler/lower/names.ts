/**
 * Layer paths inside a part, as spec/checkpoints.md ("Parameter names") fixes
 * them. The checker owns the rules (check/layer-paths.ts), since paths are
 * also written in programs (`freeze f.0..2`, `tied(f.2)`, `f(x).2.1.weights`,
 * spec/paths.md); lowering and the parameter declaration walk follow them.
 */
export { bodyLayers, isSequentialBody, type BodyLayer } from "../check/layer-paths.js";
