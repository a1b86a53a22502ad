import type { MessageTemplate } from "../template.js";

/** RC3xx: arguments, parameters and value types. */
export const typeMessages = {
  unknownArgument: { code: "RC301", severity: "error", text: "{callee} has no parameter '{name}'" },
  missingArgument: { code: "RC302", severity: "error", text: "{callee} needs the argument '{name}' ({expected})" },
  tooManyArguments: { code: "RC303", severity: "error", text: "{callee} takes at most {max} positional argument(s), got {actual}" },
  positionalAfterNamed: { code: "RC304", severity: "error", text: "positional argument after a named one in {callee}" },
  duplicateArgument: { code: "RC305", severity: "error", text: "{callee} got the argument '{name}' twice" },
  wrongArgumentType: { code: "RC306", severity: "error", text: "argument '{name}' of {callee} expects {expected}, got {actual}" },
  argumentOutOfRange: { code: "RC307", severity: "error", text: "argument '{name}' of {callee} must be {expected}, got {actual}" },
  unknownEnumValue: { code: "RC308", severity: "error", text: "argument '{name}' of {callee} must be one of {expected}, got '{actual}'" },
  notCallable: { code: "RC309", severity: "error", text: "{actual} cannot be called" },
  expectedLayer: { code: "RC310", severity: "error", text: "expected a layer here, got {actual}" },
  expectedValue: { code: "RC311", severity: "error", text: "expected a value (a tensor) here, got {actual}" },
  unknownParamType: { code: "RC312", severity: "error", text: "unknown parameter type '{name}'; expected one of {expected}" },
  invalidInputType: { code: "RC313", severity: "error", text: "{construct} must have a data type such as f32[1, 28, 28], label(classes: 10) or tokens(length: 64, vocab: 96), got {actual}" },
  dtypeMismatch: { code: "RC314", severity: "error", text: "{construct} expects {expected}, but {origin} is {actual}" },
  invalidOperands: { code: "RC315", severity: "error", text: "cannot apply '{op}' to {left} and {right}" },
  applyArity: { code: "RC316", severity: "error", text: "applying {construct} takes exactly one value, got {actual}" },
  labelType: { code: "RC317", severity: "error", text: "{objective} expects class labels or token ids as its second argument, got {actual}" },
  wrongPlace: { code: "RC318", severity: "error", text: "{category} '{name}' can only be used {where}" },
  invalidDimension: { code: "RC319", severity: "error", text: "tensor dimensions must be positive ints, got {actual}" },
  bareNeedsArguments: { code: "RC320", severity: "error", text: "{callee} needs arguments ({required}); call it, e.g. {example}" },
  valueFromOtherScope: { code: "RC321", severity: "error", text: "{construct} reads the value {origin}, which is not visible inside block '{block}'" },
  notIndexable: { code: "RC323", severity: "error", text: "{actual} cannot be indexed; brackets give an element type its dimensions, as in f32[1, 28, 28]" },
} satisfies Record<string, MessageTemplate>;
