/**
 * Augmentations: two random views of one example, for contrastive objectives.
 */
import { messages } from "../../language/diagnostics/messages.js";
import { describeType } from "../check/types.js";
import { BOOL, NONNEG_FLOAT, NONNEG_INT, RATE, VALUE, fail, num, tensor, type AugmentDef, type ParamType } from "./spec.js";

/** A fraction in [0, 1]. */
const UNIT: ParamType = { kind: "float", min: 0, max: 1 };

const augment: AugmentDef = {
  category: "augment",
  name: "augment",
  doc: "Random crops, shifts, flips, colour jitter, grayscale, blur, dropped channels and Gaussian noise, drawn independently for each view.",
  params: [
    { name: "x", type: VALUE, doc: "The value to augment." },
    { name: "shift", type: NONNEG_INT, default: 0, doc: "Largest shift in pixels, each way." },
    { name: "flip", type: BOOL, default: false, doc: "Whether to flip left-right at random." },
    { name: "noise", type: NONNEG_FLOAT, default: 0, doc: "Standard deviation of added Gaussian noise." },
    { name: "channel_drop", type: RATE, default: 0, doc: "Probability of zeroing each channel." },
    { name: "crop", type: { kind: "float", min: 0, max: 1, openMin: true }, default: 1, doc: "Smallest side of a random crop, as a fraction of the image's, resized back to the image; 1 is no crop." },
    { name: "jitter", type: UNIT, default: 0, doc: "Colour jitter: brightness, contrast and saturation each scaled by a factor in [1 − jitter, 1 + jitter]." },
    { name: "grayscale", type: UNIT, default: 0, doc: "Probability of turning the image gray." },
    { name: "blur", type: NONNEG_FLOAT, default: 0, doc: "Largest standard deviation, in pixels, of a Gaussian blur." },
  ],
  check(x, args) {
    const v = tensor(args, "x");
    if (x.dtype !== "f32") {
      return fail(messages.dtypeMismatch, { construct: "augment", expected: "f32 values", origin: v.origin, actual: describeType(x) }, { arg: "x" });
    }
    const spatial = num(args, "shift") > 0 || args["flip"] === true;
    const named = (names: readonly string[]) => names.filter((n) => (n === "crop" ? num(args, n) < 1 : num(args, n) > 0));
    const image = [...(spatial ? ["shift or flip"] : []), ...named(["channel_drop", "crop", "blur"])];
    const colour = named(["jitter", "grayscale"]);
    if ((image.length > 0 || colour.length > 0) && x.shape.length !== 3) {
      const layer = `augment with ${[...image, ...colour].join(", ")}`;
      return fail(messages.layerInput, { layer, expected: "an image [C, H, W]", origin: v.origin, actual: describeType(x) }, { arg: "x" });
    }
    // Colour needs colour channels to mix: red, green and blue, or one gray channel.
    if (colour.length > 0 && x.shape[0] !== 1 && x.shape[0] !== 3) {
      return fail(messages.layerInput, { layer: `augment with ${colour.join(" and ")}`, expected: "an image of 1 (gray) or 3 (RGB) channels", origin: v.origin, actual: describeType(x) }, { arg: colour[0]! });
    }
    if (spatial && num(args, "shift") >= Math.min(x.shape[1]!, x.shape[2]!)) {
      return fail(messages.argumentOutOfRange, { name: "shift", callee: "augment", expected: `smaller than the image (${x.shape[1]}x${x.shape[2]})`, actual: num(args, "shift") }, { arg: "shift" });
    }
    return null;
  },
};

/** The augmentations. */
export const augments: readonly AugmentDef[] = [augment];
