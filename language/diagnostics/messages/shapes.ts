import type { MessageTemplate } from "../template.js";

/** RC4xx: tensor shapes. */
export const shapeMessages = {
  layerInput: { code: "RC401", severity: "error", text: "{layer} expects {expected}, but {origin} is {actual}" },
  partInputMismatch: { code: "RC402", severity: "error", text: "{part} expects input {expected} (from its first use), but {origin} produces {actual}" },
  operandShapes: { code: "RC403", severity: "error", text: "cannot {op} values of shapes {left} and {right}" },
  patchDivides: { code: "RC404", severity: "error", text: "patch size {size} does not divide the image size {height}x{width}" },
  notSquare: { code: "RC405", severity: "error", text: "unpatchify needs a square number of patches, got {count}" },
  headsDivide: { code: "RC406", severity: "error", text: "attention with {heads} heads needs a feature size divisible by {heads}, got {dim}" },
  reshapeCount: { code: "RC407", severity: "error", text: "cannot reshape {actual} ({count} elements) to {target} ({targetCount} elements)" },
  objectiveShapes: { code: "RC408", severity: "error", text: "{objective} needs {expected}, got {actual}" },
  classCount: { code: "RC409", severity: "error", text: "{objective} gets logits for {actual} classes, but the labels have {expected} classes" },
  lossNotScalar: { code: "RC410", severity: "error", text: "loss '{name}' must be a scalar, but it is {actual}; losses are computed by objectives such as mse(...)" },
  emptyOutput: { code: "RC411", severity: "error", text: "{layer} would produce an empty output from {actual}" },
  concatShapes: { code: "RC412", severity: "error", text: "concat needs values that agree on every axis but {axis}, got {shapes}" },
  similarityShapes: { code: "RC413", severity: "error", text: "similarity needs [D] and [D] or [n, D] and [m, D], got {left} and {right}" },
  vocabTooSmall: { code: "RC414", severity: "error", text: "{layer} has {vocab} rows, but {origin} holds token ids up to {max}" },
  maskPositions: { code: "RC415", severity: "error", text: "loss '{name}' is restricted to the positions of mask '{mask}' {maskShape}, but {objective} compares positions {actual}" },
  axisRange: { code: "RC416", severity: "error", text: "axis {axis} is out of range for a value of rank {rank}" },
  sequenceTooLong: { code: "RC417", severity: "error", text: "{layer} has a table of {length} positions, but the sequence is {actual} long" },
  channelIndex: { code: "RC418", severity: "error", text: "mask 'channels' keeps channel {channel}, but the value has {count} channels (0..{max})" },
  shapeTooLarge: {
    code: "RC419",
    severity: "error",
    text: "{construct} would be {shape}, {count} numbers per example: more than repr represents exactly (2^53 - 1 numbers, dimensions up to 2^31 - 1)",
  },
  noBatchAxis: { code: "RC450", severity: "error", text: "{layer} over 'batch' needs a value with one row per example, but this one is already a statistic of the batch" },
  axisTwice: { code: "RC451", severity: "error", text: "axis {axis} is listed twice" },
  needsExamples: { code: "RC452", severity: "error", text: "{construct} needs one row per example, but {origin} is a statistic of the batch (reduced over 'batch')" },
  paramsTooLarge: { code: "RC420", severity: "error", text: "{construct} would have {count} parameters, more than repr counts exactly (2^53 - 1)" },
} satisfies Record<string, MessageTemplate>;
