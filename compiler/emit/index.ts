/** Emitting a compiled model as a TypeScript module. */
export { emitModule } from "./module.js";
export { describeModule } from "./describe.js";
export type { EmitOptions, ModuleDescription, ClassDescription, MethodDescription, CallMethod, TrainingMethod, DocDescription, ArrayType } from "./describe.js";
export { printModule } from "./print.js";
export { classNameFor, safeIdentifier, uniqueIdentifiers, pascalCase } from "./names.js";
export { stringLiteral } from "./literals.js";
