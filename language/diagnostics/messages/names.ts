import type { MessageTemplate } from "../template.js";

/** RC2xx: name resolution and imports. */
export const nameMessages = {
  unknownName: { code: "RC201", severity: "error", text: "unknown name '{name}'" },
  duplicateDefinition: { code: "RC202", severity: "error", text: "'{name}' is already defined in this {scope}" },
  importCycle: { code: "RC203", severity: "error", text: "importing '{path}' forms an import cycle" },
  importNotFound: { code: "RC204", severity: "error", text: "cannot find the file '{path}' (looked for {resolved})" },
  importedNameMissing: { code: "RC205", severity: "error", text: "'{path}' does not declare '{name}'" },
  shadowsBuiltin: { code: "RC206", severity: "error", text: "'{name}' is the name of a {category}; a declaration cannot reuse it" },
  selfReference: { code: "RC207", severity: "error", text: "'{name}' is defined in terms of itself" },
  unknownMember: { code: "RC208", severity: "error", text: "{construct} has no member '{member}'; it has {members}" },
  unknownPart: { code: "RC209", severity: "error", text: "model '{model}' has no part '{name}'" },
  unknownModel: { code: "RC210", severity: "error", text: "'{name}' is not a model" },
  notData: { code: "RC211", severity: "error", text: "{step} expects a data set split such as 'digits.train', got {actual}" },
  recursiveBlock: { code: "RC212", severity: "error", text: "block '{name}' uses itself, so it would never end" },
  importedPipeline: { code: "RC213", severity: "error", text: "'{name}' in '{path}' is a pipeline, and pipelines cannot be imported: a pipeline runs from the file that declares it" },
  applicationTooDeep: {
    code: "RC214",
    severity: "error",
    text: "parts and blocks are applied inside one another {levels} levels deep here, deeper than repr can check",
  },
  importOutsideRoot: {
    code: "RC230",
    severity: "error",
    text: "'{path}' leads outside the project folder '{root}' (to '{real}'); imports stay inside it unless repr runs with --allow-import-outside",
  },
  noSuchLayer: { code: "RC240", severity: "error", text: "'{target}' names no layer: {why}" },
  namedBlockOutput: { code: "RC241", severity: "error", text: "block '{block}' names its output '{name}'; only a model's outputs have names" },
  stageNameOnValue: { code: "RC242", severity: "error", text: "'as {name}' names a stage of a pipe of layers; a value's pipe is read by stage number" },
} satisfies Record<string, MessageTemplate>;
