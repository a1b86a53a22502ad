/**
 * Tied weights (spec/paths.md): a layer that uses the transpose of another
 * layer's weight — a tied autoencoder's decoder, a language model's output
 * layer tied to its embedding. It owns no tensor of its own.
 */
import type { LayerDef } from "./spec.js";

/** `tied(f.2)`: the transpose of the weight of a dense, classifier or embedding layer; the checker resolves it. */
const tied: LayerDef = {
  category: "layer",
  name: "tied",
  doc: "The transpose of another layer's weight: dense [..., units] → [..., in], embedding [..., dim] → [..., vocab]. No tensors of its own.",
  params: [{ name: "of", type: { kind: "path" }, doc: "The layer whose weight it uses: a part, or a layer inside one by path (f.2)." }],
  ties: true,
  rowwise: true,
  shape: (input) => input,
  paramCount: () => 0,
};

/** The tied layer. */
export const tiedLayers: readonly LayerDef[] = [tied];
