/**
 * Two-view methods without negatives (BYOL, SimSiam, MoCo, DINO): a value
 * whose gradient is stopped, and a momentum teacher that follows parts as an
 * exponential moving average of their weights (spec/teachers.md).
 */
import { LAYER, tensor, type FunctionDef, type LayerDef } from "./spec.js";

/** `stop_gradient(x)`: the value itself; no gradient flows back through it. */
const stopGradient: FunctionDef = {
  category: "function",
  name: "stop_gradient",
  doc: "The value itself, through which no gradient flows: what it was computed from is not trained through it.",
  params: [{ name: "x", type: { kind: "value" }, doc: "The value." }],
  result: (args) => tensor(args, "x").type,
};

/**
 * `ema(f -> g, momentum: 0.99)`: the value of a teacher part. It computes
 * what its argument computes, with tensors of its own that follow the
 * argument's parts after every update; the checker applies the argument.
 */
const ema: LayerDef = {
  category: "layer",
  name: "ema",
  doc: "A momentum teacher: the parts it names, with weights of its own that follow theirs as an exponential moving average after every update.",
  params: [
    { name: "of", type: LAYER, doc: "The parts to follow, by name, or a pipe of them (and of layers without parameters)." },
    { name: "momentum", type: { kind: "float", min: 0, max: 1, openMax: true }, default: 0.99, doc: "m in t ← m·t + (1 − m)·s, in [0, 1)." },
  ],
  follows: true,
  shape: (input) => input,
  paramCount: () => 0,
};

/** The value function and the layer of teachers. */
export const teacherBuiltins: readonly (FunctionDef | LayerDef)[] = [stopGradient, ema];
