/**
 * Augmentations: two random views of one example, for contrastive objectives.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { describeType } from "../check/types.js";
import { BOOL, NONNEG_FLOAT, NONNEG_INT, RATE, VALUE, fail, num, tensor, type AugmentDef } from "./spec.js";

const augment: AugmentDef = {
  category: "augment",
  name: "augment",
  doc: "Random shifts, flips, Gaussian noise and dropped channels, drawn independently for each view.",
  params: [
    { name: "x", type: VALUE, doc: "The value to augment." },
    { name: "shift", type: NONNEG_INT, default: 0, doc: "Largest shift in pixels, each way." },
    { name: "flip", type: BOOL, default: false, doc: "Whether to flip left-right at random." },
    { name: "noise", type: NONNEG_FLOAT, default: 0, doc: "Standard deviation of added Gaussian noise." },
    { name: "channel_drop", type: RATE, default: 0, doc: "Probability of zeroing each channel." },
  ],
  check(x, args) {
    const v = tensor(args, "x");
    if (x.dtype !== "f32") {
      return fail(messages.dtypeMismatch, { construct: "augment", expected: "f32 values", origin: v.origin, actual: describeType(x) }, { arg: "x" });
    }
    const spatial = num(args, "shift") > 0 || args["flip"] === true;
    if ((spatial || num(args, "channel_drop") > 0) && x.shape.length !== 3) {
      return fail(messages.layerInput, { layer: "augment with shift, flip or channel_drop", expected: "an image [C, H, W]", origin: v.origin, actual: describeType(x) }, { arg: "x" });
    }
    if (spatial && num(args, "shift") >= Math.min(x.shape[1]!, x.shape[2]!)) {
      return fail(messages.argumentOutOfRange, { name: "shift", callee: "augment", expected: `smaller than the image (${x.shape[1]}x${x.shape[2]})`, actual: num(args, "shift") }, { arg: "shift" });
    }
    return null;
  },
};

/** The augmentations. */
export const augments: readonly AugmentDef[] = [augment];
