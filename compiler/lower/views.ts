/**
 * Augmented views (spec/views.md): each view of `augment(x, ...)` applies, in
 * order, a random resized crop (views-crop.ts), a shift, a flip, colour
 * jitter, grayscale and a Gaussian blur (views-colour.ts), channel drop and
 * Gaussian noise, drawn per example from its own streams `view/<view>.crop`,
 * `.shift`, `.flip`, `.jitter`, `.grayscale`, `.blur`, `.channels`, `.noise`.
 *
 * Every decision compares a uniform with a threshold quantized to 2^−24
 * (spec/random.md), so it is the same on every backend: the offset of a shift
 * by up to S pixels is S − #{t : u < q(t/(2S+1))}, t = 1..2S, uniform on
 * −S..S. Shifting and flipping gather rows and columns with computed indices;
 * pixels uncovered by a shift become 0.
 */
import type { IRBuilder } from "../../runtime/ir/builder.js";
import type { Node } from "../../runtime/ir/node.js";
import { quantizeProbability } from "../../runtime/rng/index.js";
import type { Session } from "./context.js";
import { colourJitter, gaussianBlur, randomGrayscale } from "./views-colour.js";
import { randomResizedCrop } from "./views-crop.js";

/** The options of `augment`, as the checker resolved them. */
export interface AugmentOptions {
  readonly shift: number;
  readonly flip: boolean;
  readonly noise: number;
  readonly channelDrop: number;
  /** The smallest side of a crop as a fraction; 1 is no crop. */
  readonly crop: number;
  readonly jitter: number;
  readonly grayscale: number;
  readonly blur: number;
}

/** Reads `augment`'s arguments. */
export function augmentOptions(args: Readonly<Record<string, unknown>>): AugmentOptions {
  const num = (k: string, fallback = 0): number => (typeof args[k] === "number" ? (args[k] as number) : fallback);
  return {
    shift: num("shift"),
    flip: args["flip"] === true,
    noise: num("noise"),
    channelDrop: num("channel_drop"),
    crop: num("crop", 1),
    jitter: num("jitter"),
    grayscale: num("grayscale"),
    blur: num("blur"),
  };
}

/** A per-example integer offset in −S..S (i32 [B]) from one uniform each. */
export function drawOffset(b: IRBuilder, u: Node, shift: number): Node {
  let below = b.constant(0, u.shape, "i32");
  for (let t = 1; t <= 2 * shift; t++) below = b.add(below, b.cmplt(u, quantizeProbability(t / (2 * shift + 1))));
  return b.sub(b.constant(shift, u.shape, "i32"), below);
}

/** Moves x [B, C, H, W] by a per-example offset (i32 [B]) along `axis` (2 or 3), filling with 0. */
function shiftAxis(b: IRBuilder, x: Node, offset: Node, axis: number): Node {
  const size = x.shape[axis]!;
  const source = b.sub(b.iota(x.shape, axis), b.reshape(offset, [x.shape[0]!, 1, 1, 1]));
  const inside = b.mul(b.cmplt(source, size), b.sub(1, b.cmplt(source, 0)));
  const clamped = b.maximum(b.minimum(source, size - 1), 0);
  return b.where(inside, b.gather(x, clamped, axis), 0);
}

/** Mirrors x [B, C, H, W] left to right. */
export function mirror(b: IRBuilder, x: Node): Node {
  return b.gather(x, b.sub(x.shape[3]! - 1, b.iota(x.shape, 3)), 3);
}

/** One augmented view of `x` (batch first), drawn from the streams of view `name`. */
export function augmentView(s: Session, x: Node, options: AugmentOptions, name: string): Node {
  const b = s.b;
  const batch = x.shape[0]!;
  let y = x;
  if (options.crop < 1) y = randomResizedCrop(b, y, b.uniform([batch, 4], s.key("view", `${name}.crop`)), options.crop);
  if (options.shift > 0) {
    const u = b.uniform([batch, 2], s.key("view", `${name}.shift`));
    y = shiftAxis(b, y, drawOffset(b, b.reshape(b.sliceAxis(u, 1, 0, 1), [batch]), options.shift), 2);
    y = shiftAxis(b, y, drawOffset(b, b.reshape(b.sliceAxis(u, 1, 1, 2), [batch]), options.shift), 3);
  }
  if (options.flip) {
    const u = b.uniform([batch], s.key("view", `${name}.flip`));
    y = b.where(b.reshape(b.cmplt(u, 0.5), [batch, 1, 1, 1]), mirror(b, y), y);
  }
  if (options.jitter > 0) y = colourJitter(b, y, b.uniform([batch, 3], s.key("view", `${name}.jitter`)), options.jitter);
  if (options.grayscale > 0) y = randomGrayscale(b, y, b.uniform([batch], s.key("view", `${name}.grayscale`)), options.grayscale);
  if (options.blur > 0) y = gaussianBlur(b, y, b.uniform([batch], s.key("view", `${name}.blur`)), options.blur);
  if (options.channelDrop > 0) {
    const c = y.shape[1]!;
    const u = b.uniform([batch, c], s.key("view", `${name}.channels`));
    y = b.where(b.reshape(b.cmplt(u, quantizeProbability(options.channelDrop)), [batch, c, 1, 1]), 0, y);
  }
  if (options.noise > 0) y = b.add(y, b.mul(b.normal(y.shape, s.key("view", `${name}.noise`)), options.noise));
  return y;
}
